"""Services: every write to jobs and pages goes through here.

Views and tasks stay thin and call these functions (keyword-only arguments,
named ``<entity>_<action>``). Reads live in :mod:`app.selectors`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from app.engines import registry
from app.engines.base import EngineOptions
from app.errors import OcrError
from app.models import FINISHED_STATUSES, Job, JobStatus, Page
from app.pipeline import inputs
from app.pipeline.preprocess import PreprocessOptions
from app.pipeline.run import PageSettings, ocr_page
from app.pipeline.schema import PAGE_SEPARATOR
from app.pipeline.schema import Page as SchemaPage
from app.quotas import check_daily_page_quota

log = logging.getLogger(__name__)

#: Options a client may send with a job, besides languages/engine/psm/metadata.
JOB_OPTION_NAMES = ("oem", "pages", "rotate", "deskew", "clean", "dpi", "pdf_text", "service")
#: Job options the pipeline itself consumes (Tesseract modes, pages, preprocessing,
#: the PDF text layer). Every other one is an engine's own: refused at submission
#: unless the engine lists it in ``accepted_options``, and only then handed to it.
PIPELINE_OPTION_NAMES = frozenset(
    {"psm", "oem", "pages", "rotate", "deskew", "clean", "dpi", "pdf_text"}
)


@dataclass(frozen=True, slots=True)
class JobRequest:
    """A validated submission: the bytes, their name, and the OCR options.

    ``languages`` are Tesseract codes; ``psm``/``oem`` Tesseract modes or None;
    ``options`` holds the other per-job options (see :data:`JOB_OPTION_NAMES`);
    ``metadata`` is the caller's JSON object, stored and returned as given.
    """

    data: bytes
    filename: str
    engine: str
    languages: tuple[str, ...]
    psm: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


def engine_options(job: Job, *, dpi: int | None = None) -> EngineOptions:
    """The frozen options an engine gets for ``job`` (``dpi`` of the page, if known).

    ``extra`` holds only the job options the engine declares in its
    ``accepted_options`` (:func:`app.engines.registry.engine_extra`). Raises
    ``OcrError("engine_unavailable")`` when the job's engine is not available.
    """
    opts = job.options or {}
    extra = registry.engine_extra(registry.get_engine(job.engine), opts)
    return EngineOptions(
        languages=tuple(job.language_list),
        psm=opts.get("psm"),
        oem=opts.get("oem"),
        dpi=dpi,
        timeout=float(settings.OCR_TASK_SOFT_TIME_LIMIT),
        extra=extra,
    )


def check_engine_options(
    *,
    engine: str,
    languages: tuple[str, ...],
    psm: int | None,
    oem: int | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Raise ``OcrError`` (``engine_unavailable``, ``unknown_language``, ``invalid_option``).

    ``extra``: the job's other options (e.g. UltraOCR ``service``). Those of
    :data:`PIPELINE_OPTION_NAMES` are left out; any remaining one the engine
    does not declare in ``accepted_options`` is refused (``invalid_option``,
    :func:`app.engines.registry.checked_engine`).
    """
    own = {k: v for k, v in (extra or {}).items() if k not in PIPELINE_OPTION_NAMES}
    registry.checked_engine(engine, EngineOptions(languages=languages, psm=psm, oem=oem, extra=own))


def job_create(*, owner: Any, request: JobRequest) -> Job:
    """Check a submission, store it and enqueue its OCR; return the pending job.

    Nothing is stored when any check fails: the engine and its options are
    checked first, then the document by content (``inputs.inspect_document``).
    The job's ``filename`` gets the extension of the detected type
    (``inputs.fitting_filename``: ``report.html`` detected as PDF is stored and
    served as ``report.pdf``). The task is enqueued after the transaction
    commits. Raises ``OcrError``.
    """
    check_engine_options(
        engine=request.engine,
        languages=request.languages,
        psm=request.psm,
        oem=request.options.get("oem"),
        extra={k: v for k, v in request.options.items() if k not in ("psm", "oem")},
    )
    info = inputs.inspect_document(
        request.data,
        max_bytes=settings.OCR_MAX_UPLOAD_BYTES,
        max_pixels=settings.OCR_MAX_PIXELS,
        max_pages=settings.OCR_MAX_PAGES,
        pdf_dpi=settings.OCR_PDF_DPI,
        pdf_min_dpi=settings.OCR_PDF_MIN_DPI,
    )
    page_count = info.page_count  # a PDF's real pages, not its declared /Count
    page_spec = request.options.get("pages")
    if page_spec:
        from app.pipeline.pages import parse_page_ranges

        page_count = len(parse_page_ranges(page_spec, info.page_count))
    check_daily_page_quota(owner=owner, pages=page_count)
    options = dict(request.options)
    if request.psm is not None:
        options["psm"] = request.psm
    job = Job(
        owner=owner if owner is not None and owner.is_authenticated else None,
        filename=inputs.fitting_filename(request.filename or "upload", info.content_type),
        content_type=info.content_type,
        size=len(request.data),
        sha256=hashlib.sha256(request.data).hexdigest(),
        engine=request.engine,
        languages="+".join(request.languages),
        options=options,
        metadata=request.metadata,
        page_count=page_count,
    )
    with transaction.atomic():
        job.file.save(str(job.id), ContentFile(request.data), save=False)
        job.save()
        transaction.on_commit(lambda: job_enqueue(job=job))
    return job


