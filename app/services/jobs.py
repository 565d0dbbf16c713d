"""Jobs: submission, re-run, cancel, delete, and the one terminal transition.

Every way a job ends (done, failed, canceled, engine crash, timeout) goes
through :func:`job_end`, which writes the final state once and sends
:data:`app.signals.job_finished` after the transaction commits
(docs/architecture.md, "The life of a job").
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from app.engines import registry
from app.errors import OcrError
from app.models import FINISHED_STATUSES, Job, JobStatus
from app.pipeline import document, inputs
from app.pipeline.options import OPTION_NAMES, JobOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JobRequest:
    """A validated submission: the bytes, their name, the typed options, the metadata.

    ``data``: the document's bytes; ``filename``: the name it was sent with;
    ``options``: :class:`~app.pipeline.options.JobOptions` (engine, languages,
    modes, pages, preprocessing); ``metadata``: the caller's JSON object, stored
    and returned as given; ``callback_url``: where the job's end is sent as a signed
    webhook (checked by ``services.webhooks.check_callback``); ``source``: the
    compatibility API it came through ("" for our own, see ``Job.source``).
    """

    data: bytes
    filename: str
    options: JobOptions
    metadata: dict[str, Any] = field(default_factory=dict)
    callback_url: str = ""
    source: str = ""


def job_options(job: Job) -> JobOptions:
    """The typed options stored with ``job`` (its engine, languages and options)."""
    return JobOptions.from_job_fields(
        engine=job.engine, languages=job.languages, options=job.options
    )


def limits() -> document.Limits:
    """The document limits from settings (``OCR_MAX_UPLOAD_BYTES``, ``OCR_MAX_PIXELS``,
    ``OCR_MAX_PAGES``, ``OCR_PDF_DPI``, ``OCR_PDF_MIN_DPI``, ``OCR_TASK_SOFT_TIME_LIMIT``)."""
    return document.Limits(
        max_bytes=settings.OCR_MAX_UPLOAD_BYTES,
        max_pixels=settings.OCR_MAX_PIXELS,
        max_pages=settings.OCR_MAX_PAGES,
        pdf_dpi=settings.OCR_PDF_DPI,
        pdf_min_dpi=settings.OCR_PDF_MIN_DPI,
        engine_timeout=float(settings.OCR_TASK_SOFT_TIME_LIMIT),
    )


def check_engine_options(options: JobOptions) -> None:
    """Refuse options the engine cannot run, before anything is stored.

    Engine-specific options the engine does not declare in ``accepted_options``
    are refused (``invalid_option``, :func:`app.engines.registry.checked_engine`),
    then the engine's own ``check_options`` runs. Raises ``OcrError``
    (``engine_unavailable``, ``unknown_language``, ``invalid_option``).
    """
    registry.checked_engine(options.engine, options.for_engine())


def job_create(*, owner: Any, request: JobRequest, job_id: Any = None) -> Job:
    """Check a submission, store it and enqueue its OCR; return the pending job.

    Nothing is stored when any check fails: the engine and its options are
    checked first, then the document by content (``document.inspect``), the
    page ranges against the document's real pages, and the daily page quota.
    The job's ``filename`` gets the extension of the detected type
    (``inputs.fitting_filename``: ``report.html`` detected as PDF is stored and
    served as ``report.pdf``). The task is enqueued after the transaction
    commits. ``job_id``: the id the job gets (a UUID), None for a new random one
    (UltraOCR's two-step upload hands the id out before the file arrives,
    :mod:`app.services.uploads`). Raises ``OcrError``.
    """
    from app.quotas import check_daily_page_quota

    check_engine_options(request.options)
    job = job_checked(owner=owner, request=request)
    if job_id is not None:
        job.id = job_id
    check_daily_page_quota(owner=owner, pages=job.page_count)
    with transaction.atomic():
        job_store(job=job, data=request.data)
        transaction.on_commit(lambda: job_enqueue(job=job))
    return job


def job_checked(*, owner: Any, request: JobRequest, batch: Any = None) -> Job:
    """The unsaved job of a submission whose engine options were checked: the document
    checked by content (``document.inspect``) and its pages counted (a PDF's real
    pages; ``invalid_pages`` for ranges outside them). Raises ``OcrError``."""
    options = request.options
    info = document.inspect(request.data, limits())
    page_count = len(options.page_numbers(info.page_count))
    return Job(
        owner=owner if owner is not None and owner.is_authenticated else None,
        batch=batch,
        filename=inputs.fitting_filename(request.filename or "upload", info.content_type),
        content_type=info.content_type,
        size=len(request.data),
        sha256=hashlib.sha256(request.data).hexdigest(),
        engine=options.engine,
        languages=options.languages_joined,
        options=options.stored(),
        metadata=request.metadata,
        callback_url=request.callback_url,
        source=request.source,
        page_count=page_count,
    )


def job_store(*, job: Job, data: bytes) -> None:
    """Store a checked job's upload and its row (call inside a transaction)."""
    job.file.save(str(job.id), ContentFile(data), save=False)
    job.save()


