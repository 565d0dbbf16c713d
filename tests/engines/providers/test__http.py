"""The shared provider HTTP layer: retries, Retry-After, timeouts and error mapping."""

from __future__ import annotations

import socket
import time
from email.utils import formatdate

import pytest
from pytest_httpserver import HTTPServer

from app.engines.providers import _http
from app.engines.providers._poll import poll
from app.errors import OcrError

from .conftest import SlowAnswer

SETTINGS = _http.HttpSettings(
    connect_timeout=1.0, read_timeout=0.5, retries=2, backoff_factor=0.01, retry_after_max=1.5
)


def call(httpserver: HTTPServer, method: str = "POST", settings=SETTINGS):
    session = _http.make_session(settings)
    try:
        response = _http.send(
            session,
            method,
            httpserver.url_for("/ocr"),
            provider="Acme",
            timeout=settings.timeout,
            json={"x": 1},
        )
        _http.check_status(response, provider="Acme", secrets=["s3cret"])
        return response
    finally:
        session.close()


def test_settings_from_config_reads_provider_keys() -> None:
    s = _http.HttpSettings.from_config(
        {
            "OCR_PROVIDER_CONNECT_TIMEOUT": 3,
            "OCR_PROVIDER_READ_TIMEOUT": "7.5",
            "OCR_PROVIDER_RETRIES": 4,
            "OCR_PROVIDER_POLL_TIMEOUT": 9,
        }
    )
    assert s.timeout == (3.0, 7.5)
    assert (s.retries, s.poll_timeout, s.backoff_factor) == (4, 9.0, 0.5)


def test_429_with_retry_after_seconds_is_retried_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/ocr", method="POST").respond_with_json(
        {"message": "slow down"}, status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_request("/ocr", method="POST").respond_with_json({"ok": True})
    start = time.monotonic()
    assert call(httpserver).json() == {"ok": True}
    assert time.monotonic() - start >= 0.9  # Retry-After honoured, not the 0.01 s backoff
    assert len(httpserver.log) == 2


def test_retry_after_http_date_and_cap(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/ocr").respond_with_json(
        {}, status=429, headers={"Retry-After": formatdate(time.time() + 1, usegmt=True)}
    )
    httpserver.expect_oneshot_request("/ocr").respond_with_json(
        {},
        status=503,
        headers={"Retry-After": "3600"},  # capped at 1.5 s
    )
    httpserver.expect_request("/ocr").respond_with_json({"ok": True})
    start = time.monotonic()
    assert call(httpserver).json() == {"ok": True}
    assert time.monotonic() - start < 4.5
    assert len(httpserver.log) == 3


def test_429_exhausted_is_quota_exceeded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ocr").respond_with_json(
        {"message": "quota"}, status=429, headers={"Retry-After": "0"}
    )
    with pytest.raises(OcrError) as err:
        call(httpserver)
    assert err.value.code == "quota_exceeded"
    assert len(httpserver.log) == 3  # first try + 2 retries


def test_5xx_is_retried_with_backoff(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/ocr").respond_with_data("boom", status=502)
    httpserver.expect_oneshot_request("/ocr").respond_with_data("boom", status=500)
    httpserver.expect_request("/ocr").respond_with_json({"ok": True})
    assert call(httpserver).json() == {"ok": True}
    assert len(httpserver.log) == 3


def test_5xx_exhausted_is_provider_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ocr").respond_with_json({"message": "down"}, status=500)
    with pytest.raises(OcrError) as err:
        call(httpserver)
    assert err.value.code == "provider_error"
    assert "HTTP 500" in err.value.message and "down" in err.value.message
    assert len(httpserver.log) == 3


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "provider_error"),
        (404, "provider_error"),
        (401, "provider_auth"),
        (403, "provider_auth"),
    ],
)
def test_other_4xx_are_not_retried(httpserver: HTTPServer, status: int, code: str) -> None:
    httpserver.expect_request("/ocr").respond_with_json({"message": "bad s3cret"}, status=status)
    with pytest.raises(OcrError) as err:
        call(httpserver)
    assert err.value.code == code
    assert "s3cret" not in err.value.message
    assert len(httpserver.log) == 1


def test_slow_answer_is_timeout_and_not_retried(httpserver: HTTPServer) -> None:
    slow = SlowAnswer({}, delay=1.0)
    httpserver.expect_request("/ocr").respond_with_handler(slow)
    with pytest.raises(OcrError) as err:
        call(httpserver)
    assert err.value.code == "timeout"
    slow.wait()
    assert len(httpserver.log) == 1  # not retried


def test_unreachable_provider_is_provider_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    session = _http.make_session(SETTINGS)
    with pytest.raises(OcrError) as err:
        _http.send(
            session,
            "GET",
            f"http://127.0.0.1:{port}/x?key=s3cret",
            provider="Acme",
            timeout=SETTINGS.timeout,
        )
    assert err.value.code == "provider_error"
    assert "s3cret" not in err.value.message and "127.0.0.1" not in err.value.message


def test_scrub_replaces_credentials_everywhere() -> None:
    raw = {"a": "token s3cret here", "b": [{"s3cret": 1}], "c": 5}
    assert _http.scrub(raw, ["s3cret", ""]) == {"a": "token *** here", "b": [{"***": 1}], "c": 5}


def test_poll_returns_finished_and_times_out() -> None:
    answers = iter(["NEW", "PRO", "COM"])
    assert (
        poll(lambda: next(answers), lambda a: a == "COM", provider="X", timeout=5, interval=0.001)
        == "COM"
    )
    now = [0.0]
    with pytest.raises(OcrError) as err:
        poll(
            lambda: "PRO",
            lambda a: False,
            provider="X",
            timeout=10,
            interval=1,
            sleep=lambda s: now.__setitem__(0, now[0] + s),
            clock=lambda: now[0],
        )
    assert err.value.code == "timeout"
    assert now[0] == pytest.approx(10.0)
