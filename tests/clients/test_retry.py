"""Retries, backoff and error mapping against a fake of the service's documented answers.

A tiny local HTTP server (pytest-httpserver) answers 429 with ``Retry-After`` once and
then 202, as the service does when a throttle bites; the client must wait and retry
with the same ``Idempotency-Key``. The real 429 of the daily quota is in test_client.py.
"""

from __future__ import annotations

import socket
import time

import pytest
from onlineocr_client import (
    ApiConnectionError,
    Client,
    InvalidDocumentError,
    Job,
    RateLimitError,
    ServerError,
)

JOB = {
    "id": "6f1c2b8e-9c1e-4a55-9a57-2f3d8c1b0a11",
    "url": "http://testserver/api/ocr/6f1c2b8e-9c1e-4a55-9a57-2f3d8c1b0a11/",
    "status": "pending",
    "filename": "scan.png",
    "page_count": 1,
    "pages_done": 0,
    "created_at": "2026-01-02T03:04:05.123456Z",
    "error": None,
}
QUOTA = {"error": {"code": "quota_exceeded", "message": "Request was throttled."}}


def test_a_429_is_retried_after_retry_after_with_the_same_idempotency_key(httpserver, tmp_path):
    httpserver.expect_ordered_request("/api/ocr/", method="POST").respond_with_json(
        QUOTA, status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/api/ocr/", method="POST").respond_with_json(
        JOB, status=202, headers={"Retry-After": "1"}
    )
    scan = tmp_path / "scan.png"
    scan.write_bytes(b"\x89PNG fake bytes: the fake server does not read them")
    started = time.monotonic()
    with Client(httpserver.url_for("/"), api_key="abcdefgh.secret") as client:
        job = client.submit(scan, languages=["eng", "deu"])
    assert time.monotonic() - started >= 1.0
    assert isinstance(job, Job) and job.id == JOB["id"] and job.status == "pending"
    assert job.retry_after == 1.0 and job.created_at.year == 2026
    requests = [request for request, _ in httpserver.log]
    assert len(requests) == 2
    keys = {request.headers["Idempotency-Key"] for request in requests}
    assert len(keys) == 1 and len(keys.pop()) == 36  # one uuid4 for both tries
    for request in requests:
        assert request.headers["X-API-Key"] == "abcdefgh.secret"
        # the file was sent again in full on the retry
        assert request.files["image"].read().startswith(b"\x89PNG fake bytes")
        assert request.form["languages"] == "eng+deu"
    httpserver.check_assertions()


def test_a_503_on_a_get_is_retried_with_backoff(httpserver):
    path = f"/api/ocr/{JOB['id']}/"
    httpserver.expect_ordered_request(path).respond_with_data("busy", status=503)
    httpserver.expect_ordered_request(path).respond_with_json({**JOB, "status": "done"})
    with Client(httpserver.url_for("/"), api_key="k", backoff=0.01) as client:
        assert client.get(JOB["id"]).status == "done"
    assert len(httpserver.log) == 2


def test_retries_are_bounded(httpserver):
    httpserver.expect_request("/api/ocr/", method="POST").respond_with_json(
        QUOTA, status=429, headers={"Retry-After": "0"}
    )
    client = Client(httpserver.url_for("/"), api_key="k", max_attempts=5)
    with client, pytest.raises(RateLimitError) as exc:
        client.submit(b"\x89PNG")
    assert exc.value.code == "quota_exceeded" and exc.value.status == 429
    assert len(httpserver.log) == 5


def test_a_retry_after_longer_than_max_retry_wait_raises_at_once(httpserver):
    httpserver.expect_request("/api/ocr/", method="POST").respond_with_json(
        QUOTA, status=429, headers={"Retry-After": "3600"}
    )
    started = time.monotonic()
    client = Client(httpserver.url_for("/"), api_key="k", max_retry_wait=60)
    with client, pytest.raises(RateLimitError) as exc:
        client.submit(b"\x89PNG")
    assert time.monotonic() - started < 2
    assert exc.value.retry_after == 3600
    assert len(httpserver.log) == 1


def test_an_unreachable_service_raises_connection_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = Client(f"http://127.0.0.1:{port}", api_key="k", backoff=0.01, max_attempts=3)
    with client, pytest.raises(ApiConnectionError) as exc:
        client.get(JOB["id"])
    assert exc.value.code == "connection_error"


def test_errors_carry_the_stable_code_and_answers_without_it_still_raise(httpserver):
    httpserver.expect_ordered_request("/api/ocr/", method="POST").respond_with_json(
        {
            "error": {
                "code": "unsupported_format",
                "message": "Not an image.",
                "field": "image",
            }
        },
        status=415,
    )
    httpserver.expect_ordered_request("/api/engines/").respond_with_data(
        "<html>Bad gateway</html>", status=502, content_type="text/html"
    )
    with Client(httpserver.url_for("/"), api_key="k") as client:
        with pytest.raises(InvalidDocumentError) as exc:
            client.submit(b"not an image")
        assert (exc.value.code, exc.value.status, exc.value.field) == (
            "unsupported_format",
            415,
            "image",
        )
        with pytest.raises(ServerError) as exc:
            client.engines()
        assert exc.value.code == "http_502" and exc.value.status == 502


def test_results_are_parsed_leniently():
    job = Job.from_dict(
        {
            "id": "x",
            "status": "done",
            "a_field_from_the_future": {"nested": True},
            "page_count": "three",
            "result": {
                "engine": "tesseract",
                "pages": [
                    {
                        "number": 1,
                        "blocks": [
                            {
                                "bbox": [1, 2, 3],
                                "lines": [
                                    {
                                        "text": "hi there",
                                        "words": [
                                            {"text": "hi", "bbox": [1, 2, 3, 4], "x": 1},
                                            "not a word",
                                        ],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            },
        }
    )
    assert job.status == "done" and job.page_count is None and job.error is None
    assert job.raw["a_field_from_the_future"] == {"nested": True}
    page = job.result.pages[0]
    assert page.blocks[0].bbox == (0, 0, 0, 0)
    assert [w.text for w in page.words] == ["hi"] and page.words[0].bbox == (1, 2, 3, 4)
    assert page.blocks[0].text == "hi there" and page.words[0].confidence is None
