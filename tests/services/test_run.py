"""Running a job in the test process (app/services/run.py): the job task's claim and
start, page tasks, redeliveries, limits, and the statements a job costs.

The page tasks a job sends are kept in a list (the ``sent`` fixture) instead of going
to the broker; ``_work`` runs them in order as one worker process would. Worker
processes dying are :class:`Died` raised where the process would have stopped:
nothing after that point runs, as after a SIGKILL. The same fan-out with real
worker processes: tests/services/test_fanout.py.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from PIL import Image

from app import services
from app.engines import registry
from app.models import Job, Page, PageTask
from app.pipeline.options import JobOptions
from app.pipeline.schema import PAGE_SEPARATOR
from app.services import run
from tests.imaging import render_text
from tests.pipeline.helpers import render_text_page

pytestmark = pytest.mark.django_db


class Died(BaseException):
    """The worker process died here (SIGKILL, a native crash): nothing after it runs,
    no ``except Exception`` sees it."""


def _tiff(images: list[Image.Image]) -> bytes:
    buf = io.BytesIO()
    first, *rest = images
    first.save(buf, "TIFF", save_all=True, append_images=rest, dpi=(150, 150))
    return buf.getvalue()


def _pages(count: int) -> bytes:
    """A TIFF of ``count`` pages, page N reading "This is page number N."."""
    return _tiff(
        [
            render_text_page([f"This is page number {n}."], size=(900, 300))
            for n in range(1, count + 1)
        ]
    )


def _job(user, data: bytes, filename: str = "doc.tif", **options) -> Job:
    """A stored pending job; its task is not sent (the test transaction never commits)."""
    return services.job_create(
        owner=user,
        request=services.JobRequest(
            data=data,
            filename=filename,
            options=JobOptions(engine="tesseract", languages=("eng",), **options),
        ),
    )


@pytest.fixture
def sent(monkeypatch) -> list[int]:
    """The page tasks sent (PageTask ids, oldest first), kept here instead of the broker."""
    from app.tasks import page_task

    queue: list[int] = []
    monkeypatch.setattr(page_task, "apply_async", lambda args, **kwargs: queue.append(args[0]))
    return queue


def _work(sent: list[int]) -> list[int]:
    """Run the page tasks sent, oldest first, until none is left (one worker process);
    return the page numbers they were for."""
    numbers = []
    while sent:
        pk = sent.pop(0)
        numbers.append(PageTask.objects.get(pk=pk).number)
        services.page_process(page_task_id=pk)
    return numbers


@pytest.fixture
def reads(monkeypatch) -> list[int]:
    """The page numbers the Tesseract engine is called on, in order."""
    engine = registry.get_engine("tesseract")
    recognize = engine.recognize_page
    seen: list[int] = []

    def counting(image, *, page_number, options):
        seen.append(page_number)
        return recognize(image, page_number=page_number, options=options)

    monkeypatch.setattr(engine, "recognize_page", counting)
    return seen


def _tasks(job: Job) -> list[tuple[int, str, int]]:
    """The job's page tasks as (number, state, attempts)."""
    return list(
        PageTask.objects.filter(job=job)
        .order_by("number")
        .values_list("number", "state", "attempts")
    )


def _snapshot(job: Job) -> tuple:
    """What a page task may change: the job's row, its pages and its page tasks."""
    job = Job.objects.get(pk=job.pk)
    fields = ("status", "attempts", "pages_done", "text", "result", "error_code", "finished_at")
    pages = list(
        Page.objects.filter(job=job)
        .order_by("number")
        .values_list("pk", "number", "status", "text", "created_at")
    )
    tasks = list(
        PageTask.objects.filter(job=job)
        .order_by("number")
        .values_list("number", "state", "attempts", "started_at", "finished_at")
    )
    return tuple(getattr(job, f) for f in fields), pages, tasks


# -- a job read to its end -------------------------------------------------------------