def job_enqueue(*, job: Job) -> None:
    """Send the job's task to its queue (local OCR or provider forwarding)."""
    from app.tasks import run_job

    eng = None
    with contextlib.suppress(OcrError):
        eng = registry.get_engine(job.engine)
    queue = settings.OCR_PROVIDER_QUEUE if eng is not None and eng.kind == "cloud" else None
    run_job.apply_async(args=[str(job.id)], queue=queue or settings.OCR_QUEUE)


def job_delete(*, job: Job) -> None:
    """Delete a job, its pages and its stored file.

    The job row is locked first (``SELECT ... FOR UPDATE``), so a worker storing a
    page of this job at the same moment either commits before the pages are
    collected (and its page is deleted with the others) or finds the job gone
    after the delete commits and stops (:func:`job_run`); never a page row left
    pointing at a deleted job (an IntegrityError at commit on PostgreSQL).
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
    """Reset a job (pages, result, error) and enqueue it again, optionally with other options.

    ``engine``/``languages`` replace the job's when given; ``option_changes`` maps
    option names (``psm`` and :data:`JOB_OPTION_NAMES`) to new values, None
    removing one. New options are checked as a submission's are
    (:func:`check_engine_options`; ``pages`` against the stored document's real
    pages, which sets ``page_count``) before anything changes. ``only_finished``:
    refuse a job that has not ended (``not_ready``, 409), as the job page does.
    Raises ``OcrError`` (``not_ready``, ``engine_unavailable``, ``unknown_language``,
    ``invalid_option``, ``invalid_pages``).
    """
    if only_finished and not job.is_finished:
        raise OcrError("not_ready", f"The job is {job.status}; only a finished job runs again.")
    changes: dict[str, Any] = {}
    if engine is not None or languages is not None or option_changes:
        changes = _rerun_changes(job, engine, languages, option_changes or {})
    with transaction.atomic():
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
        transaction.on_commit(lambda: job_enqueue(job=job))
    return job


def _rerun_changes(
    job: Job, engine: str | None, languages: tuple[str, ...] | None, changes: dict[str, Any]
) -> dict[str, Any]:
    """The job fields a re-run with other options writes (checked; raises ``OcrError``)."""
    engine = engine or job.engine
    languages = tuple(languages or job.language_list)
    options = dict(job.options or {})
    for name, value in changes.items():
        if name != "psm" and name not in JOB_OPTION_NAMES:
            raise OcrError("invalid_option", f"Unknown option {name!r}.", field=name)
        if value is None:
            options.pop(name, None)
        else:
            options[name] = value
    check_engine_options(
        engine=engine,
        languages=languages,
        psm=options.get("psm"),
        oem=options.get("oem"),
        extra={k: v for k, v in options.items() if k not in ("psm", "oem")},
    )
    fields: dict[str, Any] = {
        "engine": engine,
        "languages": "+".join(languages),
        "options": options,
    }
    if "pages" in changes:
        source = _read_source(job)
        total = inputs.count_pages(io.BytesIO(source), job.content_type)
        if options.get("pages"):
            from app.pipeline.pages import parse_page_ranges

            total = len(parse_page_ranges(options["pages"], total))
        fields["page_count"] = total
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
    running one stops at its next page boundary (:func:`job_run`), on any host.
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


def _job_claim(job_id: Any) -> Job | None:
    """Count a delivery and mark the job processing; None when it must not run.

    A job delivered more than ``OCR_MAX_ATTEMPTS`` times (its worker process
    died each time, e.g. native OCR code aborted) is failed with
    ``engine_crash`` instead of running again.

    The usual case is one statement, ``UPDATE ... RETURNING`` (PostgreSQL,
    SQLite >= 3.35): the row lock it takes serialises concurrent deliveries,
    each counted once. When it matches no row (no such job, finished, out of
    attempts), :func:`_job_claim_locked` decides with the row locked.
    """
    job = next(iter(Job.objects.raw(_CLAIM_SQL, _claim_params(job_id))), None)
    return job if job is not None else _job_claim_locked(job_id)


#: The claim (:func:`_job_claim`); parameters from :func:`_claim_params`.
_CLAIM_SQL = (
    'UPDATE "ocr_job" SET "attempts" = "attempts" + 1, "status" = %s, '
    '"started_at" = COALESCE("started_at", %s) '
    'WHERE "id" = %s AND "attempts" < %s AND "status" NOT IN (%s, %s, %s) RETURNING *'
)


def _claim_params(job_id: Any) -> list[Any]:
    return [
        JobStatus.PROCESSING.value,
        Job._meta.get_field("started_at").get_db_prep_value(timezone.now(), connection),
        Job._meta.pk.get_db_prep_value(job_id, connection),
        settings.OCR_MAX_ATTEMPTS,
        *(status.value for status in FINISHED_STATUSES),
    ]


def _job_claim_locked(job_id: Any) -> Job | None:
    """:func:`_job_claim` with the job row locked (``SELECT ... FOR UPDATE``)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return None
        if job.attempts >= settings.OCR_MAX_ATTEMPTS:
            message = (
                f"The OCR engine stopped unexpectedly {job.attempts} times on this document; "
                "it will not be retried."
            )
            job_end(
                job_id=job.pk,
                status=JobStatus.FAILED,
                code="engine_crash",
                message=message,
                started_at=job.started_at or timezone.now(),
            )
            log.error("job %s: %s", job.id, message)
            return None
        job.attempts += 1
        job.status = JobStatus.PROCESSING
        if job.started_at is None:
            job.started_at = timezone.now()
        job.save(update_fields=["attempts", "status", "started_at"])
        return job


