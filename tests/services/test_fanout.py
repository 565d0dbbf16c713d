"""Page fan-out with real worker processes (app/services/run.py, docs/architecture.md).

A job's pages are page tasks any worker process takes: two workers read one job at
once, a pool process killed mid-page has its page read again (once), duplicated page
tasks change nothing, a small job overtakes a big one (the window), a cancel stops
every worker at its next page, and a failing page fails the job naming it.

The tests share two workers (one pool process each, ``OCR_PAGE_WINDOW=2``) on a
queue of their own, so the session worker never takes their tasks.
"""

from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from app.models import Job, Page, PageTask
from app.pipeline.schema import PAGE_SEPARATOR
from tests.api.helpers import upload
from tests.conftest import TEST_QUEUE, WorkerProcess, start_worker, wait_for_job, wait_until
from tests.imaging import cer, render_text

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WINDOW = 2
LINE = "read page by page."
#: A long page: read in a few seconds (room to kill its process while it is read).
LONG = [
    "Optical character recognition turns images of",
    "typed or printed text into machine text for all.",
]


def _lines(number: int, extra: int = 0) -> list[str]:
    return [f"Page {number} of a document", LINE] + LONG * extra


def _pdf(pages: int, *, long_pages: dict[int, int] | None = None) -> tuple[bytes, list[str]]:
    """A PDF of ``pages`` rendered text pages (100 DPI) and each page's text;
    ``long_pages``: page number -> times :data:`LONG` is added to that page."""
    texts, images = [], []
    for n in range(1, pages + 1):
        rendered = render_text(_lines(n, (long_pages or {}).get(n, 0)))
        texts.append(rendered.text)
        images.append(rendered.image.convert("RGB"))
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=100)
    return buf.getvalue(), texts


def _submit(client, data: bytes, name: str = "doc.pdf") -> str:
    response = client.post("/api/ocr/", {"image": upload(data, name)})
    assert response.status_code == 202, response.content
    return response.json()["id"]


class Pool:
    """The module's two workers (one pool process each) on their queue; ``since()``
    is the log output written since the current test started."""

    def __init__(self, queue: str, workers: list[WorkerProcess]) -> None:
        self.queue = queue
        self.workers = workers
        self.marks = [0] * len(workers)

    def mark(self) -> None:
        self.marks = [len(w.output()) for w in self.workers]

    def since(self) -> str:
        return "\n".join(w.output()[m:] for w, m in zip(self.workers, self.marks, strict=True))

    def named(self, node: str) -> WorkerProcess:
        """The worker whose Celery node name is ``node`` (as ``PageTask.worker`` says)."""
        [worker] = [w for w in self.workers if f" {node} ready." in w.output()]
        return worker


def _stop_all(workers: list[WorkerProcess]) -> None:
    with ThreadPoolExecutor(max(1, len(workers))) as stopping:  # each stop takes seconds
        list(stopping.map(WorkerProcess.stop, workers))


@pytest.fixture(scope="module")
def _pool(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Pool]:
    """Two workers, one pool process each, ``OCR_PAGE_WINDOW=2``, on a queue of their
    own; started side by side once for the module and stopped whatever happened."""
    queue = f"{TEST_QUEUE}-fanout"
    logs = tmp_path_factory.mktemp("fanout")
    started: list[WorkerProcess] = []

    def one(i: int) -> None:
        started.append(
            start_worker(
                logs / f"worker-{i}.log",
                concurrency=1,
                env_extra={"OCR_PAGE_WINDOW": str(WINDOW)},
                queue=queue,
            )
        )

    try:
        with ThreadPoolExecutor(2) as starting:
            list(starting.map(one, range(2)))
        yield Pool(queue, started)
    finally:
        _stop_all(started)


@pytest.fixture
def pool(_pool: Pool, settings, transactional_db) -> Iterator[Pool]:
    """The module's workers; jobs submitted in the test go to their queue."""
    settings.OCR_QUEUE = settings.OCR_PROVIDER_QUEUE = _pool.queue
    settings.OCR_PAGE_WINDOW = WINDOW
    for worker in _pool.workers:
        assert worker.proc.poll() is None, worker.output()[-4000:]
    _pool.mark()
    yield _pool
    # Nothing of this test still running when the next one starts (tables are emptied).
    wait_until(lambda: not PageTask.objects.filter(state="processing").exists(), 30, "pages to end")


