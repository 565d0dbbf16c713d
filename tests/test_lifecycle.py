"""The job lifecycle: one terminal transition (``services.job_end``) and cancel.

Service-level checks run in the test process; cancels of pending and running jobs
use real worker processes on queues of their own.
"""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from app import services
from app.errors import OcrError
from app.models import Job, JobStatus, Page, PageTask
from app.pipeline.options import JobOptions
from app.signals import job_finished
from tests.api.helpers import upload
from tests.conftest import wait_until
from tests.imaging import render_text, text_pdf


@pytest.fixture
def ends():
    """Every ``job_finished`` sent during the test, as (job_id, status, error_code)."""
    seen: list[tuple[str, str, str]] = []

    def receiver(sender, job_id, status, error_code, **kwargs):
        seen.append((str(job_id), status, error_code))

    job_finished.connect(receiver, weak=False)
    yield seen
    job_finished.disconnect(receiver)


def _pending_job(**fields) -> Job:
    # Created directly: job_create would send its task once the transaction commits.
    return Job.objects.create(engine="tesseract", content_type="image/png", page_count=1, **fields)


@pytest.mark.django_db
def test_one_end_per_job_and_one_signal(ends, django_capture_on_commit_callbacks):
    done, failed, canceled = _pending_job(), _pending_job(), _pending_job()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_end(job_id=done.pk, status=JobStatus.DONE, text="hi", pages_done=1)
        services.job_fail(job_id=failed.pk, code="invalid_image", message="bad")
        services.job_cancel(job=canceled)
        # Second attempts change nothing and send nothing.
        assert not services.job_end(job_id=done.pk, status=JobStatus.FAILED, code="timeout")
        services.job_fail(job_id=failed.pk, code="timeout", message="late")
        assert not services.job_end(job_id=canceled.pk, status=JobStatus.DONE, text="late")
    assert ends == [
        (str(done.pk), "done", ""),
        (str(failed.pk), "failed", "invalid_image"),
        (str(canceled.pk), "canceled", ""),
    ]
    for job in (done, failed, canceled):
        job.refresh_from_db()
        assert job.finished_at is not None
    assert (done.status, done.text, done.error_code) == ("done", "hi", "")
    assert (failed.status, failed.error_code, failed.error_message) == (
        "failed",
        "invalid_image",
        "bad",
    )
    assert (canceled.status, canceled.text, canceled.duration) == ("canceled", "", None)
    with pytest.raises(OcrError) as exc:
        services.job_cancel(job=done)
    assert exc.value.code == "already_finished" and exc.value.http_status == 409


@pytest.mark.django_db
def test_no_signal_when_the_end_is_rolled_back(ends, django_capture_on_commit_callbacks):
    job = _pending_job()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.job_end(job_id=job.pk, status=JobStatus.CANCELED)
        raise RuntimeError
    job.refresh_from_db()
    assert job.status == "pending" and ends == []
    with pytest.raises(ValueError):
        services.job_end(job_id=job.pk, status=JobStatus.PROCESSING)


@pytest.mark.django_db
def test_a_job_run_to_its_end_and_a_crash_send_the_signal_once(
    user, settings, ends, django_capture_on_commit_callbacks
):
    job = services.job_create(
        owner=user,
        request=services.JobRequest(
            data=render_text(["Signal once"]).png(),
            filename="p.png",
            options=JobOptions(engine="tesseract", languages=("eng",)),
        ),
    )
    crashing = _pending_job(attempts=settings.OCR_MAX_ATTEMPTS)
    with django_capture_on_commit_callbacks(execute=True):
        services.job_start(job_id=job.pk)  # one page: read by the job task itself
        services.job_start(job_id=job.pk)  # a redelivery of a finished job: nothing
        assert not job.page_tasks.exists()  # nothing fanned out (late page tasks: test_run)
        services.job_start(job_id=crashing.pk)
        services.job_start(job_id=crashing.pk)
    assert ends == [(str(job.pk), "done", ""), (str(crashing.pk), "failed", "engine_crash")]


@pytest.mark.django_db
def test_a_canceled_pending_job_is_never_claimed(user):
    job = _pending_job(owner=user)
    services.job_cancel(job=job)
    services.job_start(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.started_at) == ("canceled", 0, None)
    assert not job.page_tasks.exists()


