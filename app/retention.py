"""Retention: delete old jobs with their files, and files no job refers to.

Run periodically by Celery beat (task ``ocr.retention_sweep``). With
``OCR_RETENTION_DAYS=0`` (the default) no job is ever deleted; files that no
job refers to are removed in any case once older than
``OCR_RETENTION_ORPHAN_GRACE_SECONDS`` (a job's file is stored just before
its row is committed, so a fresh file is never taken for an orphan).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.utils import timezone

from app import services
from app.models import Job

log = logging.getLogger(__name__)

#: Top-level storage folders the service writes (uploads; exports if stored).
MANAGED_PREFIXES = ("uploads", "exports")


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep removed: jobs (with their pages and files), orphan files, and
    idempotency keys past ``OCR_IDEMPOTENCY_SECONDS``."""

    jobs_deleted: int
    orphans_deleted: int
    idempotency_keys_deleted: int = 0


def _walk(storage: Storage, folder: str) -> Iterator[str]:
    """Every file name under ``folder`` (recursively); nothing if it does not exist."""
    try:
        dirs, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in dirs:
        yield from _walk(storage, f"{folder}/{sub}")


def delete_old_jobs(*, now: datetime, days: int) -> int:
    """Delete jobs created more than ``days`` days before ``now``; 0 days deletes none."""
    if days <= 0:
        return 0
    cutoff = now - timedelta(days=days)
    count = 0
    for job in Job.objects.filter(created_at__lt=cutoff).order_by("created_at").iterator():
        services.job_delete(job=job)
        count += 1
    return count


def delete_orphan_files(
    *, now: datetime, grace_seconds: int, storage: Storage | None = None
) -> int:
    """Delete stored files under :data:`MANAGED_PREFIXES` that no job refers to."""
    storage = storage or default_storage
    cutoff = now - timedelta(seconds=grace_seconds)
    count = 0
    for prefix in MANAGED_PREFIXES:
        for name in _walk(storage, prefix):
            if Job.objects.filter(file=name).exists():
                continue
            try:
                if storage.get_modified_time(name) > cutoff:
                    continue
                storage.delete(name)
            except FileNotFoundError:
                continue
            count += 1
    return count


def idempotency_sweep(*, now: datetime) -> int:
    """Idempotency keys past their window (``app.services.idempotency``)."""
    from app.services.idempotency import idempotency_sweep as sweep

    return sweep(now=now)


def retention_sweep(*, now: datetime | None = None) -> SweepReport:
    """Apply the retention settings once; returns what was deleted."""
    now = now or timezone.now()
    report = SweepReport(
        jobs_deleted=delete_old_jobs(now=now, days=settings.OCR_RETENTION_DAYS),
        orphans_deleted=delete_orphan_files(
            now=now, grace_seconds=settings.OCR_RETENTION_ORPHAN_GRACE_SECONDS
        ),
        idempotency_keys_deleted=idempotency_sweep(now=now),
    )
    if report.jobs_deleted or report.orphans_deleted:
        log.info(
            "retention: deleted %d job(s) and %d orphan file(s)",
            report.jobs_deleted,
            report.orphans_deleted,
        )
    return report