def _read_source(job: Job) -> bytes:
    """The stored upload's bytes (at most ``OCR_MAX_UPLOAD_BYTES``)."""
    with job.file.open("rb") as fh:
        return fh.read()


def page_numbers(job: Job, source: bytes) -> list[int] | None:
    """The 1-based pages the job asked for (``pages`` option), or None for all."""
    spec = (job.options or {}).get("pages")
    if not spec:
        return None
    from app.pipeline.pages import parse_page_ranges

    return parse_page_ranges(spec, inputs.count_pages(io.BytesIO(source), job.content_type))


def page_settings(job: Job) -> PageSettings:
    """How the job's pages are prepared (its ``rotate``/``deskew``/``clean``/``dpi``)."""
    opts = job.options or {}
    is_pdf = job.content_type == inputs.PDF_TYPE
    return PageSettings(
        prep=PreprocessOptions(
            rotate=opts.get("rotate") or "auto",
            deskew=opts.get("deskew", True) is not False,
            clean=bool(opts.get("clean", False)),
            dpi=None if is_pdf else opts.get("dpi"),
        ),
        max_pixels=settings.OCR_MAX_PIXELS,
    )


def _iter_pages(job: Job, source: bytes, numbers: list[int] | None):
    """Yield :class:`inputs.PageImage` for the job's stored file, one page at a time.

    ``numbers``: the pages to yield (:func:`page_numbers`), None for all.
    """
    yield from inputs.iter_pages(
        io.BytesIO(source),
        job.content_type,
        max_pixels=settings.OCR_MAX_PIXELS,
        page_numbers=numbers,
        pdf_dpi=settings.OCR_PDF_DPI,
    )


def _text_layer_page(job: Job, source: bytes, number: int) -> SchemaPage | None:
    """For ``pdf_text=use``: the PDF page's own text layer, if it has one."""
    if job.content_type != inputs.PDF_TYPE or (job.options or {}).get("pdf_text") != "use":
        return None
    from app.pipeline import pdf

    return pdf.page_text_layer(
        io.BytesIO(source), number, settings.OCR_PDF_DPI, max_pixels=settings.OCR_MAX_PIXELS
    )


