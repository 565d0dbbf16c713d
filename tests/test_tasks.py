"""Jobs run by a real Celery worker process: results, failures, crashes."""

import time

import pytest

from tests.api.helpers import upload
from tests.conftest import wait_for_job
from tests.imaging import cer, render_text

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
    from app import services

    enqueue = services.job_enqueue

    def delete_then_enqueue(*, job):
        job.file.storage.delete(job.file.name)
        enqueue(job=job)

    monkeypatch.setattr(services, "job_enqueue", delete_then_enqueue)
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
