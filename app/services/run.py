"""Running jobs: the job task's start, the page fan-out, and the job's assembly.

A job is read page by page, each page a task any worker process on any host can
take (docs/architecture.md, "Page fan-out"):

1. The job task (:func:`job_start`) claims the job (``attempts``, bounded by
   ``OCR_MAX_ATTEMPTS``), makes one :class:`~app.models.PageTask` per page to
   read, sends page tasks for up to ``OCR_PAGE_WINDOW - 1`` further pages and
   reads the first page itself (a one-page job never waits on the queue again).
2. A page task (:func:`page_process`) reads one page through the document
   pipeline (:func:`app.pipeline.document.read_pages`) and stores its
   :class:`~app.models.Page` row. Then it tops the job's window up: at most
   ``OCR_PAGE_WINDOW`` pages of one job are queued or running at a time, and the
   next page is sent to the back of the queue. That is the fairness rule: a
   small job submitted during a big one waits behind at most a window of the big
   job's pages, never behind all of them.
3. The store that brings ``pages_done`` to ``page_count`` assembles the job (text
   in page order, result summary) and ends it (:func:`app.services.jobs.job_end`).

Exactly-once in effect: a page's store is conditional on its page task not being
``done`` yet, under the job row's lock, so a duplicated or redelivered page task
changes nothing, and a page already stored is never read again. A page whose
worker died ``OCR_MAX_ATTEMPTS`` times fails with ``engine_crash`` and fails the
job, naming the page. The soft/hard time limits apply to each task (so per page);
``OCR_JOB_TIME_LIMIT`` seconds bound the whole job, checked at every page start.
"""

from __future__ import annotations

import io
import logging
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from app.engines import registry
from app.errors import OcrError
from app.models import FINISHED_STATUSES, Job, JobStatus, Page, PageTask, PageTaskState
from app.pipeline import document, inputs
from app.pipeline.schema import PAGE_SEPARATOR
from app.services.jobs import job_end, job_fail, job_options, job_queue, limits

log = logging.getLogger(__name__)

_IN_FLIGHT = (PageTaskState.QUEUED, PageTaskState.PROCESSING)
_ENDED = (PageTaskState.DONE, PageTaskState.FAILED)


# --- the job task ---------------------------------------------------------------


def job_start(*, job_id: Any) -> None:
    """The job task: claim the job, make its page tasks, fan out, read the first page here.

    A job delivered more than ``OCR_MAX_ATTEMPTS`` times (its worker died each
    time) fails with ``engine_crash``. On a first delivery of a job without page
    ranges, the claim and the page tasks are one transaction (one commit), the
    first page task made already taken by this task; a one-page job makes no page
    task at all (:func:`_job_single_page`). On a redelivery the page tasks
    made before are kept (pages stored stay stored) and the queued ones are sent
    again (a duplicate changes nothing). A job that cannot start (engine
    unavailable, unreadable file) fails with its error code; it never stays
    ``processing``.
    """
    first: tuple[int, int] | None = None
    with transaction.atomic():
        job = _job_claim(job_id)
        if job is None:
            return
        fresh = job.attempts == 1 and not (job.options or {}).get("pages")
        single = fresh and job.page_count == 1
        if fresh and not single:
            first = _page_tasks_first_delivery(job, list(range(1, job.page_count + 1)))
    if job.batch_id is not None:
        from app.services.batches import batch_job_started

        batch_job_started(batch_id=job.batch_id)
    if single:
        _job_single_page(job)
        return
    try:
        registry.get_engine(job.engine)  # engine_unavailable before any page is read
        if not fresh:
            options = job_options(job)
            # job_create counted the pages to read; only page ranges need the document's own.
            numbers = (
                options.page_numbers(inputs.count_pages(io.BytesIO(_source(job)), job.content_type))
                if options.pages
                else list(range(1, job.page_count + 1))
            )
            first = _page_tasks_made(job, numbers)
    except OcrError as exc:
        if not _job_gone(job.pk):
            job_fail(job_id=job.pk, code=exc.code, message=exc.message)
        return
    except Exception as exc:
        if _job_gone(job.pk):  # e.g. its file was removed with it before it was read
            log.info("job %s was deleted before it started (%s)", job.pk, type(exc).__name__)
            return
        log.exception("job %s could not start", job.pk)
        job_fail(
            job_id=job.pk,
            code="internal_error",
            message=f"Unexpected error while starting: {exc.__class__.__name__}.",
        )
        return
    if first is None:  # every page stored by earlier deliveries: only the finish is missing
        _job_assemble_if_complete(job.pk)
        return
    if job.page_count > 1:
        _top_up(job)  # the first page counts in the window
    page_process(page_task_id=first[0], job=job, number=first[1], claimed=fresh)


