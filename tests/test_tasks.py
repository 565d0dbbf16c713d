"""Jobs run by a real Celery worker process: results, failures, crashes."""

import re
import time

import pytest

from tests.api.helpers import upload
from tests.conftest import wait_for_job, wait_until
from tests.imaging import cer, render_text, text_pdf

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_job_is_run_by_the_worker(auth_client, celery_worker):
    rendered = render_text()
    response = auth_client.post("/api/ocr/", {"image": upload(rendered.png())})
    assert response.status_code == 202
    job = wait_for_job(response.json()["id"])
    assert job.status == "done", (job.error_code, job.error_message, celery_worker.output()[-3000:])
    assert cer(rendered.text, job.text) < 0.02
    assert job.pages_done == job.page_count == 1
    assert job.started_at and job.finished_at and job.duration > 0
    body = auth_client.get(f"/api/ocr/{job.id}/").json()
    page = body["result"]["pages"][0]
    assert page["width"] == rendered.image.width and page["height"] == rendered.image.height
    words = [w for b in page["blocks"] for ln in b["lines"] for w in ln["words"]]
    assert len(words) == len(rendered.word_boxes)
    assert body["text"] == job.text and body["error"] is None


def test_wait_returns_the_finished_job(auth_client, celery_worker):
    rendered = render_text(["Waiting for the answer"])
    response = auth_client.post("/api/ocr/?wait=20", {"image": upload(rendered.png())})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "done"
    assert body["text"] == "Waiting for the answer"