# ---------------------------------------------------------------------------
# With real workers


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_cancel_while_pending_the_job_never_runs(auth_client, tmp_path, settings):
    from tests.conftest import start_worker, wait_until

    settings.OCR_QUEUE = queue = f"{settings.OCR_QUEUE}-pending"
    # No worker consumes the queue yet: the job waits there.
    job_id = auth_client.post("/api/ocr/", {"image": upload(render_text().png())}).json()["id"]
    response = auth_client.post(f"/api/ocr/{job_id}/cancel/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "canceled" and response.json()["finished_at"]

    worker = start_worker(tmp_path / "w.log", concurrency=1, queue=queue)
    try:
        # The worker receives the task and its claim refuses it; a later job proves
        # the queued one was consumed before it.
        ok = auth_client.post("/api/ocr/?wait=30", {"image": upload(render_text(["After"]).png())})
        assert ok.json()["status"] == "done", ok.content
        wait_until(lambda: worker.output().count("succeeded") >= 2, 30, "both tasks")
        job = Job.objects.get(pk=job_id)
        assert (job.status, job.attempts, job.started_at, job.pages_done) == (
            "canceled",
            0,
            None,
            0,
        )
        assert not Page.objects.filter(job_id=job_id).exists()
        assert "ERROR" not in worker.output()
    finally:
        worker.stop()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_cancel_while_running_stops_at_a_page_boundary(auth_client, tmp_path, settings):
    from tests.conftest import start_worker

    settings.OCR_QUEUE = queue = f"{settings.OCR_QUEUE}-cancel"
    # One pool process and a window of two pages: while it reads a page, the job's next
    # page task waits in the queue (whatever the machine's CPU count).
    worker = start_worker(
        tmp_path / "w.log", concurrency=1, queue=queue, env_extra={"OCR_PAGE_WINDOW": "2"}
    )
    try:
        response = auth_client.post(
            "/api/ocr/", {"image": upload(text_pdf(6, "canceled while it is read."), "doc.pdf")}
        )
        job_id = response.json()["id"]
        wait_until(
            lambda: (
                Page.objects.filter(job_id=job_id).exists()
                and PageTask.objects.filter(
                    job_id=job_id, state__in=("queued", "processing")
                ).exists()
            ),
            120,
            "page 1 and the next page tasks",
        )
        canceled = auth_client.post(f"/api/ocr/{job_id}/cancel/")
        assert canceled.status_code == 200, canceled.content
        assert canceled.json()["status"] == "canceled"

        # The next page task delivered does not start its page.
        stop = f"job {job_id} is canceled: stopped before page"
        wait_until(lambda: stop in worker.output(), 60, "the stop")
        time.sleep(0.5)  # nothing written after the stop
        job = Job.objects.get(pk=job_id)
        assert job.status == "canceled" and job.text == "" and job.result is None
        numbers = list(Page.objects.filter(job_id=job_id).values_list("number", flat=True))
        assert 1 <= len(numbers) == job.pages_done < job.page_count == 6
        assert numbers == list(range(1, len(numbers) + 1))
        # The page being read at the cancel is stored; no page after it was started.
        unread = PageTask.objects.filter(job_id=job_id).exclude(state="done")
        assert set(unread.values_list("state", "attempts")) <= {("pending", 0), ("queued", 0)}
        assert unread.count() == 6 - len(numbers)

        pages = auth_client.get(f"/api/ocr/{job_id}/pages/")
        assert pages.status_code == 200
        assert "Page 1 of a document" in pages.json()[0]["text"]
        image = auth_client.get(f"/api/ocr/{job_id}/pages/1/image/")
        assert image.status_code == 200 and image["Content-Type"].startswith("image/")
        assert auth_client.post(f"/api/ocr/{job_id}/cancel/").status_code == 409
        log = worker.output()
        assert "ERROR" not in log and "Traceback" not in log, log[-4000:]

        # The same worker process runs the next job.
        ok = auth_client.post(
            "/api/ocr/?wait=30", {"image": upload(render_text(["Next job"]).png())}
        )
        assert ok.json()["status"] == "done" and ok.json()["text"] == "Next job"
        assert "ERROR" not in worker.output()
    finally:
        worker.stop()