def _job_single_page(job: Job) -> None:
    """A first delivery of a one-page job: read its page here and end the job, with no
    page task (nothing fans out). The page's store and the job's end are one
    transaction (:func:`_page_store_single`), so a redelivery after a death finds the
    job either done or with nothing stored, and reads it through page tasks."""
    try:
        registry.get_engine(job.engine)  # engine_unavailable before the page is read
    except OcrError as exc:
        job_fail(job_id=job.pk, code=exc.code, message=exc.message)
        return
    page_process(page_task_id=None, job=job, number=1, claimed=True)


def _page_tasks_first_delivery(job: Job, numbers: list[int]) -> tuple[int, int]:
    """A first delivery's page tasks, in one ``INSERT``: the first taken by this task
    (``processing``, one attempt), the others ``pending``. Returns the first's
    ``(pk, number)``."""
    now, worker = timezone.now(), _worker_name()
    made = PageTask.objects.bulk_create(
        [
            PageTask(
                job=job,
                number=numbers[0],
                state=PageTaskState.PROCESSING,
                attempts=1,
                started_at=now,
                worker=worker,
            )
        ]
        + [PageTask(job=job, number=n) for n in numbers[1:]]
    )
    if made[0].pk is None:  # a database that does not return the keys of a bulk INSERT
        made[0].pk = PageTask.objects.get(job=job, number=numbers[0]).pk
    return made[0].pk, numbers[0]


def _page_tasks_made(job: Job, numbers: list[int]) -> tuple[int, int] | None:
    """Make the job's page tasks that do not exist yet (``pending``), mark the first page
    still to read ``queued`` (this task reads it) and return its ``(pk, number)``; None
    when every page is stored. The ``queued`` ones of an earlier delivery are sent again
    (a duplicate changes nothing; a message lost with a dead worker is replaced)."""
    PageTask.objects.bulk_create(
        [PageTask(job=job, number=n) for n in numbers], ignore_conflicts=True
    )
    first = (
        PageTask.objects.filter(job=job)
        .exclude(state__in=_ENDED)
        .order_by("number")
        .values_list("pk", "number")
        .first()
    )
    if first is None:
        return None
    PageTask.objects.filter(pk=first[0], state=PageTaskState.PENDING).update(
        state=PageTaskState.QUEUED
    )
    queued = PageTask.objects.filter(job=job, state=PageTaskState.QUEUED)
    _send(job, queued.exclude(pk=first[0]))
    return first