def _check_done(job: Job, texts: list[str], pool: Pool) -> None:
    """Done, its text right and in page order, every page stored exactly once."""
    assert job.status == "done", (job.error_code, job.error_message, pool.since()[-6000:])
    assert job.pages_done == job.page_count == len(texts)
    parts = job.text.split(PAGE_SEPARATOR)
    assert len(parts) == len(texts)
    for n, (want, got) in enumerate(zip(texts, parts, strict=True), 1):
        assert cer(want, got) < 0.03, (n, want, got)
    pages = list(Page.objects.filter(job=job).order_by("number").values_list("number", "status"))
    assert pages == [(n, "done") for n in range(1, len(texts) + 1)]
    states = list(PageTask.objects.filter(job=job).values_list("state", flat=True))
    assert states == ["done"] * len(texts)


def _clean(log: str) -> None:
    assert "ERROR" not in log and "Traceback" not in log, log[-6000:]


# ---------------------------------------------------------------------------------------


def test_one_job_is_read_by_two_workers_at_once(auth_client, pool):
    data, texts = _pdf(6)
    job = wait_for_job(_submit(auth_client, data), timeout=60)

    _check_done(job, texts, pool)
    body = auth_client.get(f"/api/ocr/{job.id}/").json()
    assert body["status"] == "done" and body["text"] == job.text
    tasks = list(PageTask.objects.filter(job=job).order_by("number"))
    assert [t.attempts for t in tasks] == [1] * 6
    assert len({t.worker for t in tasks}) == 2, [t.worker for t in tasks]
    overlapping = [
        (a.number, b.number)
        for a in tasks
        for b in tasks
        if a.worker < b.worker and a.started_at < b.finished_at and b.started_at < a.finished_at
    ]
    assert overlapping, [(t.number, t.worker, t.started_at, t.finished_at) for t in tasks]
    _clean(pool.since())


@pytest.mark.parametrize(
    "number", [1, 3], ids=["page-read-by-the-job-task", "page-read-by-a-page-task"]
)
def test_a_pool_process_killed_mid_page_has_its_page_read_again_once(auth_client, pool, number):
    data, texts = _pdf(6, long_pages={number: 8})
    job_id = _submit(auth_client, data)

    reading = wait_until(
        lambda: PageTask.objects.filter(job_id=job_id, number=number, state="processing").first(),
        60,
        f"page {number} to be read",
    )
    worker = pool.named(reading.worker)
    children = worker.child_pids()
    assert len(children) == 1  # one pool process: the one reading the page
    os.kill(children[0], signal.SIGKILL)
    assert not PageTask.objects.filter(job_id=job_id, number=number, state="done").exists()

    job = wait_for_job(job_id, timeout=60)
    _check_done(job, texts, pool)
    attempts = dict(PageTask.objects.filter(job=job).values_list("number", "attempts"))
    assert attempts == {n: 2 if n == number else 1 for n in range(1, 7)}
    # Page 1 is read by the job task itself: that task is the one delivered again.
    assert job.attempts == (2 if number == 1 else 1)
    log = pool.since()
    assert "SIGKILL" in log, log[-6000:]  # the page's process died, not the page task
    assert worker.proc.poll() is None
    new = wait_until(worker.child_pids, 10, "a new pool process")
    assert children[0] not in new


def _snapshot(job_id) -> tuple:
    job = Job.objects.get(pk=job_id)
    pages = list(
        Page.objects.filter(job_id=job_id)
        .order_by("number")
        .values_list("pk", "number", "status", "created_at", "text")
    )
    tasks = list(
        PageTask.objects.filter(job_id=job_id)
        .order_by("number")
        .values_list("number", "state", "attempts", "worker", "started_at", "finished_at")
    )
    return (job.status, job.pages_done, job.text, job.finished_at, job.result), pages, tasks


def _ran(pool: Pool, task_id: str) -> bool:
    return f"Task ocr.page[{task_id}] succeeded" in pool.since()


