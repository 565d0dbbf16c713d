"""The client library against the real service: a live server and a real worker process.

What a user of the library checks: the recognised text, the typed result, statuses,
error codes, exported files, idempotent submissions, history across pages, keys.
"""

from __future__ import annotations

import io
import itertools
import json
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from onlineocr_client import (
    AuthenticationError,
    Client,
    ConflictError,
    Document,
    InvalidDocumentError,
    InvalidRequestError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)

from tests.clients.conftest import RequestLog, write_page
from tests.imaging import cer, render_text, text_pdf

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_ocr_of_a_file_returns_the_finished_job_with_its_typed_result(
    client, celery_worker, tmp_path, shipped_defaults
):
    path, rendered = write_page(tmp_path, "letter.png")
    job = client.ocr(path, languages=["eng"], metadata={"case": 7}, psm=3, deskew=True)
    assert job.status == "done" and job.is_finished and job.error is None
    assert cer(rendered.text, job.text) < 0.05
    assert job.filename == "letter.png" and job.metadata == {"case": 7}
    assert job.languages == ["eng"] and job.page_count == 1 and job.pages_done == 1
    assert job.created_at is not None and job.created_at.tzinfo is not None
    doc = job.result
    assert isinstance(doc, Document) and doc.engine == "auto"
    page = doc.pages[0]
    assert page.number == 1 and page.width == rendered.image.width
    assert len(page.words) == len(rendered.word_boxes)
    for word in page.words:
        left, top, right, bottom = word.bbox
        assert 0 <= left < right <= page.width and 0 <= top < bottom <= page.height
        assert word.confidence is None or 0 <= word.confidence <= 100
    assert cer(rendered.text, doc.text) < 0.05


def test_ocr_of_bytes_and_of_a_file_object(client, celery_worker):
    rendered = render_text(["Bytes are sent as base64"])
    job = client.ocr(rendered.png(), filename="inline.png")
    assert job.filename == "inline.png"
    assert cer(rendered.text, job.text) < 0.05
    rendered = render_text(["A file object is uploaded"])
    job = client.ocr(io.BytesIO(rendered.png()), filename="stream.png")
    assert cer(rendered.text, job.text) < 0.05


def test_ocr_of_an_image_url(client, celery_worker, httpserver, settings):
    rendered = render_text(["Fetched from a URL"])
    httpserver.expect_request("/scans/page.png").respond_with_data(
        rendered.png(), content_type="image/png"
    )
    url = httpserver.url_for("/scans/page.png")
    # the service refuses loopback addresses unless told otherwise
    with pytest.raises(InvalidRequestError) as exc:
        client.submit(url)
    assert exc.value.code == "url_forbidden" and exc.value.status == 400
    settings.OCR_URL_ALLOW_PRIVATE = True
    job = client.ocr(url)
    assert cer(rendered.text, job.text) < 0.05


