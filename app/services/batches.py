"""Batches: many documents submitted as one unit, each a job (app.models.Batch).

A batch is checked whole before anything is stored: the engine and its options once,
then every item by content (``document.inspect``) and its pages; one bad item refuses
the batch with the item named (``field`` ``items[i]``), and the daily page quota is
counted for the whole batch. Then one transaction stores the batch and its jobs.

Fairness: a batch's jobs go to the queue at most ``OCR_BATCH_WINDOW`` at a time
(:func:`batch_top_up`, after the batch is stored and whenever one of its jobs ends),
so a 500-document batch never queues ahead of other users' jobs; a small job sent
while a batch runs waits behind at most a window of the batch's jobs (the same rule
as the page window, docs/architecture.md "Page fan-out").

Status (:data:`app.models.Batch.status`): ``pending`` until a job starts
(``processing``), and when every job has ended ``failed`` if one failed, else
``done``; ``canceled`` by :func:`batch_cancel`. The end is decided under the batch
row's lock, so it is written once, and :data:`app.signals.batch_finished` is sent
once after it commits.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from app.errors import OcrError
from app.models import FINISHED_STATUSES, Batch, Job, JobStatus
from app.pipeline.options import JobOptions
from app.services.jobs import (
    JobRequest,
    check_engine_options,
    job_checked,
    job_delete,
    job_end,
    job_enqueue,
    job_store,
)

log = logging.getLogger(__name__)


def batch_create(
    *,
    owner: Any,
    items: list[JobRequest],
    options: JobOptions,
    metadata: dict[str, Any] | None = None,
    callback_url: str = "",
    item_field: str = "items",
    batch_id: Any = None,
) -> Batch:
    """Check every item, then store the batch and its jobs in one transaction.

    ``items``: one :class:`JobRequest` per document (its ``options`` are ``options``,
    shared); ``metadata``: the batch's own JSON object; ``callback_url``: where the
    ``batch.done`` webhook goes; ``batch_id``: the id the batch gets (a UUID), None
    for a new random one (:mod:`app.services.uploads`). Raises ``OcrError``:
    ``invalid`` (no item, more than ``OCR_MAX_BATCH_ITEMS``, more than
    ``OCR_MAX_BATCH_BYTES`` in all), the engine's option errors, any item's document
    error with ``field`` ``<item_field>[i]`` (0-based) and the message starting
    "Item i+1", and ``quota_exceeded`` for the batch's pages together. Nothing is
    stored when it raises.
    """
    from app.quotas import check_daily_page_quota

    if not items:
        raise OcrError("invalid", "A batch needs at least one document.", field=item_field)
    if len(items) > settings.OCR_MAX_BATCH_ITEMS:
        raise OcrError(
            "invalid",
            f"A batch holds at most {settings.OCR_MAX_BATCH_ITEMS} documents; "
            f"this one has {len(items)}.",
            field=item_field,
        )
    total = sum(len(item.data) for item in items)
    if total > settings.OCR_MAX_BATCH_BYTES:
        raise OcrError(
            "file_too_large",
            f"The batch's documents are {total:,} bytes together; the limit is "
            f"{settings.OCR_MAX_BATCH_BYTES:,} bytes.",
            field=item_field,
        )
    check_engine_options(options)
    jobs = []
    for index, item in enumerate(items):
        try:
            jobs.append(job_checked(owner=owner, request=item))
        except OcrError as exc:
            name = f" ({item.filename})" if item.filename else ""
            refused = OcrError(
                exc.code,
                f"Item {index + 1}{name}: {exc.message}",
                field=f"{item_field}[{index}]",
                http_status=exc.http_status,
            )
            refused.page = exc.page
            raise refused from None
    check_daily_page_quota(owner=owner, pages=sum(job.page_count for job in jobs))
    with transaction.atomic():
        batch = Batch.objects.create(
            **({"id": batch_id} if batch_id is not None else {}),
            owner=owner,
            job_count=len(jobs),
            engine=options.engine,
            languages=options.languages_joined,
            options=options.stored(),
            metadata=metadata or {},
            callback_url=callback_url,
        )
        for job, item in zip(jobs, items, strict=True):
            job.batch = batch
            job_store(job=job, data=item.data)
        transaction.on_commit(lambda: batch_top_up(batch_id=batch.pk))
    return batch


def batch_top_up(*, batch_id: Any) -> int:
    """Send the batch's next jobs to the queue until ``OCR_BATCH_WINDOW`` of them are
    queued or running; returns how many were sent. A job is sent once: its
    ``queued_at`` is set by a conditional ``UPDATE`` (of two top-ups racing, one sends
    it). Nothing for a canceled or finished batch."""
    if not Batch.objects.filter(pk=batch_id).exclude(status__in=FINISHED_STATUSES).exists():
        return 0
    jobs = Job.objects.filter(batch_id=batch_id)
    in_flight = jobs.filter(queued_at__isnull=False).exclude(status__in=FINISHED_STATUSES).count()
    free = settings.OCR_BATCH_WINDOW - in_flight
    if free <= 0:
        return 0
    waiting = jobs.filter(queued_at__isnull=True, status=JobStatus.PENDING).order_by(
        "created_at", "id"
    )
    sent = 0
    for job in waiting[:free]:
        if Job.objects.filter(pk=job.pk, queued_at__isnull=True).update(queued_at=timezone.now()):
            job_enqueue(job=job)
            sent += 1
    return sent


def batch_job_started(*, batch_id: Any) -> None:
    """A job of the batch started: a ``pending`` batch becomes ``processing``."""
    Batch.objects.filter(pk=batch_id, status=JobStatus.PENDING).update(status=JobStatus.PROCESSING)


def batch_job_ended(*, job_id: Any) -> None:
    """A job ended (the ``job_finished`` signal): top its batch's window up and, when
    it was the batch's last unfinished job, end the batch (``done`` or ``failed``)."""
    batch_id = Job.objects.filter(pk=job_id).values_list("batch_id", flat=True).first()
    if batch_id is None:
        return
    batch_top_up(batch_id=batch_id)
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.is_finished:
            return
        counts = Job.objects.filter(batch_id=batch_id).aggregate(
            unfinished=Count("pk", filter=~Q(status__in=FINISHED_STATUSES)),
            failed=Count("pk", filter=Q(status=JobStatus.FAILED)),
        )
        if counts["unfinished"]:
            return
        status = JobStatus.FAILED if counts["failed"] else JobStatus.DONE
        _batch_end(batch, status)


