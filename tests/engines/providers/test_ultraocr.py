"""UltraOCR v2 against a local server speaking its documented (SDK) shapes."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.engines.base import EngineOptions
from app.engines.providers import ultraocr
from app.errors import OcrError

from .conftest import make_config, render_page

CLIENT_ID = "client-id-ABC"
CLIENT_SECRET = "client-s3cret-XYZ"
JOB = "2AwrSd7bxEMbPrQ5jZHGDzQ4qL3"
RESULT = f"/v2/ocr/job/result/{JOB}/{JOB}"

DONE = {
    "client_data": {},
    "created_at": "2022-06-22T20:58:09Z",
    "job_ksuid": JOB,
    "result": {
        "Time": "7.45",
        "Quantity": 1,
        "Document": [
            {
                "Page": 1,
                "Data": {
                    "DocumentType": {"conf": 99, "value": "CNH"},
                    "Nome": {"conf": 87.5, "value": "MARIA DA SILVA"},
                },
            }
        ],
    },
    "service": "cnh",
    "status": "done",
}


def engine(httpserver: HTTPServer, **extra):
    return ultraocr.build(
        make_config(
            OCR_ULTRAOCR_BASE_URL=httpserver.url_for("/v2"),
            OCR_ULTRAOCR_AUTH_BASE_URL=httpserver.url_for("/auth/v2"),
            OCR_ULTRAOCR_CLIENT_ID=CLIENT_ID,
            OCR_ULTRAOCR_CLIENT_SECRET=CLIENT_SECRET,
            OCR_ULTRAOCR_SERVICE="cnh",
            **extra,
        )
    )


def expect_token(httpserver: HTTPServer, *tokens: str) -> None:
    for token in tokens:
        httpserver.expect_oneshot_request(
            "/auth/v2/token",
            method="POST",
            json={"ClientID": CLIENT_ID, "ClientSecret": CLIENT_SECRET, "ExpiresIn": 60},
        ).respond_with_json({"token": token})


def expect_send(httpserver: HTTPServer, service: str = "cnh", token: str = "tok-1") -> None:  # noqa: S107
    httpserver.expect_request(
        f"/v2/ocr/job/send/{service}",
        method="POST",
        headers={"Authorization": f"Bearer {token}"},
    ).respond_with_json({"id": JOB, "status_url": httpserver.url_for(RESULT)})


def test_single_step_success_maps_fields_and_caches_token(httpserver, debug_logs) -> None:
    expect_token(httpserver, "tok-1")
    expect_send(httpserver)
    httpserver.expect_oneshot_request(RESULT, method="GET").respond_with_json(
        {"job_ksuid": JOB, "status": "processing"}
    )
    httpserver.expect_oneshot_request(RESULT, method="GET").respond_with_json(
        {"job_ksuid": JOB, "status": "validating"}
    )
    httpserver.expect_request(
        RESULT, method="GET", headers={"Authorization": "Bearer tok-1"}
    ).respond_with_json(DONE)
    eng = engine(httpserver)
    page = eng.recognize_page(
        render_page(size=(320, 200)), page_number=2, options=EngineOptions(languages=("por",))
    )

    send = next(r for r, _ in httpserver.log if r.path.endswith("/send/cnh"))
    data = base64.b64decode(send.get_json()["data"])
    assert Image.open(io.BytesIO(data)).format == "JPEG"
    assert page.fields == {
        "DocumentType": {"value": "CNH", "confidence": 99.0},
        "Nome": {"value": "MARIA DA SILVA", "confidence": 87.5},
    }
    assert page.text == "DocumentType: CNH\nNome: MARIA DA SILVA"
    assert (page.number, page.width, page.height) == (2, 320, 200)
    assert page.confidence == 93.25
    assert page.to_dict()["fields"]["Nome"]["value"] == "MARIA DA SILVA"
    assert page.raw["result"]["Quantity"] == 1
    raw = json.dumps(page.raw)
    assert CLIENT_SECRET not in raw and CLIENT_ID not in raw

    # a second page reuses the cached token (the oneshot token handler is gone)
    page = eng.recognize_page(render_page(), page_number=3, options=EngineOptions())
    assert page.fields["DocumentType"]["value"] == "CNH"
    assert sum(r.path == "/auth/v2/token" for r, _ in httpserver.log) == 1
    assert CLIENT_SECRET not in debug_logs.text and CLIENT_ID not in debug_logs.text


def test_service_from_options_extra(httpserver: HTTPServer) -> None:
    expect_token(httpserver, "tok-1")
    expect_send(httpserver, service="rg")
    httpserver.expect_request(RESULT).respond_with_json({**DONE, "service": "rg"})
    page = engine(httpserver).recognize_page(
        render_page(), page_number=1, options=EngineOptions(extra={"service": "rg"})
    )
    assert page.fields
    with pytest.raises(OcrError) as err:
        engine(httpserver).check_options(EngineOptions(extra={"service": "../x"}))
    assert err.value.code == "invalid_option"


def test_large_file_goes_through_signed_url_upload(httpserver: HTTPServer) -> None:
    expect_token(httpserver, "tok-1")
    signed = httpserver.url_for("/upload/doc.jpg") + "?X-Amz-Signature=abc"
    httpserver.expect_request(
        "/v2/ocr/job/cnh", method="POST", headers={"Authorization": "Bearer tok-1"}
    ).respond_with_json(
        {"exp": "60000", "id": JOB, "status_url": "x", "urls": {"document": signed}}
    )
    uploads: list[Request] = []

    def upload(request: Request) -> Response:
        uploads.append(request)
        return Response("", status=200)

    httpserver.expect_request("/upload/doc.jpg", method="PUT").respond_with_handler(upload)
    httpserver.expect_request(RESULT).respond_with_json(DONE)
    page = engine(httpserver, OCR_ULTRAOCR_SINGLE_STEP_MAX_BYTES=100).recognize_page(
        render_page(), page_number=1, options=EngineOptions()
    )
    assert page.fields["DocumentType"]["value"] == "CNH"
    (put,) = uploads
    assert put.args["X-Amz-Signature"] == "abc"
    assert "Authorization" not in put.headers
    assert Image.open(io.BytesIO(put.get_data())).format == "JPEG"
    assert not any(r.path.endswith("/send/cnh") for r, _ in httpserver.log)


def test_401_mid_poll_refreshes_token_once(httpserver: HTTPServer) -> None:
    expect_token(httpserver, "tok-1", "tok-2")
    expect_send(httpserver)
    httpserver.expect_oneshot_request(RESULT).respond_with_json({"status": "processing"})
    httpserver.expect_oneshot_request(
        RESULT, headers={"Authorization": "Bearer tok-1"}
    ).respond_with_json({"message": "token expired"}, status=401)
    httpserver.expect_request(RESULT, headers={"Authorization": "Bearer tok-2"}).respond_with_json(
        DONE
    )
    page = engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert page.fields["Nome"]["value"] == "MARIA DA SILVA"
    assert sum(r.path == "/auth/v2/token" for r, _ in httpserver.log) == 2


def test_401_twice_is_provider_auth(httpserver: HTTPServer) -> None:
    expect_token(httpserver, "tok-1", "tok-2", "tok-3")
    httpserver.expect_request("/v2/ocr/job/send/cnh").respond_with_json({}, status=401)
    with pytest.raises(OcrError) as err:
        engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "provider_auth"
    assert sum(r.path == "/auth/v2/token" for r, _ in httpserver.log) == 2


def test_bad_client_credentials_are_provider_auth(httpserver: HTTPServer, debug_logs) -> None:
    httpserver.expect_request("/auth/v2/token").respond_with_json(
        {"message": f"invalid client {CLIENT_ID}"}, status=401
    )
    with pytest.raises(OcrError) as err:
        engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "provider_auth"
    assert CLIENT_ID not in err.value.message and CLIENT_SECRET not in debug_logs.text
    assert len(httpserver.log) == 1


def test_job_error_is_provider_error(httpserver: HTTPServer) -> None:
    expect_token(httpserver, "tok-1")
    expect_send(httpserver)
    httpserver.expect_request(RESULT).respond_with_json(
        {"job_ksuid": JOB, "status": "error", "error": "document not recognised"}
    )
    with pytest.raises(OcrError) as err:
        engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "provider_error"
    assert "document not recognised" in err.value.message


def test_job_never_done_is_timeout(httpserver: HTTPServer) -> None:
    expect_token(httpserver, "tok-1")
    expect_send(httpserver)
    httpserver.expect_request(RESULT).respond_with_json({"status": "processing"})
    eng = engine(httpserver, OCR_PROVIDER_POLL_TIMEOUT=0.5)
    with pytest.raises(OcrError) as err:
        eng.recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "timeout"


def test_token_cache_renews_before_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(ultraocr.time, "monotonic", lambda: now[0])
    issued = iter(["a", "b", "c"])
    cache = ultraocr.TokenCache(lambda: (next(issued), 3600.0), margin=60)
    assert cache.get() == "a"
    now[0] += 3500
    assert cache.get() == "a"
    now[0] += 50  # 3550 s: inside the 60 s renewal margin
    assert cache.get() == "b"
    cache.invalidate("stale")
    assert cache.get() == "b"
    cache.invalidate("b")
    assert cache.get() == "c"


def test_unavailable_without_credentials() -> None:
    eng = ultraocr.build(
        make_config(OCR_ULTRAOCR_BASE_URL="https://u", OCR_ULTRAOCR_AUTH_BASE_URL="https://a")
    )
    info = eng.info()
    assert not info.available and info.reason == "OCR_ULTRAOCR_CLIENT_ID is not set"
    with pytest.raises(OcrError) as err:
        eng.recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "engine_unavailable"