def test_duplicated_page_tasks_change_nothing(auth_client, pool):
    from app.tasks import page_task

    data, texts = _pdf(8)
    job_id = _submit(auth_client, data)

    # While the job runs: page 1 stored, page 3 queued or being read. The duplicates go
    # to the back of the queue, before pages 5-8 are sent (each is sent when the page
    # two before it is stored), so they run while the job is processing. A duplicate
    # of page 3 taken while page 3 is read elsewhere may read it too (as a redelivery
    # would), but only one of the two stores it.
    wait_until(
        lambda: PageTask.objects.filter(job_id=job_id, number=1, state="done").exists(),
        60,
        "page 1",
    )
    tasks = dict(PageTask.objects.filter(job_id=job_id).values_list("number", "pk"))
    during = [page_task.apply_async(args=[tasks[n]], queue=pool.queue).id for n in (1, 3)]
    for task_id in during:
        wait_until(lambda t=task_id: _ran(pool, t), 30, f"duplicate {task_id}")
    assert Job.objects.get(pk=job_id).status == "processing"

    job = wait_for_job(job_id, timeout=60)
    _check_done(job, texts, pool)
    attempts = list(PageTask.objects.filter(job=job).values_list("attempts", flat=True))
    assert attempts[:2] == [1, 1] and attempts[2] in (1, 2) and attempts[3:] == [1] * 5
    before = _snapshot(job_id)

    # After the job's end: every page sent again.
    after = [page_task.apply_async(args=[pk], queue=pool.queue).id for pk in tasks.values()]
    for task_id in after:
        wait_until(lambda t=task_id: _ran(pool, t), 30, f"duplicate {task_id}")
    log = pool.since()
    for task_id in during + after:
        assert f"Task ocr.page[{task_id}] received" in log
    assert _snapshot(job_id) == before
    body = auth_client.get(f"/api/ocr/{job_id}/").json()
    assert body["status"] == "done" and body["text"] == job.text
    assert [p["number"] for p in auth_client.get(f"/api/ocr/{job_id}/pages/").json()] == list(
        range(1, 9)
    )
    _clean(log)


def test_a_small_job_is_not_kept_behind_a_big_one(auth_client, pool):
    big_data, big_texts = _pdf(12)
    big_id = _submit(auth_client, big_data)
    wait_until(lambda: Job.objects.filter(pk=big_id, pages_done__gte=1).exists(), 60, "the big job")
    small_rendered = render_text(["A small job", "submitted later."])
    small_id = _submit(auth_client, small_rendered.png(), "small.png")
    done_at_submit = PageTask.objects.filter(job_id=big_id, state="done").count()

    small = wait_for_job(small_id, timeout=60)
    big_then = Job.objects.get(pk=big_id)
    assert small.status == "done" and cer(small_rendered.text, small.text) < 0.03
    assert big_then.status == "processing" and big_then.pages_done < big_then.page_count

    big = wait_for_job(big_id, timeout=60)
    _check_done(big, big_texts, pool)
    assert small.finished_at < big.finished_at
    # Behind at most a window of the big job's pages (plus the pages being read when
    # it came), never behind all of them.
    before_small = PageTask.objects.filter(
        job_id=big_id, finished_at__lte=small.finished_at
    ).count()
    assert before_small <= done_at_submit + 2 * WINDOW, (done_at_submit, before_small)
    _clean(pool.since())