def _page_row(job: Job, page: SchemaPage, seconds: float) -> Page:
    return Page(
        job=job,
        number=page.number,
        status=JobStatus.DONE,
        width=page.width,
        height=page.height,
        dpi=page.dpi,
        rotation=page.rotation,
        skew=page.skew,
        confidence=page.confidence,
        text=page.text,
        result=page.to_dict(),
        raw_response=page.raw,
        duration=round(seconds, 4),
    )


#: Page result keys the job's result summary takes from its first page that has them.
_RESULT_EXTRAS = ("fields", "mrz")


@dataclass(frozen=True, slots=True)
class _DonePage:
    """What the job's finish needs of a page OCRed in this delivery."""

    text: str
    #: The page result's non-empty ``fields``/``mrz`` (the job's result takes the first).
    extra: dict[str, Any]

    @classmethod
    def of(cls, row: Page) -> _DonePage:
        result = row.result or {}
        return cls(row.text, {key: result[key] for key in _RESULT_EXTRAS if result.get(key)})


class _JobDeleted(Exception):
    """The job's row was deleted (``job_delete``) while :func:`job_run` ran it."""


class _JobReset(Exception):
    """The job was set back to pending (``job_rerun``) while :func:`job_run` ran it."""


def _job_gone(job: Job) -> bool:
    return not Job.objects.filter(pk=job.pk).exists()


def _job_status(job: Job) -> str | None:
    """The job's status as stored now; None when its row is gone."""
    return Job.objects.filter(pk=job.pk).values_list("status", flat=True).first()


def _job_stopped(job: Job, *, pages_done: int) -> None:
    """A page's update found the job no longer processing: decide what the page becomes.

    Called inside the page's transaction. A deleted job raises :class:`_JobDeleted`
    and a job reset to pending :class:`_JobReset` (both roll the page back). A job
    that ended meanwhile (canceled, or failed elsewhere, e.g. by a hard time limit)
    keeps the page, readable like the ones before it, and its ``pages_done``.
    """
    status = _job_status(job)
    if status is None:
        raise _JobDeleted
    if status not in FINISHED_STATUSES:
        raise _JobReset
    Job.objects.filter(pk=job.pk).update(pages_done=pages_done)
    total = job.page_count
    log.info("job %s is %s: stopped with %s of %s pages done", job.pk, status, pages_done, total)