def test_a_job_is_read_page_by_page_and_assembled_in_page_order(user, settings, sent, reads):
    settings.OCR_PAGE_WINDOW = 2
    job = _job(user, _pages(3))
    services.job_start(job_id=str(job.pk))  # as the task gets it
    assert reads and set(reads) == {1}  # the first page is read by the job task itself
    assert Job.objects.get(pk=job.pk).pages_done == 1

    assert _work(sent) == [2, 3]
    job.refresh_from_db()
    assert job.status == "done", (job.error_code, job.error_message)
    texts = job.text.split(PAGE_SEPARATOR)
    assert [f"page number {n}" in text for n, text in enumerate(texts, 1)] == [True] * 3
    assert job.pages_done == job.page_count == 3 and job.attempts == 1
    assert job.result["engine"] == "tesseract" and job.result["engine_version"]
    assert job.started_at and job.finished_at and job.duration >= 0
    assert _tasks(job) == [(1, "done", 1), (2, "done", 1), (3, "done", 1)]
    assert list(job.pages.order_by("number").values_list("number", "status")) == [
        (1, "done"),
        (2, "done"),
        (3, "done"),
    ]


def test_the_job_task_fills_the_window_before_it_reads_the_first_page(
    user, settings, sent, monkeypatch
):
    """At most ``OCR_PAGE_WINDOW`` pages of a job are queued or read at a time: the job
    task sends ``OCR_PAGE_WINDOW - 1`` page tasks, then reads the first page itself;
    each page stored sends the next page (app/services/run.py, docstring)."""
    settings.OCR_PAGE_WINDOW = 3
    job = _job(user, _pages(5))
    engine = registry.get_engine("tesseract")
    recognize = engine.recognize_page
    at_read: dict[int, tuple[list[int], int]] = {}

    def watching(image, *, page_number, options):
        in_flight = PageTask.objects.filter(job=job, state__in=("queued", "processing")).count()
        at_read.setdefault(page_number, (list(sent), in_flight))
        return recognize(image, page_number=page_number, options=options)

    monkeypatch.setattr(engine, "recognize_page", watching)
    services.job_start(job_id=str(job.pk))
    assert _work(sent) == [2, 3, 4, 5]  # each page sent once, in page order

    number = dict(PageTask.objects.filter(job=job).values_list("pk", "number"))
    queued_at_page_1 = [number[pk] for pk in at_read[1][0]]
    assert (queued_at_page_1, at_read[1][1]) == ([2, 3], 3), at_read
    assert max(in_flight for _, in_flight in at_read.values()) == 3, at_read
    job.refresh_from_db()
    assert job.status == "done" and job.pages_done == 5, (job.error_code, job.error_message)


# -- a one-page job: no page task -------------------------------------------------------


