"""Celery tasks: thin wrappers that take a job id and call a service."""

from __future__ import annotations

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded

from app import services


class JobTask(Task):
    """Marks the job failed when the hard time limit kills the worker process.

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


@shared_task(
    name="ocr.run_job",
    base=JobTask,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def run_job(job_id: str) -> None:
    """Run OCR for job ``job_id`` (a UUID string). See ``services.job_run``."""
    services.job_run(job_id=job_id)


@shared_task(name="ocr.retention_sweep", ignore_result=True)
def retention_sweep() -> None:
    """Delete jobs past ``OCR_RETENTION_DAYS`` and unreferenced files (Celery beat)."""
    from app.retention import retention_sweep as sweep

    sweep()