def job_run(*, job_id: Any) -> None:
    """Run OCR for a job: every page in turn, each stored as it finishes.

    Pages already stored by an earlier delivery are skipped, so a job resumes
    after a worker crash. Any error marks the job ``failed`` with a stable
    code (``OcrError.code``, ``timeout`` for the soft time limit,
    ``internal_error`` otherwise); it never stays ``processing``.

    Each page row is written with the job's ``pages_done`` in one transaction;
    the last page's row with the job's finish (text, result, ``done``). On a
    first delivery nothing can be stored yet (``job_rerun`` deletes the pages
    when it resets ``attempts``), so the stored pages are not looked up and
    the finish uses the texts kept in memory.

    A job deleted while it runs stops at the next page boundary with an INFO
    log line and leaves nothing behind: a page's transaction (its row, then the
    job's update) is rolled back when the update finds no job row.

    A job canceled while it runs (:func:`job_cancel`) stops at the next page
    boundary too, on whichever host runs it: the page's update only matches a
    ``processing`` job (no extra query), so the check costs nothing while the job
    runs. The page OCRed when the cancel came is kept, with the others, and
    counted in ``pages_done``; the job stays ``canceled``.
    """
    from celery.exceptions import SoftTimeLimitExceeded

    job = _job_claim(job_id)
    if job is None:
        return
    current_page: int | None = None
    try:
        engine = registry.get_engine(job.engine)
        source = _read_source(job)
        prep = page_settings(job)
        options = engine_options(job)
        numbers = page_numbers(job, source)
        # The last page the iteration yields (job_create counted them): its row is
        # written with the finish. Should it never come, the finish follows the loop.
        last = numbers[-1] if numbers else job.page_count
        stored: set[int] = set()
        if job.attempts > 1:
            stored = set(job.pages.filter(status=JobStatus.DONE).values_list("number", flat=True))
        done = set(stored)
        ran: dict[int, _DonePage] = {}  # pages OCRed by this delivery
        finished = False
        with contextlib.closing(_iter_pages(job, source, numbers)) as pages:
            # A page's duration runs from before its decode (or PDF render) to its
            # result: all the work on that page, as the tesseract command's own time is.
            started = time.perf_counter()
            for page_image in pages:
                current_page = page_image.number
                if page_image.number in done:
                    page_image.image.close()
                    started = time.perf_counter()
                    continue
                result = _text_layer_page(job, source, page_image.number) or ocr_page(
                    engine,
                    page_image.image,
                    number=page_image.number,
                    dpi=page_image.dpi,
                    options=options,
                    settings=prep,
                )
                page_image.image.close()
                row = _page_row(job, result, time.perf_counter() - started)
                done.add(page_image.number)
                ran[page_image.number] = _DonePage.of(row)
                with transaction.atomic():
                    row.save()
                    if page_image.number == last:
                        updated = _job_finish(job, engine=engine, pages=None if stored else ran)
                        finished = True
                    else:
                        # Only while the job is processing: the page boundary's cancel check.
                        updated = Job.objects.filter(pk=job.pk, status=JobStatus.PROCESSING).update(
                            pages_done=len(done)
                        )
                    if not updated:  # deleted, canceled or reset meanwhile
                        _job_stopped(job, pages_done=len(done))
                        finished = True
                current_page = None
                if finished:
                    break
                started = time.perf_counter()
        if not finished and not _job_finish(job, engine=engine, pages=None if stored else ran):
            log.info("job %s ended elsewhere before its finish (%s)", job.pk, _job_status(job))
    except _JobDeleted:
        log.info("job %s was deleted while it ran: stopped at page %s", job.pk, current_page)
    except _JobReset:
        log.info("job %s was reset while it ran: stopped at page %s", job.pk, current_page)
    except SoftTimeLimitExceeded:
        job_fail(
            job_id=job.pk,
            code="timeout",
            message=f"OCR took longer than {settings.OCR_TASK_SOFT_TIME_LIMIT} s.",
        )
    except OcrError as exc:
        if _job_gone(job):
            log.info("job %s was deleted while it ran: stopped (%s)", job.pk, exc.code)
            return
        current_page = exc.page or current_page
        where = f"Page {current_page}: " if current_page and job.page_count > 1 else ""
        if current_page:
            Page.objects.update_or_create(
                job=job,
                number=current_page,
                defaults={
                    "status": JobStatus.FAILED,
                    "error_code": exc.code,
                    "error_message": exc.message,
                },
            )
        job_fail(job_id=job.pk, code=exc.code, message=where + exc.message)
    except Exception as exc:
        if _job_gone(job):  # e.g. its file was removed with it before it was read
            log.info("job %s was deleted while it ran: stopped (%s)", job.pk, type(exc).__name__)
            return
        log.exception("job %s crashed", job.pk)
        job_fail(
            job_id=job.pk,
            code="internal_error",
            message=f"Unexpected error while processing: {exc.__class__.__name__}.",
        )


def _job_finish(job: Job, *, engine: Any, pages: dict[int, _DonePage] | None) -> bool:
    """Mark the job done (:func:`job_end`); its text joins the page texts with form feeds
    (docs/result-schema.md).

    ``pages``: every done page of the job by number, when this delivery OCRed
    them all; None reads them from the database (some came from an earlier one).
    Returns False when the job was deleted, canceled or otherwise ended meanwhile.
    """
    if pages is None:
        rows = job.pages.filter(status=JobStatus.DONE).order_by("number")
        texts = list(rows.values_list("text", flat=True))
        extras = rows.filter(result__isnull=False).values_list("result", flat=True).iterator()
    else:
        texts = [pages[number].text for number in sorted(pages)]
        extras = (pages[number].extra for number in sorted(pages))
    first_extra: dict[str, Any] = {}
    for result in extras:
        for key in _RESULT_EXTRAS:
            if key not in first_extra and result.get(key):
                first_extra[key] = result[key]
        if len(first_extra) == len(_RESULT_EXTRAS):
            break
    summary: dict[str, Any] = {
        "engine": job.engine,
        "engine_version": engine.info().version,
        "languages": job.language_list,
        **first_extra,
    }
    return job_end(
        job_id=job.pk,
        status=JobStatus.DONE,
        result=summary,
        text=PAGE_SEPARATOR.join(texts),
        pages_done=len(texts),
        page_count=max(job.page_count, len(texts)),
        started_at=job.started_at or timezone.now(),
    )


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