def job_queue(job: Job) -> str:
    """The Celery queue of the job's tasks: ``OCR_PROVIDER_QUEUE`` for a cloud engine,
    ``OCR_QUEUE`` otherwise (also when the engine is unavailable: the job then fails)."""
    eng = None
    with contextlib.suppress(OcrError):
        eng = registry.get_engine(job.engine)
    if eng is not None and eng.kind == "cloud":
        return settings.OCR_PROVIDER_QUEUE
    return settings.OCR_QUEUE


def job_enqueue(*, job: Job) -> None:
    """Send the job's task (:func:`app.services.run.job_start`) to its queue."""
    from app.tasks import job_task

    job_task.apply_async(args=[str(job.id)], queue=job_queue(job))


def job_delete(*, job: Job) -> None:
    """Delete a job, its pages, its page tasks and its stored file.

    The job row is locked first (``SELECT ... FOR UPDATE``), as a page's store
    does (:func:`app.services.run.page_process`), so a page stored at the same
    moment either commits before the pages are collected (and is deleted with
    them) or finds the job gone and stores nothing; never a page row left
    pointing at a deleted job. The file is deleted after the commit.
    """
    name = job.file.name if job.file else ""
    storage = job.file.storage if job.file else None
    with transaction.atomic():
        locked = Job.objects.select_for_update().filter(pk=job.pk).first()
        if locked is None:
            return
        locked.delete()
        if name and storage is not None:
            transaction.on_commit(lambda: storage.delete(name))


def job_rerun(
    *,
    job: Job,
    engine: str | None = None,
    languages: tuple[str, ...] | None = None,
    option_changes: dict[str, Any] | None = None,
    only_finished: bool = False,
) -> Job:
    """Reset a job (pages, page tasks, result, error) and enqueue it again, optionally
    with other options.

    ``engine``/``languages`` replace the job's when given; ``option_changes`` maps
    option names (:data:`app.pipeline.options.OPTION_NAMES`) to new values, None
    removing one. New options are checked as a submission's are
    (:func:`check_engine_options`; ``pages`` against the stored document's real
    pages, which sets ``page_count``) before anything changes. Page tasks still
    running from before find their page task gone and store nothing.
    ``only_finished``: refuse a job that has not ended (``not_ready``, 409), as the
    job page does. Raises ``OcrError`` (``not_ready``, ``engine_unavailable``,
    ``unknown_language``, ``invalid_option``, ``invalid_pages``).
    """
    if only_finished and not job.is_finished:
        raise OcrError("not_ready", f"The job is {job.status}; only a finished job runs again.")
    changes: dict[str, Any] = {}
    if engine is not None or languages is not None or option_changes:
        changes = _rerun_changes(job, engine, languages, option_changes or {})
    with transaction.atomic():
        Job.objects.select_for_update().filter(pk=job.pk).first()
        job.page_tasks.all().delete()
        job.pages.all().delete()
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.PENDING,
            pages_done=0,
            result=None,
            text="",
            error_code="",
            error_message="",
            attempts=0,
            started_at=None,
            finished_at=None,
            duration=None,
            **changes,
        )
        job.refresh_from_db()
        if job.batch_id is not None:
            from app.services.batches import batch_job_rerun

            batch_job_rerun(batch_id=job.batch_id)
        transaction.on_commit(lambda: job_enqueue(job=job))
    return job


def _rerun_changes(
    job: Job, engine: str | None, languages: tuple[str, ...] | None, changes: dict[str, Any]
) -> dict[str, Any]:
    """The job fields a re-run with other options writes (checked; raises ``OcrError``)."""
    unknown = sorted(set(changes) - set(OPTION_NAMES))
    if unknown:
        raise OcrError("invalid_option", f"Unknown option {unknown[0]!r}.", field=unknown[0])
    new = {"engine": engine, "languages": tuple(languages) if languages else None}
    options = job_options(job).changed(**{k: v for k, v in new.items() if v is not None}, **changes)
    check_engine_options(options)
    fields: dict[str, Any] = {
        "engine": options.engine,
        "languages": options.languages_joined,
        "options": options.stored(),
    }
    if "pages" in changes:
        with job.file.open("rb") as fh:
            total = inputs.count_pages(io.BytesIO(fh.read()), job.content_type)
        fields["page_count"] = len(options.page_numbers(total))
    return fields