def test_a_one_page_job_is_read_by_its_job_task_alone(user, sent, reads):
    job = _job(user, render_text(["A single page"]).png(), filename="p.png")
    services.job_start(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == "done", (job.error_code, job.error_message)
    assert "A single page" in job.text and job.pages_done == job.page_count == 1
    assert reads == [1] and sent == [] and _tasks(job) == []  # nothing fanned out
    assert list(job.pages.values_list("number", "status")) == [(1, "done")]
    assert job.pages.get().text == job.text


def test_a_one_page_job_redelivered_after_its_process_died_reads_its_page_once_more(
    user, sent, monkeypatch
):
    job = _job(user, render_text(["Read on the second delivery"]).png(), filename="p.png")
    with monkeypatch.context() as m:
        _dying_on(m, 1)
        with pytest.raises(Died):
            services.job_start(job_id=str(job.pk))
    assert not job.pages.exists() and Job.objects.get(pk=job.pk).status == "processing"

    services.job_start(job_id=str(job.pk))  # redelivered (acks_late): through a page task
    job.refresh_from_db()
    assert job.status == "done", (job.error_code, job.error_message)
    assert "second delivery" in job.text and job.attempts == 2 and sent == []
    assert _tasks(job) == [(1, "done", 1)] and job.pages.count() == 1


def test_a_one_page_job_canceled_while_its_page_is_read_keeps_the_page(
    user, sent, monkeypatch, caplog
):
    job = _job(user, render_text(["Canceled meanwhile"]).png(), filename="p.png")
    engine = registry.get_engine("tesseract")
    recognize = engine.recognize_page

    def canceled_meanwhile(image, *, page_number, options):
        services.job_cancel(job=Job.objects.get(pk=job.pk))
        return recognize(image, page_number=page_number, options=options)

    monkeypatch.setattr(engine, "recognize_page", canceled_meanwhile)
    services.job_start(job_id=str(job.pk))
    job.refresh_from_db()
    assert (job.status, job.text, job.pages_done) == ("canceled", "", 1)
    assert "Canceled meanwhile" in job.pages.get().text
    assert f"job {job.pk} ended while it ran" in caplog.text


# -- the claim -------------------------------------------------------------------------


def test_a_claim_counts_deliveries_and_sets_started_at_once(user):
    job = _job(user, render_text().png(), filename="p.png")
    first = run._job_claim(job.pk)
    assert first.attempts == 1 and first.status == "processing" and first.started_at
    second = run._job_claim(job.pk)
    assert second.attempts == 2 and second.started_at == first.started_at
    job.refresh_from_db()
    assert (job.attempts, job.status, job.started_at) == (2, "processing", first.started_at)


def test_finished_jobs_are_not_run_and_crashing_ones_stop(user, settings, sent):
    done = _job(user, render_text().png(), filename="p.png")
    Job.objects.filter(pk=done.pk).update(status="done", text="kept")
    services.job_start(job_id=done.pk)
    done.refresh_from_db()
    assert (done.status, done.text, done.attempts) == ("done", "kept", 0)
    assert not done.page_tasks.exists()

    # Its worker died OCR_MAX_ATTEMPTS times: the next delivery fails it.
    crashing = _job(user, render_text().png(), filename="p.png")
    Job.objects.filter(pk=crashing.pk).update(attempts=settings.OCR_MAX_ATTEMPTS)
    services.job_start(job_id=crashing.pk)
    crashing.refresh_from_db()
    assert crashing.status == "failed" and crashing.error_code == "engine_crash"
    assert f"{settings.OCR_MAX_ATTEMPTS} times" in crashing.error_message
    assert crashing.attempts == settings.OCR_MAX_ATTEMPTS and crashing.finished_at
    assert not crashing.pages.exists() and not crashing.page_tasks.exists()
    assert sent == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_are_each_counted_once(settings):
    from concurrent.futures import ThreadPoolExecutor

    settings.OCR_MAX_ATTEMPTS = 100
    # Created directly: job_create would send its task once the transaction commits.
    job = Job.objects.create(engine="tesseract", content_type="image/png", page_count=1)

    def claim_ten() -> list[int]:
        try:
            return [run._job_claim(str(job.pk)).attempts for _ in range(10)]
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        counted = [
            n for claims in [pool.submit(claim_ten) for _ in range(2)] for n in claims.result()
        ]
    assert sorted(counted) == list(range(1, 21))
    job.refresh_from_db()
    assert job.attempts == 20 and job.status == "processing"


# -- redeliveries and duplicates ---------------------------------------------------------


def _dying_on(monkeypatch, number: int) -> list[int]:
    """The engine's process dies whenever it reads page ``number``; returns the page
    numbers it was called on."""
    engine = registry.get_engine("tesseract")
    recognize = engine.recognize_page
    calls: list[int] = []

    def dying(image, *, page_number, options):
        calls.append(page_number)
        if page_number == number:
            raise Died
        return recognize(image, page_number=page_number, options=options)

    monkeypatch.setattr(engine, "recognize_page", dying)
    return calls


def test_a_redelivered_job_task_keeps_the_pages_stored_by_the_earlier_delivery(
    user, settings, sent, reads, monkeypatch
):
    settings.OCR_PAGE_WINDOW = 1
    job = _job(user, _pages(3), pages="2-3")
    # The first delivery stores page 2 (the first page to read), then its process dies.
    top_up = run._top_up
    calls = []

    def dying_after_the_store(job):
        calls.append(job.pk)
        if len(calls) > 1:  # the job task's own top-up passes; the one after the store dies
            raise Died
        top_up(job)

    with monkeypatch.context() as m:
        m.setattr(run, "_top_up", dying_after_the_store)
        with pytest.raises(Died):
            services.job_start(job_id=str(job.pk))
    assert set(reads) == {2} and sent == []
    assert _tasks(job) == [(2, "done", 1), (3, "pending", 0)]
    # Marked, to tell the earlier delivery's page from a new reading of it.
    Page.objects.filter(job=job, number=2).update(
        text="Stored by the earlier delivery", result={"number": 2, "fields": {"name": "earlier"}}
    )
    reads.clear()

    services.job_start(job_id=str(job.pk))  # the broker delivers the job task again
    job.refresh_from_db()
    assert job.status == "done", (job.error_code, job.error_message)
    assert set(reads) == {3} and sent == []  # page 2 is not read again
    assert job.attempts == 2 and job.pages_done == job.page_count == 2
    first, second = job.text.split(PAGE_SEPARATOR)
    assert first == "Stored by the earlier delivery"
    assert "page number 3" in second
    assert job.result["fields"] == {"name": "earlier"}
    assert list(job.pages.order_by("number").values_list("number", "status")) == [
        (2, "done"),
        (3, "done"),
    ]
    assert _tasks(job) == [(2, "done", 1), (3, "done", 1)]


def test_a_delivery_after_every_page_was_stored_only_finishes(user, sent, reads):
    job = _job(user, render_text(["Never read"]).png(), filename="p.png")
    run._job_claim(job.pk)
    PageTask.objects.create(job=job, number=1, state="done", attempts=1)
    Page.objects.create(job=job, number=1, text="Already there", result={"number": 1})
    services.job_start(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.text == "Already there" and job.pages_done == 1
    assert reads == [] and sent == []
    assert _tasks(job) == [(1, "done", 1)]


def test_a_page_task_redelivered_after_its_process_died_reads_the_page_once_more(
    user, settings, sent, monkeypatch
):
    settings.OCR_PAGE_WINDOW = 1
    job = _job(user, _pages(2))
    services.job_start(job_id=str(job.pk))
    page_2 = sent.pop()
    with monkeypatch.context() as m:
        _dying_on(m, 2)
        with pytest.raises(Died):
            services.page_process(page_task_id=page_2)
    assert _tasks(job) == [(1, "done", 1), (2, "processing", 1)]

    services.page_process(page_task_id=page_2)  # redelivered (acks_late)
    job.refresh_from_db()
    assert job.status == "done", (job.error_code, job.error_message)
    assert "page number 2" in job.text.split(PAGE_SEPARATOR)[1]
    assert _tasks(job) == [(1, "done", 1), (2, "done", 2)]
    assert job.attempts == 1 and job.pages.count() == 2


def test_a_page_whose_process_died_ocr_max_attempts_times_fails_the_job_naming_it(
    user, settings, sent, monkeypatch, caplog
):
    settings.OCR_PAGE_WINDOW = 1
    job = _job(user, _pages(3))
    calls = _dying_on(monkeypatch, 2)
    services.job_start(job_id=str(job.pk))
    page_2 = sent.pop()
    for _ in range(settings.OCR_MAX_ATTEMPTS):  # each delivery kills its process
        with pytest.raises(Died):
            services.page_process(page_task_id=page_2)
    assert calls.count(2) == settings.OCR_MAX_ATTEMPTS

    services.page_process(page_task_id=page_2)  # the next delivery
    assert calls.count(2) == settings.OCR_MAX_ATTEMPTS  # not read again
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "engine_crash"
    assert job.error_message.startswith("Page 2: "), job.error_message
    assert f"{settings.OCR_MAX_ATTEMPTS} times" in job.error_message
    assert job.finished_at and job.text == ""
    pages = {p.number: p for p in job.pages.all()}
    assert (pages[1].status, pages[2].status, pages[2].error_code) == (
        "done",
        "failed",
        "engine_crash",
    )
    assert _tasks(job) == [
        (1, "done", 1),
        (2, "failed", settings.OCR_MAX_ATTEMPTS),
        (3, "pending", 0),
    ]
    assert sent == []  # page 3 is never sent
    assert any(r.levelname == "ERROR" and "page 2" in r.getMessage() for r in caplog.records)


def test_a_duplicated_page_task_changes_nothing(user, settings, sent, reads):
    settings.OCR_PAGE_WINDOW = 1
    job = _job(user, _pages(2))
    services.job_start(job_id=str(job.pk))
    tasks = dict(PageTask.objects.filter(job=job).values_list("number", "pk"))
    # While the job runs: page 1 (stored by the job task) is delivered again.
    before = _snapshot(job)
    reads.clear()
    services.page_process(page_task_id=tasks[1])
    assert _snapshot(job) == before and reads == [] and sent == [tasks[2]]

    assert _work(sent) == [2]
    job.refresh_from_db()
    assert job.status == "done", (job.error_code, job.error_message)
    # After the job's end: every page task delivered again.
    before = _snapshot(job)
    reads.clear()
    for pk in tasks.values():
        services.page_process(page_task_id=pk)
    assert _snapshot(job) == before and reads == [] and sent == []


# -- stops: time limit, cancel, delete -------------------------------------------------------


def test_a_job_over_its_time_limit_fails_before_its_next_page(user, settings, sent, reads):
    settings.OCR_PAGE_WINDOW = 1
    settings.OCR_JOB_TIME_LIMIT = 60
    job = _job(user, _pages(3))
    services.job_start(job_id=str(job.pk))
    assert Job.objects.get(pk=job.pk).pages_done == 1
    # The job started longer ago than OCR_JOB_TIME_LIMIT when its next page starts.
    Job.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(seconds=61))
    reads.clear()

    assert _work(sent) == [2]
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "timeout"
    assert "60 s" in job.error_message and "page 2" in job.error_message, job.error_message
    assert reads == [] and sent == []  # page 2 is not read, page 3 never sent
    assert job.pages_done == 1 and job.text == "" and job.finished_at
    assert list(job.pages.values_list("number", "status")) == [(1, "done")]
    assert _tasks(job) == [(1, "done", 1), (2, "queued", 0), (3, "pending", 0)]


def test_a_canceled_job_stops_before_its_next_page(user, settings, sent, reads, caplog):
    settings.OCR_PAGE_WINDOW = 1
    job = _job(user, _pages(3))
    services.job_start(job_id=str(job.pk))
    services.job_cancel(job=Job.objects.get(pk=job.pk))
    reads.clear()

    assert _work(sent) == [2]
    job.refresh_from_db()
    assert (job.status, job.pages_done, job.text) == ("canceled", 1, "")
    assert reads == [] and sent == []
    assert list(job.pages.values_list("number", "status")) == [(1, "done")]
    assert f"job {job.pk} is canceled: stopped before page 2" in caplog.text


def test_a_page_task_of_a_deleted_job_does_nothing(user, settings, sent, reads, caplog):
    settings.OCR_PAGE_WINDOW = 1
    job = _job(user, _pages(2))
    services.job_start(job_id=str(job.pk))
    page_2 = sent.pop()
    services.job_delete(job=Job.objects.get(pk=job.pk))
    reads.clear()

    services.page_process(page_task_id=page_2)
    assert reads == [] and sent == []
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not Page.objects.filter(job_id=job.pk).exists()
    assert f"page task {page_2} is gone" in caplog.text


# -- statements per job --------------------------------------------------------------------


def test_statements_per_job_and_per_page_stay_bounded(
    user, settings, sent, django_assert_max_num_queries
):
    """Measured: 6 statements for a one-page job in two transactions (the claim; the
    job's end with its page stored: 2, plus 4 savepoint statements) and 15 for a further
    page of a longer job (SQLite); the bounds leave a little headroom."""
    settings.OCR_PAGE_WINDOW = 1
    one = _job(user, render_text(["One page"]).png(), filename="p.png")
    with django_assert_max_num_queries(7):
        services.job_start(job_id=str(one.pk))
    assert Job.objects.get(pk=one.pk).status == "done"

    job = _job(user, _pages(3))
    services.job_start(job_id=str(job.pk))
    for _ in range(2):
        [pk] = sent
        sent.clear()
        with django_assert_max_num_queries(17):
            services.page_process(page_task_id=pk)
    assert Job.objects.get(pk=job.pk).status == "done"