def test_wait_as_a_body_field(auth_client, celery_worker):
    import base64

    png = render_text(["Body wait"]).png()
    response = auth_client.post(
        "/api/ocr/", {"image_base64": base64.b64encode(png).decode(), "wait": 20}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["text"] == "Body wait"


def test_wait_zero_answers_at_once(auth_client, celery_worker):
    response = auth_client.post("/api/ocr/?wait=0", {"image": upload(render_text().png())})
    assert response.status_code == 202


def test_exif_orientation_is_honoured(auth_client, celery_worker):
    import io

    rendered = render_text(["Rotated by the camera"])
    # Stored sideways with EXIF Orientation=6 ("rotate 90 CW to view"), as phones do.
    sideways = rendered.image.rotate(90, expand=True).convert("RGB")
    exif = sideways.getexif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    sideways.save(buf, "JPEG", quality=95, exif=exif)
    response = auth_client.post("/api/ocr/?wait=20", {"image": upload(buf.getvalue(), "p.jpg")})
    assert response.json()["text"] == "Rotated by the camera"


def test_native_crash_is_retried_a_bounded_number_of_times_then_failed(
    auth_client, celery_worker, settings
):
    children_before = celery_worker.child_pids()
    response = auth_client.post(
        "/api/ocr/", {"image": upload(render_text().png()), "engine": "crash_test"}
    )
    job = wait_for_job(response.json()["id"], timeout=240)
    assert job.status == "failed"
    assert job.error_code == "engine_crash", (job.error_message, celery_worker.output()[-4000:])
    assert job.attempts == settings.OCR_MAX_ATTEMPTS
    log = celery_worker.output()
    assert log.count("SIGABRT") >= settings.OCR_MAX_ATTEMPTS  # the child died in native code
    # The worker came back by itself: new children, and the next job runs.
    assert celery_worker.proc.poll() is None
    assert set(celery_worker.child_pids()) != set(children_before)
    ok = auth_client.post(
        "/api/ocr/?wait=20", {"image": upload(render_text(["Still alive"]).png())}
    )
    assert ok.json()["status"] == "done" and ok.json()["text"] == "Still alive"


def test_an_engine_error_fails_the_job_with_its_code(auth_client, celery_worker, monkeypatch):
    # Stored image removed from storage: the task must fail cleanly, not hang. Removed
    # before the task is sent: a worker can pick a job up within milliseconds.
    from app.services import jobs

    enqueue = jobs.job_enqueue

    def delete_then_enqueue(*, job):
        job.file.storage.delete(job.file.name)
        enqueue(job=job)

    monkeypatch.setattr(jobs, "job_enqueue", delete_then_enqueue)  # as job_create calls it
    response = auth_client.post("/api/ocr/", {"image": upload(render_text().png())})
    job = wait_for_job(response.json()["id"])
    assert job.status == "failed"
    assert job.error_code in ("internal_error", "invalid_image")
    assert job.finished_at is not None


def test_many_jobs_all_finish(auth_client, celery_worker):
    ids = []
    for i in range(6):
        r = auth_client.post("/api/ocr/", {"image": upload(render_text([f"Batch page {i}"]).png())})
        ids.append(r.json()["id"])
    started = time.monotonic()
    texts = [wait_for_job(i).text for i in ids]
    assert texts == [f"Batch page {i}" for i in range(6)]
    assert time.monotonic() - started < 60


# -- issue 11: oem decided from the traineddata ------------------------------------------


@pytest.mark.parametrize("oem", [0, 2])
def test_a_legacy_oem_is_refused_at_submission_naming_the_language(auth_client, oem):
    from app.models import Job

    response = auth_client.post(
        "/api/ocr/", {"image": upload(render_text().png()), "languages": "deu+eng", "oem": oem}
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_option" and error["field"] == "oem"
    assert "deu" in error["message"] and "eng" in error["message"]
    assert not Job.objects.exists()  # nothing stored


@pytest.mark.parametrize("oem", [1, 3])
def test_an_lstm_or_default_oem_job_is_done(auth_client, celery_worker, oem):
    rendered = render_text(["Engine mode accepted"])
    response = auth_client.post(
        "/api/ocr/?wait=30",
        {"image": upload(rendered.png()), "languages": "eng+deu", "oem": oem, "psm": 7},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "done" and body["text"] == "Engine mode accepted"


# -- issue 11: a job deleted while it runs; worker recycling -------------------------------


def test_deleting_a_running_job_stops_it_quietly(auth_client, tmp_path, settings):
    from django.core.files.storage import default_storage

    from app.models import Job, Page, PageTask
    from tests.conftest import start_worker

    settings.OCR_QUEUE = queue = f"{settings.OCR_QUEUE}-delete"
    # One pool process and a window of two pages: while it reads a page, the job's next
    # page task waits in the queue (whatever the machine's CPU count).
    worker = start_worker(
        tmp_path / "w.log", concurrency=1, queue=queue, env_extra={"OCR_PAGE_WINDOW": "2"}
    )
    try:
        response = auth_client.post(
            "/api/ocr/", {"image": upload(text_pdf(8, "deleted while it is read."), "doc.pdf")}
        )
        job_id = response.json()["id"]
        job = wait_until(
            lambda: (
                Job.objects.filter(pk=job_id, pages_done__gte=1).first()
                if PageTask.objects.filter(
                    job_id=job_id, state__in=("queued", "processing")
                ).exists()
                else None
            ),
            120,
            "page 1 and the next page tasks",
        )
        assert job.status == "processing" and job.pages_done < job.page_count == 8
        page_tasks = list(PageTask.objects.filter(job_id=job_id).values_list("pk", flat=True))
        assert len(page_tasks) == 8
        stored = job.file.name
        assert default_storage.exists(stored)
        assert auth_client.delete(f"/api/ocr/{job_id}/").status_code == 204

        # The page being read is not stored, the page tasks delivered after find theirs
        # gone: each says so.
        stops = [f"job {job_id} was deleted while it ran: page "] + [
            f"page task {pk} is gone" for pk in page_tasks
        ]

        def stopped() -> bool:
            log = worker.output()
            return any(stop in log for stop in stops)

        wait_until(stopped, 60, "the worker to stop")
        time.sleep(0.5)  # nothing written after the stop either
        log = worker.output()
        assert "ERROR" not in log and "Traceback" not in log, log[-4000:]
        assert not Job.objects.filter(pk=job_id).exists()
        assert not Page.objects.filter(job_id=job_id).exists()
        assert not PageTask.objects.filter(job_id=job_id).exists()
        assert not default_storage.exists(stored)

        # The same worker process runs the next job.
        ok = auth_client.post(
            "/api/ocr/?wait=30", {"image": upload(render_text(["Next job"]).png())}
        )
        assert ok.json()["status"] == "done" and ok.json()["text"] == "Next job"
        assert "ERROR" not in worker.output()
    finally:
        worker.stop()


@pytest.mark.parametrize(
    "env, reason",
    [
        ({"OCR_WORKER_MAX_MEMORY_MB": "1"}, " MB (over the 1 MB limit)"),
        ({"OCR_WORKER_MAX_TASKS": "1", "OCR_WORKER_MAX_MEMORY_MB": "0"}, " MB\n"),
    ],
    ids=["by-memory", "by-tasks"],
)
def test_pool_children_are_recycled_without_losing_or_repeating_a_job(
    auth_client, tmp_path, settings, env, reason
):
    """Prefork + acks_late + persistent DB connections: the child exits after its task
    is acknowledged; its replacement (forked from the worker) connects and runs the next."""
    from tests.conftest import start_worker

    settings.OCR_QUEUE = queue = f"{settings.OCR_QUEUE}-recycle"
    worker = start_worker(tmp_path / "w.log", concurrency=1, queue=queue, env_extra=env)
    try:
        children = []
        ids = []
        for i in range(3):
            pids = wait_until(lambda: worker.child_pids(), 30, "a pool child")
            children.append(pids[0])
            response = auth_client.post(
                "/api/ocr/?wait=30", {"image": upload(render_text([f"Child job {i}"]).png())}
            )
            body = response.json()
            assert body["status"] == "done" and body["text"] == f"Child job {i}", body
            ids.append(body["id"])
            # The child that ran it is replaced.
            wait_until(lambda: children[-1] not in worker.child_pids(), 30, "the child to exit")
        time.sleep(1)  # a job redelivered after its child left would show up now
        log = worker.output()
    finally:
        worker.stop()
    assert len(set(children)) == 3
    assert len(re.findall(r"Task ocr\.job\[[-0-9a-f]+\] received", log)) == len(ids) == 3
    exits = re.findall(r"pool child (\d+) exits \(code (\d+)\): peak RSS \d+ MB.*\n", log)
    assert [int(pid) for pid, _ in exits[:3]] == children
    assert all(reason in line for line in re.findall(r"pool child \d+ exits .*\n", log)[:3])
    assert "WorkerLostError" not in log and "Traceback" not in log and "ERROR" not in log
