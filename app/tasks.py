"""Celery tasks: thin wrappers that take an id and call a service (app.services.run)."""

from __future__ import annotations

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded

from app import services


class JobTask(Task):
    """Fails the job when the hard time limit kills the worker process running its task.

    Celery calls ``on_failure`` in the parent process for a hard time limit
    (the child was killed), so the job never stays ``processing``.
    """

    def on_failure(self, exc, task_id, args, kwargs, einfo):  # noqa: D401
        if isinstance(exc, TimeLimitExceeded) and args:
            services.job_fail(
                job_id=args[0],
                code="timeout",
                message="OCR exceeded the hard time limit and was stopped.",
            )


class PageTaskBase(Task):
    """Fails the page and its job when the hard time limit kills a page task's process."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):  # noqa: D401
        if isinstance(exc, TimeLimitExceeded) and args:
            services.page_time_limit_exceeded(page_task_id=args[0])


#: Job and page tasks: acknowledged when done, back to the queue when their process dies
#: (redelivery is bounded by OCR_MAX_ATTEMPTS), no result stored.
_OCR_TASK = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name="ocr.job", base=JobTask, **_OCR_TASK)
def job_task(job_id: str) -> None:
    """Start job ``job_id`` (a UUID string): fan its pages out and read the first
    (``services.job_start``)."""
    services.job_start(job_id=job_id)


@shared_task(name="ocr.page", base=PageTaskBase, **_OCR_TASK)
def page_task(page_task_id: int) -> None:
    """Read one page of a job (``services.page_process``; ``page_task_id``: a PageTask id)."""
    services.page_process(page_task_id=page_task_id)


@shared_task(name="ocr.run_job", base=JobTask, **_OCR_TASK)
def run_job(job_id: str) -> None:
    """The job task's name before page fan-out: messages sent by an older version
    that are still queued at an upgrade start their job as :func:`job_task` does."""
    services.job_start(job_id=job_id)


@shared_task(name="ocr.webhook_deliver", **_OCR_TASK)
def webhook_deliver(delivery_id: int) -> None:
    """Try a webhook delivery when it is due (``services.webhooks.delivery_attempt``)."""
    from app.services.webhooks import delivery_attempt

    delivery_attempt(delivery_id=delivery_id)


@shared_task(name="ocr.retention_sweep", ignore_result=True)
def retention_sweep() -> None:
    """Delete jobs past ``OCR_RETENTION_DAYS`` and unreferenced files (Celery beat)."""
    from app.retention import retention_sweep as sweep

    sweep()