def _batch_end(batch: Batch, status: JobStatus) -> None:
    """Write the batch's end (its row locked by the caller) and send ``batch_finished``
    after the commit."""
    Batch.objects.filter(pk=batch.pk).update(status=status, finished_at=timezone.now())
    batch_id = batch.pk

    def send() -> None:
        from app.signals import batch_finished

        for receiver, outcome in batch_finished.send_robust(
            sender=Batch, batch_id=batch_id, status=str(status)
        ):
            if isinstance(outcome, Exception):
                log.error(
                    "batch %s: batch_finished receiver %r failed",
                    batch_id,
                    receiver,
                    exc_info=(type(outcome), outcome, outcome.__traceback__),
                )

    transaction.on_commit(send)


def batch_cancel(*, batch: Batch) -> Batch:
    """Cancel an unfinished batch: it becomes ``canceled`` and so does every unfinished
    job of it (``job_end``; running ones stop at their next page). Jobs already done
    stay done. Raises ``OcrError("already_finished")`` (409) for a finished batch.
    Returns the batch re-read."""
    with transaction.atomic():
        locked = Batch.objects.select_for_update().filter(pk=batch.pk).first()
        if locked is None or locked.is_finished:
            raise OcrError(
                "already_finished",
                f"The batch is {locked.status if locked else 'gone'}; it cannot be canceled.",
            )
        _batch_end(locked, JobStatus.CANCELED)
        unfinished = Job.objects.filter(batch=locked).exclude(status__in=FINISHED_STATUSES)
        for job in unfinished.only("pk", "started_at"):
            job_end(job_id=job.pk, status=JobStatus.CANCELED, started_at=job.started_at)
    return Batch.objects.get(pk=batch.pk)


def batch_delete(*, batch: Batch) -> None:
    """Delete a batch with its jobs, their pages and their stored files (each through
    :func:`job_delete`, which locks the job row first)."""
    with transaction.atomic():
        locked = Batch.objects.select_for_update().filter(pk=batch.pk).first()
        if locked is None:
            return
        for job in Job.objects.filter(batch=locked).only("pk", "file"):
            job_delete(job=job)
        locked.delete()


def batch_job_rerun(*, batch_id: Any) -> None:
    """A job of the batch runs again: a finished (not canceled) batch is open again."""
    Batch.objects.filter(pk=batch_id, status__in=(JobStatus.DONE, JobStatus.FAILED)).update(
        status=JobStatus.PROCESSING, finished_at=None
    )