def _job_claim(job_id: Any) -> Job | None:
    """Count a delivery and mark the job processing; None when it must not run.

    The usual case is one statement, ``UPDATE ... RETURNING`` (PostgreSQL, SQLite
    >= 3.35): the row lock it takes serialises concurrent deliveries, each counted
    once. When it matches no row (no such job, finished, out of attempts),
    :func:`_job_claim_locked` decides with the row locked. A finished job (canceled
    while pending, say) is never started.
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
    from django.db import connection

    return [
        JobStatus.PROCESSING.value,
        Job._meta.get_field("started_at").get_db_prep_value(timezone.now(), connection),
        Job._meta.pk.get_db_prep_value(Job._meta.pk.to_python(job_id), connection),
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


# --- page tasks -------------------------------------------------------------------


def page_process(
    *,
    page_task_id: int | None,
    job: Job | None = None,
    number: int | None = None,
    claimed: bool = False,
) -> None:
    """A page task: read one page of a job and store it; then top the job's window up.

    Does nothing when the page task is gone (job deleted or re-run), already
    ended (a duplicate or a late redelivery), or its job is not ``processing``
    (canceled, failed elsewhere): that is the page boundary at which a cancel
    stops a job on every host. ``job`` and ``number``: the job row, just claimed,
    and the page's number when the job task reads its first page itself (no
    second look at either); ``claimed``: its page task was made taken already.
    ``page_task_id`` None: the one page of a one-page job, which has no page task.
    Errors fail the page and the job with the page named (``OcrError.code``,
    ``timeout`` for the soft time limit, ``internal_error`` otherwise).
    """
    from celery.exceptions import SoftTimeLimitExceeded

    inline = job is not None and number is not None
    task = (
        {"job_id": job.pk, "number": number}
        if inline
        else PageTask.objects.filter(pk=page_task_id).values("job_id", "number").first()
    )
    if task is None:
        log.info(
            "page task %s is gone (its job was deleted or run again): nothing to do", page_task_id
        )
        return
    if job is None:
        job = Job.objects.filter(pk=task["job_id"]).first()
    number = task["number"]
    if job is None:
        log.info("job %s was deleted while it ran: page %s not started", task["job_id"], number)
        return
    if not inline and not _page_may_start(job, number):
        return
    claimed = claimed or PageTask.objects.filter(
        pk=page_task_id,
        state__in=(PageTaskState.PENDING, *_IN_FLIGHT),
        attempts__lt=settings.OCR_MAX_ATTEMPTS,
    ).update(
        state=PageTaskState.PROCESSING,
        attempts=F("attempts") + 1,
        started_at=timezone.now(),
        worker=_worker_name(),
    )
    if not claimed:
        state = PageTask.objects.filter(pk=page_task_id).values_list("state", "attempts").first()
        if state is not None and state[0] not in _ENDED:
            _page_failed(
                job,
                page_task_id,
                number,
                "engine_crash",
                f"The OCR engine stopped unexpectedly {state[1]} times on this page; "
                "it will not be retried.",
            )
        return
    try:
        options = job_options(job)
        engine = registry.get_engine(job.engine)
        outcome = next(
            document.read_pages(
                _source(job),
                job.content_type,
                engine=engine,
                options=options,
                limits=limits(),
                numbers=[number],
            )
        )
    except SoftTimeLimitExceeded:
        _page_failed(
            job,
            page_task_id,
            number,
            "timeout",
            f"OCR took longer than {settings.OCR_TASK_SOFT_TIME_LIMIT} s.",
        )
        return
    except OcrError as exc:
        _page_failed(job, page_task_id, exc.page or number, exc.code, exc.message)
        return
    except Exception as exc:
        if _job_gone(job.pk):  # e.g. its file was removed with it before it was read
            log.info("job %s was deleted while it ran (%s)", job.pk, type(exc).__name__)
            return
        log.exception("job %s: page %s crashed", job.pk, number)
        _page_failed(
            job,
            page_task_id,
            number,
            "internal_error",
            f"Unexpected error while processing: {exc.__class__.__name__}.",
        )
        return
    if _page_store(job, page_task_id, outcome, engine=engine, options=options) and (
        job.page_count > 1
    ):
        _top_up(job)


def _page_may_start(job: Job, number: int) -> bool:
    """Whether a page of ``job`` (its row as just read) may start now: the job is
    processing and within ``OCR_JOB_TIME_LIMIT`` (past it, the job fails with ``timeout``)."""
    if job.status != JobStatus.PROCESSING:
        log.info("job %s is %s: stopped before page %s", job.pk, job.status, number)
        return False
    limit = settings.OCR_JOB_TIME_LIMIT
    if job.started_at is not None and timezone.now() - job.started_at > timedelta(seconds=limit):
        job_fail(
            job_id=job.pk,
            code="timeout",
            message=f"The job took longer than {limit} s (stopped before page {number}).",
        )
        return False
    return True


def _page_store(job: Job, page_task_id: int, outcome: document.PageOutcome, **how: Any) -> bool:
    """Store a page read: its row, the job's ``pages_done``, and the job's finish when it
    was the last. Returns False when nothing was stored (duplicate, job deleted or
    re-run meanwhile).

    One transaction with the job row locked first (as :func:`job_delete` and
    :func:`job_end` lock it), so the stores of one job's pages are serialised: each
    sees the ``pages_done`` of the others, and exactly one sees the last page land.
    A page read while the job was canceled (or failed elsewhere) is kept, readable
    like the ones before it, and counted in ``pages_done``.
    """
    result = outcome.result
    if page_task_id is None:
        return _page_store_single(job, outcome, **how)
    with transaction.atomic():
        current = (
            Job.objects.select_for_update()
            .filter(pk=job.pk)
            .values_list("status", "pages_done", "page_count")
            .first()
        )
        if current is None:
            log.info("job %s was deleted while it ran: page %s not stored", job.pk, result.number)
            return False
        status, pages_done, page_count = current
        stored = (
            PageTask.objects.filter(pk=page_task_id)
            .exclude(state__in=_ENDED)
            .update(state=PageTaskState.DONE, finished_at=timezone.now())
        )
        if not stored:
            return False
        _page_row(job, outcome)
        pages_done += 1
        if status == JobStatus.PROCESSING and pages_done >= page_count:
            _job_assemble(job, only=result if page_count == 1 else None, **how)
        else:
            Job.objects.filter(pk=job.pk).update(pages_done=pages_done)
            if status != JobStatus.PROCESSING:
                log.info(
                    "job %s is %s: page %s stored after its end (%s of %s pages done)",
                    job.pk,
                    status,
                    result.number,
                    pages_done,
                    page_count,
                )
    return True


def _page_store_single(job: Job, outcome: document.PageOutcome, **how: Any) -> bool:
    """Store the page of a one-page job (no page task) and end the job, one transaction.

    The job's end comes first: its conditional ``UPDATE`` takes the job row's lock
    and tells whether the job was still running. A page read while the job was
    canceled (or failed elsewhere) is kept and counted, as in :func:`_page_store`;
    a deleted job's page is dropped. Returns whether the page was stored.
    """
    with transaction.atomic():
        if _job_assemble(job, only=outcome.result, **how):
            _page_row(job, outcome)
            return True
        if not Job.objects.select_for_update().filter(pk=job.pk).exists():
            log.info("job %s was deleted while it ran: its page not stored", job.pk)
            return False
        if Page.objects.filter(job=job, number=outcome.result.number).exists():
            return False
        _page_row(job, outcome)
        Job.objects.filter(pk=job.pk).update(pages_done=1)
    log.info("job %s ended while it ran: its page stored after its end", job.pk)
    return True


def _page_row(job: Job, outcome: document.PageOutcome) -> Page:
    """Insert the :class:`~app.models.Page` row of a page read."""
    result = outcome.result
    return Page.objects.create(
        job=job,
        number=result.number,
        status=JobStatus.DONE,
        width=result.width,
        height=result.height,
        dpi=result.dpi,
        rotation=result.rotation,
        skew=result.skew,
        confidence=result.confidence,
        text=result.text,
        result=result.to_dict(),
        raw_response=result.raw,
        duration=round(outcome.seconds, 4),
    )


def _page_failed(job: Job, page_task_id: int | None, number: int, code: str, message: str) -> None:
    """A page could not be read: the page (task and row) and the job fail, naming the page."""
    with transaction.atomic():
        if Job.objects.select_for_update().filter(pk=job.pk).first() is None:
            log.info("job %s was deleted while it ran: stopped (%s)", job.pk, code)
            return
        if page_task_id is not None:
            PageTask.objects.filter(pk=page_task_id).exclude(state__in=_ENDED).update(
                state=PageTaskState.FAILED, finished_at=timezone.now()
            )
        Page.objects.update_or_create(
            job=job,
            number=number,
            defaults={"status": JobStatus.FAILED, "error_code": code, "error_message": message},
        )
        # Named once: some pipeline messages already start with the page ("Page 3: ...").
        named = message.startswith(f"Page {number}")
        where = f"Page {number}: " if job.page_count > 1 and not named else ""
        job_fail(job_id=job.pk, code=code, message=where + message)
    if code == "engine_crash":
        log.error("job %s: page %s: %s", job.pk, number, message)


def page_time_limit_exceeded(*, page_task_id: Any) -> None:
    """The hard time limit killed a page task's process: fail the page and its job
    with ``timeout`` (called by the task's ``on_failure`` in the worker's parent)."""
    task = PageTask.objects.filter(pk=page_task_id).values("job_id", "number").first()
    job = Job.objects.filter(pk=task["job_id"]).first() if task else None
    if job is not None:
        _page_failed(
            job,
            page_task_id,
            task["number"],
            "timeout",
            "OCR exceeded the hard time limit and was stopped.",
        )


# --- the window ---------------------------------------------------------------------


def _top_up(job: Job) -> None:
    """Send page tasks for the job's next pending pages until ``OCR_PAGE_WINDOW`` of its
    pages are queued or running. Only for a ``processing`` job. Two top-ups at the same
    moment may queue one page more than the window, never the same page twice."""
    if not Job.objects.filter(pk=job.pk, status=JobStatus.PROCESSING).exists():
        return
    in_flight = PageTask.objects.filter(job=job, state__in=_IN_FLIGHT).count()
    free = max(0, settings.OCR_PAGE_WINDOW - in_flight)
    queued: list[int] = []
    while len(queued) < free:
        pending = (
            PageTask.objects.filter(job=job, state=PageTaskState.PENDING)
            .order_by("number")
            .values_list("pk", flat=True)[: free - len(queued)]
        )
        pending = list(pending)
        if not pending:
            break
        for pk in pending:
            # Conditional: of two top-ups racing for the same page, one sends it.
            if PageTask.objects.filter(pk=pk, state=PageTaskState.PENDING).update(
                state=PageTaskState.QUEUED
            ):
                queued.append(pk)
    _send(job, PageTask.objects.filter(pk__in=queued))


def _send(job: Job, page_tasks) -> None:
    """Send a Celery page task for each of ``page_tasks``, in page order, to the job's queue."""
    from app.tasks import page_task

    queue = job_queue(job)
    for pk in page_tasks.order_by("number").values_list("pk", flat=True):
        page_task.apply_async(args=[pk], queue=queue)