def test_a_cancel_stops_both_workers_at_their_next_page(auth_client, pool):
    from app.tasks import page_task

    data, texts = _pdf(8)
    job_id = _submit(auth_client, data)
    wait_until(lambda: Job.objects.filter(pk=job_id, pages_done__gte=2).exists(), 60, "two pages")
    response = auth_client.post(f"/api/ocr/{job_id}/cancel/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "canceled"
    canceled_at = Job.objects.get(pk=job_id).finished_at
    # The job's other pages queued, as a top-up on another host (or a larger window)
    # would have left them: the page tasks are delivered after the cancel.
    pending = PageTask.objects.filter(job_id=job_id, state="pending")
    late_sent = list(pending.values_list("pk", flat=True))
    pending.update(state="queued")
    late_ids = [page_task.apply_async(args=[pk], queue=pool.queue).id for pk in late_sent]
    assert late_sent

    # The pages being read when the cancel came end; no other page starts.
    wait_until(
        lambda: not PageTask.objects.filter(job_id=job_id, state="processing").exists(),
        30,
        "the pages being read to end",
    )
    for task_id in late_ids:
        wait_until(lambda t=task_id: _ran(pool, t), 30, f"page task {task_id}")
    time.sleep(0.5)
    job = Job.objects.get(pk=job_id)
    assert job.status == "canceled" and job.text == "" and job.finished_at == canceled_at
    tasks = list(PageTask.objects.filter(job_id=job_id).order_by("number"))
    # A page whose check came just before the cancel may start in the same instant.
    slack = canceled_at + timedelta(seconds=0.3)
    late = [t.number for t in tasks if t.started_at and t.started_at > slack]
    assert not late, (late, canceled_at, [(t.number, t.started_at) for t in tasks])
    for task in tasks:
        if task.pk in late_sent:
            assert (task.state, task.attempts, task.started_at) == ("queued", 0, None), task
    done = [t.number for t in tasks if t.state == "done"]
    assert {t.state for t in tasks if t.state != "done"} <= {"pending", "queued"}, tasks
    assert 2 <= len(done) < 8 and done == list(range(1, len(done) + 1)), done
    assert job.pages_done == len(done)

    pages = auth_client.get(f"/api/ocr/{job_id}/pages/")
    assert pages.status_code == 200
    listed = pages.json()
    assert [p["number"] for p in listed] == done
    for page in listed:
        assert page["status"] == "done"
        assert cer(texts[page["number"] - 1], page["text"]) < 0.03, page["text"]
    body = auth_client.get(f"/api/ocr/{job_id}/").json()
    assert body["status"] == "canceled" and body["pages_done"] == len(done)
    _clean(pool.since())


def _failing_on_page_3(auth_client) -> tuple[Job, list[str]]:
    """A 5-page PDF whose page 3 draws an image declaring 81 MP (over
    ``OCR_MAX_PIXELS``: refused when the page is read), run to its end; the job and
    the texts of pages 1, 2, 4 and 5."""
    import pypdfium2 as pdfium

    from tests.pipeline.hostile_pdf import flate_image, image_pdf

    good, texts = _pdf(4)
    pdf, bad = pdfium.PdfDocument(good), pdfium.PdfDocument(image_pdf(flate_image(9000, 9000)))
    try:
        pdf.import_pages(bad, pages=[0], index=2)
        buf = io.BytesIO()
        pdf.save(buf)
    finally:
        bad.close()
        pdf.close()
    job = wait_for_job(_submit(auth_client, buf.getvalue()), timeout=60)
    wait_until(
        lambda: not PageTask.objects.filter(job=job, state="processing").exists(), 30, "the end"
    )
    return job, texts


def test_a_failing_page_fails_the_job_naming_it(auth_client, pool):
    job, texts = _failing_on_page_3(auth_client)

    assert job.status == "failed", (job.status, pool.since()[-6000:])
    assert job.error_code == "too_many_pixels"
    assert job.error_message.startswith("Page 3: "), job.error_message
    assert "81,000,000 pixels" in job.error_message
    body = auth_client.get(f"/api/ocr/{job.id}/").json()
    assert body["status"] == "failed" and body["error"]["code"] == "too_many_pixels"
    assert body["error"]["message"] == job.error_message
    pages = {p["number"]: p for p in auth_client.get(f"/api/ocr/{job.id}/pages/").json()}
    assert pages[3]["status"] == "failed" and pages[3]["error"]["code"] == "too_many_pixels"
    assert "Page 3" in pages[3]["error"]["message"]
    for n in (1, 2):  # read before it: kept, readable
        assert pages[n]["status"] == "done" and cer(texts[n - 1], pages[n]["text"]) < 0.03
    assert PageTask.objects.get(job=job, number=3).state == "failed"
    assert "Traceback" not in pool.since()


def test_the_failing_page_is_named_once_in_the_jobs_error(auth_client, pool):
    job, _ = _failing_on_page_3(auth_client)
    assert job.error_code == "too_many_pixels"
    # Not "Page 3: Page 3: an embedded image declares ...".
    assert job.error_message.count("Page 3") == 1, job.error_message