def test_submit_wait_pages_and_exports(client, celery_worker, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(text_pdf(2, "read page by page."))
    job = client.submit(pdf)
    assert job.status in ("pending", "processing") and not job.is_finished
    assert job.retry_after is not None  # the service's hint for the first poll
    seen = []
    done = client.wait(job, timeout=60, on_progress=seen.append)
    assert done.status == "done" and done.page_count == 2 and done.pages_done == 2
    assert seen and seen[-1].status == "done"
    assert [p.text for p in done.result.pages] == [
        "Page 1 of a document\nread page by page.",
        "Page 2 of a document\nread page by page.",
    ]
    pages = client.pages(job.id)
    assert [(p.number, p.status) for p in pages] == [(1, "done"), (2, "done")]
    assert pages[1].result.text == done.result.pages[1].text
    assert client.page(job.id, 2).text == pages[1].text

    assert client.export(job.id).decode() == done.text
    data = json.loads(client.export(job.id, "json"))
    assert data["pages"][0]["text"] == done.result.pages[0].text
    out = client.export(job.id, "pdf", tmp_path / "out" / "report.ocr.pdf")
    assert out == tmp_path / "out" / "report.ocr.pdf"
    assert out.read_bytes().startswith(b"%PDF")
    assert [p.name for p in out.parent.iterdir()] == ["report.ocr.pdf"]  # no part file left
    alto = client.export(job.id, "alto", tmp_path / "report.alto.xml")
    assert b"<alto" in alto.read_bytes()
    with pytest.raises(InvalidRequestError) as exc:
        client.export(job.id, "docx")
    assert exc.value.code == "invalid_option" and exc.value.field == "format"


def test_refused_documents_and_options_raise_with_their_code(client, tmp_path):
    garbage = tmp_path / "scan.png"
    garbage.write_bytes(b"this is not a PNG at all, only text pretending to be one\n" * 20)
    with pytest.raises(InvalidDocumentError) as exc:
        client.ocr(garbage)
    assert exc.value.code == "unsupported_format" and exc.value.status == 415
    with pytest.raises(InvalidRequestError) as exc:
        client.submit(render_text(["x"]).png(), languages="klingon")
    assert exc.value.code == "unknown_language" and exc.value.field == "languages"
    with pytest.raises(InvalidRequestError) as exc:
        client.submit(render_text(["x"]).png(), shoe_size=42)
    assert exc.value.code == "invalid_option"
    with pytest.raises(NotFoundError) as exc:
        client.get(str(uuid.uuid4()))
    assert exc.value.code == "not_found" and exc.value.status == 404
    with pytest.raises(FileNotFoundError):
        client.submit(tmp_path / "missing.png")


def test_a_failed_job_is_returned_by_get_and_raised_by_ocr(client, celery_worker):
    from tests.pipeline.hostile_pdf import image_pdf, jbig2_image

    # accepted at submission, failed by the worker: an embedded image declaring
    # 60000x60000 pixels
    bomb = image_pdf(jbig2_image(60_000, 60_000), via="form")
    with pytest.raises(JobFailedError) as exc:
        client.ocr(bomb, filename="bomb.pdf", pdf_text="use")
    assert exc.value.code == "too_many_pixels"
    failed = exc.value.job
    assert failed.status == "failed" and failed.error.code == "too_many_pixels"
    again = client.get(failed.id)  # not an exception
    assert again.status == "failed" and again.error.code == "too_many_pixels"
    assert again.result is None


def test_cancel_and_delete(client, celery_worker):
    job = client.submit(text_pdf(6), filename="long.pdf")
    canceled = client.cancel(job.id)
    assert canceled.status == "canceled"
    with pytest.raises(ConflictError) as exc:
        client.cancel(job.id)
    assert exc.value.code == "already_finished" and exc.value.status == 409
    with pytest.raises(ConflictError) as exc:
        client.export(job.id)
    assert exc.value.code == "not_ready"
    client.delete(job.id)
    with pytest.raises(NotFoundError):
        client.get(job.id)
    with pytest.raises(NotFoundError):
        client.delete(job.id)


def test_submissions_are_idempotent(client, celery_worker):
    png = render_text(["Only once"]).png()
    key = f"import-{uuid.uuid4()}"
    first = client.submit(png, filename="once.png", idempotency_key=key)
    second = client.submit(png, filename="once.png", idempotency_key=key)
    assert second.id == first.id
    assert second.replayed and not first.replayed
    with pytest.raises(ConflictError) as exc:
        client.submit(png, filename="other-name.png", idempotency_key=key)
    assert exc.value.code == "idempotency_conflict"
    # without an explicit key each call is a new job (a fresh key per call)
    third = client.submit(png, filename="once.png")
    fourth = client.submit(png, filename="once.png")
    assert len({first.id, third.id, fourth.id}) == 3


def test_history_iterates_over_every_page_lazily(live_server, api_key, celery_worker):
    log = RequestLog()
    with Client(live_server.url, api_key=api_key, event_hooks={"request": [log]}) as client:
        png = render_text(["Listed"]).png()
        made = [client.submit(png, filename=f"h{n}.png").id for n in range(5)]
        jobs = client.history(page_size=2)
        assert log.count("GET", "/api/history/") == 0  # nothing fetched yet
        first_two = list(itertools.islice(jobs, 2))
        assert log.count("GET", "/api/history/") == 1
        assert [j.id for j in first_two] == made[::-1][:2]  # newest first
        everything = list(client.history(page_size=2))
        assert [j.id for j in everything] == made[::-1]
        assert log.count("GET", "/api/history/") == 1 + 3
        assert [j.filename for j in client.history(search="h3.png")] == ["h3.png"]
        assert list(client.history(status="failed")) == []
        with pytest.raises(InvalidRequestError) as exc:
            list(client.history(page_size=500))
        assert exc.value.field == "page_size"


def test_keys_are_listed_and_revoked(client, user, live_server, api_key):
    from app import services

    _, spare = services.key_create(owner=user, name="spare")
    listed = client.keys()
    keys = {k.prefix: k for k in listed}
    assert set(keys) == {api_key[:8], spare[:8]}
    assert keys[spare[:8]].name == "spare" and keys[spare[:8]].key is None
    with pytest.raises(PermissionDeniedError) as exc:
        client.create_key("made with a key")
    assert exc.value.code == "permission_denied"
    client.revoke_key(keys[spare[:8]].id)
    listed = client.keys()
    assert [k.prefix for k in listed] == [api_key[:8]]
    revoked = Client(live_server.url, api_key=spare)
    with revoked, pytest.raises(AuthenticationError) as exc:
        revoked.keys()
    assert exc.value.code == "authentication_failed" and exc.value.status == 401


def test_a_jwt_works_and_makes_keys(live_server, user):
    from tests.factories import PASSWORD

    tokens = httpx.post(
        f"{live_server.url}/api/token_obtain_pair/",
        json={"username": user.username, "password": PASSWORD},
        timeout=10,
    ).json()
    with Client(live_server.url, token=tokens["access"]) as client:
        made = client.create_key("script")
        assert made.key and made.key.startswith(made.prefix)
    with Client(live_server.url, api_key=made.key) as client:
        listed = client.keys()
        assert [k.name for k in listed] == ["script"]


def test_engines(client, shipped_defaults):
    engines = {e.name: e for e in client.engines()}
    assert engines["tesseract"].available and "eng" in engines["tesseract"].languages
    assert engines["auto"].default and not engines["tesseract"].default


def test_the_daily_quota_429_is_raised_without_waiting_until_midnight(
    live_server, api_key, celery_worker, settings
):
    now = datetime.now(UTC)
    if now.hour == 23 and now.minute >= 58:
        pytest.skip("the quota resets in less than max_retry_wait: the client would wait")
    settings.OCR_DAILY_PAGE_QUOTA = 1
    log = RequestLog()
    with Client(live_server.url, api_key=api_key, event_hooks={"request": [log]}) as client:
        client.submit(render_text(["First page"]).png())
        started = time.monotonic()
        with pytest.raises(RateLimitError) as exc:
            client.submit(render_text(["Second page"]).png())
    assert exc.value.code == "quota_exceeded" and exc.value.status == 429
    assert exc.value.retry_after > 60  # seconds to midnight UTC
    assert time.monotonic() - started < 5
    assert log.count("POST", "/api/ocr/") == 2  # no retry of the refused one