# --- assembly -------------------------------------------------------------------------


def _job_assemble_if_complete(job_id: Any) -> None:
    """Finish a job whose pages are all stored (a redelivery after the last store)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != JobStatus.PROCESSING:
            return
        options = job_options(job)
        _job_assemble(job, engine=registry.get_engine(job.engine), options=options)


def _job_assemble(job: Job, *, engine: Any, options: Any, only: Any = None) -> bool:
    """Mark the job done (:func:`job_end`): its text joins the page texts with form
    feeds, its result summary takes the first page's ``fields``/``mrz``
    (docs/result-schema.md). Called with the job row locked, inside the last
    page's transaction. ``only``: the PageResult of a one-page job, just stored (no
    read back). Returns False when the job had ended meanwhile."""
    if only is not None:
        texts, results = [only.text], iter([only.to_dict()])
    else:
        rows = job.pages.filter(status=JobStatus.DONE).order_by("number")
        texts = list(rows.values_list("text", flat=True))
        results = rows.filter(result__isnull=False).values_list("result", flat=True).iterator()
    summary = document.summary_of(results, engine=engine, options=options)
    return job_end(
        job_id=job.pk,
        status=JobStatus.DONE,
        result=summary,
        text=PAGE_SEPARATOR.join(texts),
        pages_done=len(texts),
        page_count=max(job.page_count, len(texts)),
        started_at=job.started_at or timezone.now(),
    )


# --- helpers ---------------------------------------------------------------------------

#: The last document read by this process: (job id, stored name) -> bytes. Pages of
#: one job read in one process (page tasks in a row) read the stored file once;
#: with ``OCR_STORAGE=s3`` that is one download per process and job, not per page.
_source_cache: tuple[tuple[Any, str], bytes] | None = None
_source_lock = threading.Lock()


def _source(job: Job) -> bytes:
    """The job's stored upload (at most ``OCR_MAX_UPLOAD_BYTES``), cached per process."""
    global _source_cache
    key = (job.pk, job.file.name)
    with _source_lock:
        if _source_cache is not None and _source_cache[0] == key:
            return _source_cache[1]
    with job.file.open("rb") as fh:
        data = fh.read()
    with _source_lock:
        _source_cache = (key, data)
    return data


def _job_gone(job_id: Any) -> bool:
    return not Job.objects.filter(pk=job_id).exists()


def _worker_name() -> str:
    """This worker's Celery node name (``celery@host``), or the host name outside one."""
    try:
        from celery import current_task

        hostname = current_task.request.hostname if current_task else None
    except Exception:  # pragma: no cover - outside a task
        hostname = None
    if hostname:
        return str(hostname)[:255]
    import socket

    return socket.gethostname()[:255]
