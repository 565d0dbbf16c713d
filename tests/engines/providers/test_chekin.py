"""Chekin OCR (MRZ) against a local server speaking its documented shapes."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image
from pytest_httpserver import HTTPServer

from app.engines.base import EngineOptions
from app.engines.providers import chekin
from app.errors import OcrError

from .chekin_samples import NEW_SCAN
from .conftest import make_config, render_page

TOKEN = "chekin-t0ken-XYZ"
SCAN = "64672caf4d2140e19d68b222fa0da318"
DATA = f"/api/v3/tools/ocr/data/{SCAN}/"
AUTH = {"Authorization": f"Token {TOKEN}"}

EMPTY = {**NEW_SCAN, "id": SCAN, "picture_file": "https://s3.example/pic.jpg?X-Amz-Signature=1"}
DONE = {
    **EMPTY,
    "mrz_detected": True,
    "status": "COM",
    "type_doc": "P",
    "country": "ESP",
    "date_of_birth": "1975-05-15",
    "expiration_date": "2022-08-03",
    "names": "MARTIN",
    "surname": "SANCHEZ",
    "nationality": "ESP",
    "number": "59953192N",
    "sex": "M",
    "valid_composite": True,
    "valid_date_of_birth": True,
    "valid_expiration_date": True,
    "valid_number": True,
    "valid_score": 100,
}


def engine(httpserver: HTTPServer, **extra):
    return chekin.build(
        make_config(
            OCR_CHEKIN_BASE_URL=httpserver.url_for("/api/v3"), OCR_CHEKIN_TOKEN=TOKEN, **extra
        )
    )


def expect_picture(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/api/v3/tools/ocr/picture/", method="POST", headers=AUTH
    ).respond_with_json(EMPTY, status=201)


def test_success_polls_until_com_and_maps_mrz(httpserver: HTTPServer, debug_logs) -> None:
    expect_picture(httpserver)
    httpserver.expect_oneshot_request(DATA, method="GET", headers=AUTH).respond_with_json(EMPTY)
    httpserver.expect_oneshot_request(DATA, method="GET").respond_with_json(
        {**EMPTY, "status": "PRO"}
    )
    httpserver.expect_request(DATA, method="GET", headers=AUTH).respond_with_json(DONE)
    page = engine(httpserver).recognize_page(
        render_page(size=(500, 320)), page_number=1, options=EngineOptions()
    )

    post = next(r for r, _ in httpserver.log if r.method == "POST")
    picture = post.get_json()["picture_file"]
    assert picture.startswith("data:image/jpeg;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(picture.split(",", 1)[1])))
    assert (image.format, image.size) == ("JPEG", (500, 320))

    assert page.mrz == {
        "mrz_detected": True,
        "type_doc": "P",
        "country": "ESP",
        "surname": "SANCHEZ",
        "names": "MARTIN",
        "number": "59953192N",
        "nationality": "ESP",
        "date_of_birth": "1975-05-15",
        "sex": "M",
        "expiration_date": "2022-08-03",
        "valid_number": True,
        "valid_date_of_birth": True,
        "valid_expiration_date": True,
        "valid_composite": True,
        "valid_score": 100,
    }
    assert page.text.splitlines()[:4] == [
        "Document type: P",
        "Issuing country: ESP",
        "Surname: SANCHEZ",
        "Given names: MARTIN",
    ]
    assert "Document number: 59953192N" in page.text
    assert page.confidence == 100.0
    assert page.to_dict()["mrz"]["surname"] == "SANCHEZ"
    assert page.raw["status"] == "COM"
    assert TOKEN not in json.dumps(page.raw) and TOKEN not in debug_logs.text
    assert sum(r.path == DATA for r, _ in httpserver.log) == 3


def test_no_mrz_detected_gives_empty_text(httpserver: HTTPServer) -> None:
    expect_picture(httpserver)
    httpserver.expect_request(DATA).respond_with_json({**EMPTY, "status": "COM"})
    page = engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert page.text == "" and page.mrz["mrz_detected"] is False and page.confidence is None


def test_err_status_is_provider_error(httpserver: HTTPServer) -> None:
    expect_picture(httpserver)
    httpserver.expect_request(DATA).respond_with_json({**EMPTY, "status": "ERR"})
    with pytest.raises(OcrError) as err:
        engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "provider_error"


def test_job_stuck_in_pro_is_timeout(httpserver: HTTPServer) -> None:
    expect_picture(httpserver)
    httpserver.expect_request(DATA).respond_with_json({**EMPTY, "status": "PRO"})
    with pytest.raises(OcrError) as err:
        engine(httpserver, OCR_PROVIDER_POLL_TIMEOUT=0.5).recognize_page(
            render_page(), page_number=1, options=EngineOptions()
        )
    assert err.value.code == "timeout"


def test_bad_token_is_provider_auth(httpserver: HTTPServer, debug_logs) -> None:
    httpserver.expect_request("/api/v3/tools/ocr/picture/").respond_with_json(
        {"detail": "Invalid token."}, status=401
    )
    with pytest.raises(OcrError) as err:
        engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "provider_auth" and TOKEN not in err.value.message
    assert len(httpserver.log) == 1 and TOKEN not in debug_logs.text


def test_429_on_poll_is_retried(httpserver: HTTPServer) -> None:
    expect_picture(httpserver)
    httpserver.expect_oneshot_request(DATA).respond_with_json(
        {"detail": "Request was throttled."}, status=429, headers={"Retry-After": "0"}
    )
    httpserver.expect_request(DATA).respond_with_json(DONE)
    page = engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert page.mrz["number"] == "59953192N"


def test_unavailable_without_token() -> None:
    eng = chekin.build(make_config(OCR_CHEKIN_BASE_URL="https://api.chekin.com/api/v3"))
    info = eng.info()
    assert not info.available and info.reason == "OCR_CHEKIN_TOKEN is not set"
    with pytest.raises(OcrError) as err:
        eng.recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "engine_unavailable"
