"""computervision.com.vn document OCR against a local server with its documented shapes."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.engines.base import EngineOptions
from app.engines.providers import computervision_vn
from app.errors import OcrError

from .conftest import SlowAnswer, make_config, render_page

KEY = "api-key-ABC"
SECRET = "api-s3cret-XYZ"
PATH = "/api/v2/ocr/document/general"
QUERY = {"format_type": "file", "get_thumb": "false"}


def engine(httpserver: HTTPServer, **extra):
    return computervision_vn.build(
        make_config(
            OCR_COMPUTERVISION_VN_BASE_URL=httpserver.url_for("/"),
            OCR_COMPUTERVISION_VN_API_KEY=KEY,
            OCR_COMPUTERVISION_VN_API_SECRET=SECRET,
            **extra,
        )
    )


def text(t: str, left: int, top: int, right: int, bottom: int, conf: float) -> dict:
    return {
        "text": t,
        "confidence": conf,
        "box": {"left": left, "right": right, "top": top, "bottom": bottom},
    }


PAGE = [  # page -> blocks -> lines -> texts
    [
        [text("CỘNG", 10, 10, 60, 30, 0.98), text("HÒA", 65, 10, 100, 30, 0.9)],
        [text("Độc", 10, 40, 40, 60, 0.8)],
    ],
    [[text("Hà Nội", 200, 100, 280, 120, 1.0)]],
]


def ok(data) -> dict:
    return {"data": data, "errorCode": "0", "errorMessage": ""}


def test_success_maps_blocks_lines_words(httpserver: HTTPServer, debug_logs) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(json.dumps(ok([PAGE])), content_type="application/json")

    httpserver.expect_request(PATH, method="POST", query_string=QUERY).respond_with_handler(handler)
    page = engine(httpserver).recognize_page(
        render_page(size=(300, 150)), page_number=1, options=EngineOptions(languages=("vie",))
    )
    request = seen[0]
    assert (request.authorization.username, request.authorization.password) == (KEY, SECRET)
    upload = request.files["img"]
    assert Image.open(io.BytesIO(upload.read())).size == (300, 150)

    assert page.text == "CỘNG HÒA\nĐộc\n\nHà Nội"
    first, second = page.blocks
    assert first.lines[0].words[0].bbox == [10, 10, 60, 30]
    assert first.lines[0].words[0].confidence == 98.0
    assert first.lines[0].bbox == [10, 10, 100, 30]
    assert second.lines[0].words[0].confidence == 100.0
    assert page.raw["errorCode"] == "0"
    assert SECRET not in json.dumps(page.raw)
    assert SECRET not in debug_logs.text and KEY not in debug_logs.text


def test_page_given_as_object_and_numeric_error_code(httpserver: HTTPServer) -> None:
    page_obj = {"blocks": [{"lines": [{"texts": [text("ONE", 1, 2, 3, 4, 0.5)]}]}]}
    httpserver.expect_request(PATH).respond_with_json(
        {"data": page_obj, "errorCode": 0, "errorMessage": ""}
    )
    page = engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert page.text == "ONE" and page.words()[0].confidence == 50.0


def test_page_with_thumbnail_shape(httpserver: HTTPServer) -> None:
    """With get_thumb=true a page is {"result": blocks, "image": base64} (real clients)."""
    httpserver.expect_request(PATH).respond_with_json(ok([{"result": PAGE, "image": "AAAA"}]))
    page = engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert page.text == "CỘNG HÒA\nĐộc\n\nHà Nội"


@pytest.mark.parametrize(
    ("status", "code", "ours"),
    [(400, "2", "url_unreachable"), (415, "3", "invalid_image"), (400, "6", "unsupported_format")],
)
def test_error_codes_with_an_http_error(
    httpserver: HTTPServer, status: int, code: str, ours: str
) -> None:
    httpserver.expect_request(PATH).respond_with_json(
        {"data": [], "errorCode": code, "errorMessage": "refused"}, status=status
    )
    with pytest.raises(OcrError) as err:
        engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == ours
    assert f"errorCode {code}: refused" in err.value.message


def test_no_content_is_an_empty_page(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_json(
        {"data": [], "errorCode": "1", "errorMessage": "No content"}
    )
    page = engine(httpserver).recognize_page(render_page(), page_number=4, options=EngineOptions())
    assert (page.number, page.text, page.blocks) == (4, "", [])


@pytest.mark.parametrize(
    ("code", "ours"),
    [
        ("2", "url_unreachable"),
        ("3", "invalid_image"),
        ("4", "quota_exceeded"),
        ("5", "provider_auth"),
        ("6", "unsupported_format"),
        ("9", "provider_error"),
    ],
)
def test_error_codes(httpserver: HTTPServer, code: str, ours: str) -> None:
    httpserver.expect_request(PATH).respond_with_json(
        {"data": [], "errorCode": code, "errorMessage": f"message {code}"}
    )
    with pytest.raises(OcrError) as err:
        engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == ours
    assert f"errorCode {code}" in err.value.message


def test_http_401_and_400_not_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(PATH).respond_with_data("", status=401)
    with pytest.raises(OcrError) as err:
        engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "provider_auth" and len(httpserver.log) == 1


def test_429_exhausted_is_quota_exceeded_and_5xx_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(PATH).respond_with_data("", status=503)
    httpserver.expect_request(PATH).respond_with_data("", status=429, headers={"Retry-After": "0"})
    with pytest.raises(OcrError) as err:
        engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "quota_exceeded"
    assert len(httpserver.log) == 3


def test_slow_answer_is_timeout(httpserver: HTTPServer) -> None:
    slow = SlowAnswer(ok([]))
    httpserver.expect_request(PATH).respond_with_handler(slow)
    with pytest.raises(OcrError) as err:
        engine(httpserver, OCR_PROVIDER_READ_TIMEOUT=0.3).recognize_page(
            render_page(), page_number=1, options=EngineOptions()
        )
    assert err.value.code == "timeout"
    slow.wait()


def test_unavailable_without_credentials() -> None:
    eng = computervision_vn.build(
        make_config(OCR_COMPUTERVISION_VN_BASE_URL="https://c", OCR_COMPUTERVISION_VN_API_KEY=KEY)
    )
    info = eng.info()
    assert not info.available and info.reason == "OCR_COMPUTERVISION_VN_API_SECRET is not set"
    assert KEY not in info.reason
    eng.check_options(EngineOptions(languages=("vie", "eng")))
