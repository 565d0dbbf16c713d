"""Batches (``/api/batches/``, app/services/batches.py): checked whole, stored in one
transaction, queued a window at a time, ended once; cancel, delete, the zip export,
history's ``batch=`` filter; and a 50-image batch on a real worker over HTTP."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest
import requests
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from app import services
from app.models import Batch, Job
from tests.imaging import cer, render_text

WORDS = ["Alpha invoice", "Bravo receipt", "Charlie letter", "Delta memo", "Echo form"]


def _b64(text: str) -> str:
    return base64.b64encode(render_text([text]).png()).decode()


def _items(texts=WORDS[:3]) -> list[dict]:
    return [
        {"image_base64": _b64(t), "filename": f"{t.split()[0].lower()}.png", "metadata": {"n": i}}
        for i, t in enumerate(texts)
    ]


def _code(response) -> tuple[int, str, str | None]:
    error = response.json()["error"]
    return response.status_code, error["code"], error.get("field")


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """Job ids sent to the queue (kept here instead of the broker)."""
    from app.tasks import job_task

    queue: list[str] = []
    monkeypatch.setattr(job_task, "apply_async", lambda args, **kw: queue.append(args[0]))
    return queue


def _run(job_ids, capture) -> None:
    """Run jobs as a worker would, their after-commit work (the batch's) included."""
    for job_id in list(job_ids):
        with capture(execute=True):
            services.job_start(job_id=job_id)


@pytest.mark.django_db
def test_a_json_batch_is_stored_whole_queued_by_window_and_ends_done(
    auth_client, settings, sent, django_capture_on_commit_callbacks
):
    settings.OCR_BATCH_WINDOW = 2
    with django_capture_on_commit_callbacks(execute=True):
        r = auth_client.post(
            "/api/batches/",
            {"items": _items(WORDS), "languages": "eng", "metadata": {"run": "nightly"}},
            format="json",
        )
    assert r.status_code == 202, r.content
    body = r.json()
    assert r["Location"] == body["url"] and r["Retry-After"] == "2"
    assert body["status"] == "pending" and body["job_count"] == 5
    assert body["metadata"] == {"run": "nightly"} and body["languages"] == ["eng"]
    assert body["counts"] == {"pending": 5, "processing": 0, "done": 0, "failed": 0, "canceled": 0}
    assert [j["filename"] for j in body["jobs"]] == [f"{w.split()[0].lower()}.png" for w in WORDS]
    assert [j["metadata"] for j in body["jobs"]] == [{"n": i} for i in range(5)]
    ids = [j["id"] for j in body["jobs"]]
    assert sent == ids[:2]  # the window: two of the five queued

    _run([sent.pop(0)], django_capture_on_commit_callbacks)
    assert sent == [ids[1], ids[2]]  # one ended, the next one queued
    assert auth_client.get(body["url"]).json()["status"] == "processing"
    while sent:
        _run([sent.pop(0)], django_capture_on_commit_callbacks)

    done = auth_client.get(body["url"]).json()
    assert done["status"] == "done" and done["finished_at"]
    assert done["counts"]["done"] == 5 and done["pages_done"] == done["page_count"] == 5
    for job, words in zip(done["jobs"], WORDS, strict=True):
        assert job["status"] == "done"
        assert cer(words, Job.objects.get(pk=job["id"]).text) < 0.1
    history = auth_client.get("/api/history/", {"batch": body["id"]}).json()
    assert sorted(j["id"] for j in history["results"]) == sorted(ids)
    assert {j["batch"] for j in history["results"]} == {body["id"]}
    listed = auth_client.get("/api/batches/", {"status": "done"}).json()["results"]
    assert [b["id"] for b in listed] == [body["id"]] and "jobs" not in listed[0]
    # Searching the documents' names finds the batch, its counts not multiplied.
    found = auth_client.get("/api/batches/", {"search": "a"}).json()["results"]
    assert [b["id"] for b in found] == [body["id"]]
    assert found[0]["counts"]["done"] == 5 and found[0]["page_count"] == 5
    assert auth_client.get("/api/batches/", {"search": "zulu"}).json()["results"] == []


@pytest.mark.django_db
def test_a_multipart_batch_takes_the_image_field_once_per_file(auth_client):
    files = [
        SimpleUploadedFile(f"{w.split()[0]}.png", render_text([w]).png(), "image/png")
        for w in WORDS[:3]
    ]
    r = auth_client.post(
        "/api/batches/", {"image": files, "languages": "eng", "metadata": '{"k": 1}'}
    )
    assert r.status_code == 202, r.content
    body = r.json()
    assert [j["filename"] for j in body["jobs"]] == ["Alpha.png", "Bravo.png", "Charlie.png"]
    assert body["metadata"] == {"k": 1}
    assert Job.objects.filter(batch_id=body["id"]).count() == 3


@pytest.mark.django_db
def test_one_bad_item_refuses_the_whole_batch_naming_it(auth_client, settings):
    items = _items()
    items[1] = {"image_base64": base64.b64encode(b"%PDF-1.7 broken").decode(), "filename": "b.pdf"}
    r = auth_client.post("/api/batches/", {"items": items}, format="json")
    status, code, field = _code(r)
    assert (status, code, field) == (400, "invalid_pdf", "items[1]")
    assert r.json()["error"]["message"].startswith("Item 2 (b.pdf): ")
    files = [
        SimpleUploadedFile("ok.png", render_text().png(), "image/png"),
        SimpleUploadedFile("bad.png", b"not an image at all", "image/png"),
    ]
    assert _code(auth_client.post("/api/batches/", {"image": files}))[1:] == (
        "unsupported_format",
        "image[1]",
    )
    bad_item = {"items": [{"image_base64": _b64("x"), "image_url": "http://example.com/a"}]}
    assert _code(auth_client.post("/api/batches/", bad_item, format="json"))[0] == 400
    assert _code(auth_client.post("/api/batches/", {"items": []}, format="json"))[:2] == (
        400,
        "invalid",
    )
    assert _code(auth_client.post("/api/batches/", {"items": [1]}, format="json"))[0] == 400
    assert not Batch.objects.exists() and not Job.objects.exists()


@pytest.mark.django_db
def test_limits_and_the_quota_count_for_the_whole_batch(auth_client, settings):
    settings.OCR_MAX_BATCH_ITEMS = 2
    r = auth_client.post("/api/batches/", {"items": _items()}, format="json")
    assert _code(r)[:2] == (400, "invalid") and "at most 2" in r.json()["error"]["message"]
    settings.OCR_MAX_BATCH_ITEMS = 1000
    settings.OCR_DAILY_PAGE_QUOTA = 2
    r = auth_client.post("/api/batches/", {"items": _items()}, format="json")
    assert _code(r)[:2] == (429, "quota_exceeded")
    assert not Batch.objects.exists() and not Job.objects.exists()
    assert (
        auth_client.post("/api/batches/", {"items": _items()[:2]}, format="json").status_code == 202
    )


@pytest.mark.django_db
def test_a_batch_with_a_failed_job_ends_failed(
    auth_client, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = auth_client.post("/api/batches/", {"items": _items()[:2]}, format="json").json()
    first, second = (j["id"] for j in body["jobs"])
    with django_capture_on_commit_callbacks(execute=True):
        services.job_fail(job_id=first, code="engine_crash", message="Crashed.")
    _run([second], django_capture_on_commit_callbacks)
    ended = auth_client.get(body["url"]).json()
    assert ended["status"] == "failed" and ended["counts"] == {
        "pending": 0,
        "processing": 0,
        "done": 1,
        "failed": 1,
        "canceled": 0,
    }
    assert ended["jobs"][0]["error"]["code"] == "engine_crash"


@pytest.mark.django_db
def test_cancel_stops_the_unfinished_jobs_and_keeps_the_done_ones(
    auth_client, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = auth_client.post("/api/batches/", {"items": _items()}, format="json").json()
    _run([body["jobs"][0]["id"]], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        r = auth_client.post(f"/api/batches/{body['id']}/cancel/")
    assert r.status_code == 200 and r.json()["status"] == "canceled"
    assert [j["status"] for j in r.json()["jobs"]] == ["done", "canceled", "canceled"]
    services.job_start(job_id=body["jobs"][1]["id"])  # a queued job delivered later: nothing
    assert Job.objects.get(pk=body["jobs"][1]["id"]).status == "canceled"
    again = auth_client.post(f"/api/batches/{body['id']}/cancel/")
    assert _code(again)[:2] == (409, "already_finished")


@pytest.mark.django_db
def test_delete_removes_the_batch_its_jobs_and_their_files(
    auth_client, other_user, django_capture_on_commit_callbacks
):
    body = auth_client.post("/api/batches/", {"items": _items()}, format="json").json()
    names = list(Job.objects.filter(batch_id=body["id"]).values_list("file", flat=True))
    assert all(default_storage.exists(n) for n in names)
    from rest_framework.test import APIClient

    theirs = APIClient()
    theirs.force_authenticate(other_user)
    assert _code(theirs.get(body["url"]))[:2] == (404, "not_found")
    assert _code(theirs.delete(body["url"]))[:2] == (404, "not_found")
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(body["url"]).status_code == 204
    assert not Batch.objects.exists() and not Job.objects.exists()
    assert not any(default_storage.exists(n) for n in names)
    assert _code(auth_client.get(body["url"]))[:2] == (404, "not_found")


@pytest.mark.django_db
def test_the_export_is_a_zip_of_the_done_jobs_with_unique_names(
    auth_client, sent, django_capture_on_commit_callbacks
):
    items = _items(WORDS[:3])
    items[2]["filename"] = items[0]["filename"]  # two uploads named alike
    with django_capture_on_commit_callbacks(execute=True):
        body = auth_client.post("/api/batches/", {"items": items}, format="json").json()
    ids = [j["id"] for j in body["jobs"]]
    _run([ids[0], ids[2]], django_capture_on_commit_callbacks)  # the second stays pending

    r = auth_client.get(f"/api/batches/{body['id']}/export/", {"format": "txt"})
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    assert r.streaming and f"batch-{body['id']}-txt.zip" in r["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content)))
    assert archive.namelist() == ["alpha.txt", "alpha (2).txt"]
    assert archive.read("alpha.txt").decode() == Job.objects.get(pk=ids[0]).text
    assert archive.read("alpha (2).txt").decode() == Job.objects.get(pk=ids[2]).text

    pdfs = auth_client.get(f"/api/batches/{body['id']}/export/", {"format": "pdf"})
    names = zipfile.ZipFile(io.BytesIO(b"".join(pdfs.streaming_content))).namelist()
    assert names == ["alpha.pdf", "alpha (2).pdf"]
    # A PDF upload's searchable PDF is named as its own download is: x.ocr.pdf.
    Job.objects.filter(pk=ids[0]).update(filename="scan.pdf")
    Job.objects.filter(pk=ids[2]).update(filename="Scan.pdf")
    pdfs = auth_client.get(f"/api/batches/{body['id']}/export/", {"format": "pdf"})
    names = zipfile.ZipFile(io.BytesIO(b"".join(pdfs.streaming_content))).namelist()
    assert names == ["scan.ocr.pdf", "Scan.ocr (2).pdf"]
    bad = auth_client.get(f"/api/batches/{body['id']}/export/", {"format": "docx"})
    assert _code(bad)[:3] == (400, "invalid_option", "format")


@pytest.mark.django_db
def test_an_idempotency_key_answers_the_first_batch(auth_client):
    items = _items()
    first = auth_client.post(
        "/api/batches/", {"items": items}, format="json", HTTP_IDEMPOTENCY_KEY="b-1"
    )
    again = auth_client.post(
        "/api/batches/", {"items": items}, format="json", HTTP_IDEMPOTENCY_KEY="b-1"
    )
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    other = auth_client.post(
        "/api/batches/", {"items": items[:2]}, format="json", HTTP_IDEMPOTENCY_KEY="b-1"
    )
    assert _code(other)[:2] == (409, "idempotency_conflict")
    assert Batch.objects.count() == 1 and Job.objects.count() == 3


@pytest.mark.django_db
def test_wait_returns_when_the_batch_ends_or_the_time_is_up(auth_client):
    body = auth_client.post("/api/batches/", {"items": _items()[:1]}, format="json").json()
    r = auth_client.get(body["url"], {"wait": 1})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    assert _code(auth_client.get(body["url"], {"wait": 31}))[:3] == (400, "invalid", "wait")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_fifty_images_as_one_batch_on_a_real_worker(live_server, celery_worker):
    """The issue's end-to-end check: 50 small images in one multipart batch over HTTP,
    watched to its end with ``?wait``, then the zip of their text."""
    from tests.factories import UserFactory

    user = UserFactory()
    _, key = services.key_create(owner=user, name="batch")
    http = requests.Session()
    http.headers["X-API-Key"] = key
    texts = [f"Batch page number {n}" for n in range(50)]
    files = [
        ("image", (f"p{n:02}.png", render_text([t]).png(), "image/png"))
        for n, t in enumerate(texts)
    ]
    r = http.post(
        f"{live_server.url}/api/batches/", files=files, data={"languages": "eng"}, timeout=60
    )
    assert r.status_code == 202, r.text
    url = r.json()["url"]
    for _ in range(20):
        batch = http.get(url, params={"wait": 30}, timeout=60).json()
        if batch["status"] in ("done", "failed", "canceled"):
            break
    assert batch["status"] == "done", batch["counts"]
    assert batch["counts"]["done"] == 50 and batch["pages_done"] == 50
    export = http.get(f"{url}export/", params={"format": "txt"}, timeout=60)
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    assert sorted(archive.namelist()) == [f"p{n:02}.txt" for n in range(50)]
    for n, text in enumerate(texts):
        assert cer(text, archive.read(f"p{n:02}.txt").decode()) < 0.1