def job_end(
    *,
    job_id: Any,
    status: JobStatus,
    code: str = "",
    message: str = "",
    result: dict[str, Any] | None = None,
    text: str | None = None,
    pages_done: int | None = None,
    page_count: int | None = None,
    started_at: Any = None,
) -> bool:
    """The one terminal transition: end an unfinished job as ``done``, ``failed`` or ``canceled``.

    One conditional ``UPDATE`` (``WHERE status NOT IN (done, failed, canceled)``)
    writes the status, ``error_code``/``error_message`` (``code``/``message``,
    the message cut to 2,000 characters), ``finished_at`` and ``duration``
    (seconds from ``started_at``; None for a job that never started), and, when
    given, ``result``, ``text``, ``pages_done`` and ``page_count``. Of two ends of
    the same job only the first changes it; the other returns False and writes
    nothing. ``started_at``: the job's start when the caller has it (saves a read).

    When the UPDATE matched, :data:`app.signals.job_finished` is sent once, after
    the surrounding transaction commits (never when it rolls back). Returns
    whether this call ended the job.
    """
    if status not in FINISHED_STATUSES:
        raise ValueError(f"not a final status: {status!r}")
    job_id = Job._meta.pk.to_python(job_id)
    if started_at is None:
        started_at = Job.objects.filter(pk=job_id).values_list("started_at", flat=True).first()
    now = timezone.now()
    fields: dict[str, Any] = {
        "status": status,
        "error_code": code,
        "error_message": message[:2000],
        "finished_at": now,
        "duration": (now - started_at).total_seconds() if started_at else None,
    }
    optional = {"result": result, "text": text, "pages_done": pages_done, "page_count": page_count}
    fields.update({name: value for name, value in optional.items() if value is not None})
    updated = Job.objects.filter(pk=job_id).exclude(status__in=FINISHED_STATUSES).update(**fields)
    if not updated:
        return False
    transaction.on_commit(lambda: _send_job_finished(job_id, str(status), code))
    return True


def _send_job_finished(job_id: Any, status: str, code: str) -> None:
    from app.signals import job_finished

    for receiver, outcome in job_finished.send_robust(
        sender=Job, job_id=job_id, status=status, error_code=code
    ):
        if isinstance(outcome, Exception):
            log.error(
                "job %s: job_finished receiver %r failed",
                job_id,
                receiver,
                exc_info=(type(outcome), outcome, outcome.__traceback__),
            )


def job_fail(*, job_id: Any, code: str, message: str) -> None:
    """Mark an unfinished job ``failed`` with ``code`` and ``message`` (:func:`job_end`)."""
    if job_end(job_id=job_id, status=JobStatus.FAILED, code=code, message=message):
        log.warning("job %s failed: %s: %s", job_id, code, message)


def job_cancel(*, job: Job) -> Job:
    """Cancel an unfinished job (:func:`job_end` with ``canceled``); return it re-read.

    A pending job is never claimed by a worker (the claim skips finished jobs); a
    running one stops at its next page boundary on every host: a page task only
    starts a page of a ``processing`` job (:func:`app.services.run.page_process`).
    Pages already stored stay readable. Raises ``OcrError("already_finished")``
    (409) when the job had already ended, also when it ends in the same instant.
    """
    if job.is_finished or not job_end(
        job_id=job.pk, status=JobStatus.CANCELED, started_at=job.started_at
    ):
        job.refresh_from_db()
        raise OcrError(
            "already_finished",
            f"The job has already finished ({job.status}); there is nothing to cancel.",
            http_status=409,
        )
    log.info("job %s canceled", job.pk)
    job.refresh_from_db()
    return job


def fetch_document(*, url: str) -> tuple[bytes, str]:
    """Download a document for ``image_url``; returns (bytes, file name).

    Limits come from settings (``OCR_MAX_UPLOAD_BYTES``, ``OCR_URL_TIMEOUT``
    seconds, ``OCR_URL_MAX_REDIRECTS``); private addresses are refused unless
    ``OCR_URL_ALLOW_PRIVATE``. Raises ``OcrError`` (``url_forbidden``,
    ``url_unreachable``, ``file_too_large``, ``timeout``).
    """
    from app.pipeline.fetch import fetch_url

    fetched = fetch_url(
        url,
        max_bytes=settings.OCR_MAX_UPLOAD_BYTES,
        timeout=settings.OCR_URL_TIMEOUT,
        max_redirects=settings.OCR_URL_MAX_REDIRECTS,
        allow_private=settings.OCR_URL_ALLOW_PRIVATE,
    )
    return fetched.data, fetched.filename
