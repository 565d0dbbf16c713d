"""CLOVA OCR General V2 against a local server speaking CLOVA's documented shapes."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.engines.base import EngineOptions
from app.engines.providers import clova
from app.errors import OcrError

from .conftest import SlowAnswer, make_config, render_page

SECRET = "clova-s3cret-XYZ"
PATH = "/custom/v1/123/abcdef/general"


def engine(httpserver: HTTPServer, **extra):
    return clova.build(
        make_config(
            OCR_CLOVA_INVOKE_URL=httpserver.url_for("/custom/v1/123/abcdef"),
            OCR_CLOVA_SECRET=SECRET,
            **extra,
        )
    )


def field(text: str, x: int, y: int, w: int, conf: float, line_break: bool) -> dict:
    return {
        "valueType": "ALL",
        "boundingPoly": {
            "vertices": [
                {"x": x, "y": y},
                {"x": x + w, "y": y},
                {"x": x + w, "y": y + 12.0},
                {"x": x, "y": y + 12.0},
            ]
        },
        "inferText": text,
        "inferConfidence": conf,
        "type": "NORMAL",
        "lineBreak": line_break,
    }


def success(fields: list[dict], **image) -> dict:
    return {
        "version": "V2",
        "requestId": "r",
        "timestamp": 1,
        "images": [
            {
                "uid": "u",
                "name": "page-1",
                "inferResult": "SUCCESS",
                "message": "SUCCESS",
                "validationResult": {"result": "NO_REQUESTED"},
                "fields": fields,
                **image,
            }
        ],
    }


FIELDS = [
    field("HELLO", 20, 40, 40, 0.9991, False),
    field("WORLD", 66, 40.4, 44, 0.95, True),
    field("LINE", 20, 70, 30, 0.5, False),
    field("TWO", 55, 70, 25, 1, True),
]


def test_success_maps_words_lines_polygons_and_confidence(httpserver: HTTPServer) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(json.dumps(success(FIELDS)), content_type="application/json")

    httpserver.expect_request(PATH, method="POST").respond_with_handler(handler)
    image = render_page(size=(400, 120))
    page = engine(httpserver).recognize_page(
        image, page_number=3, options=EngineOptions(languages=("kor", "eng"), dpi=300)
    )

    request = seen[0]
    assert request.headers["X-OCR-SECRET"] == SECRET
    assert request.headers["Content-Type"] == "application/json"
    body = request.get_json()
    assert body["version"] == "V2" and body["lang"] == "ko"
    uuid.UUID(body["requestId"])
    assert abs(body["timestamp"] - time.time() * 1000) < 60_000
    (img,) = body["images"]
    assert img["format"] == "png" and img["name"] == "page-3"
    assert Image.open(io.BytesIO(base64.b64decode(img["data"]))).size == (400, 120)

    assert (page.number, page.width, page.height, page.dpi) == (3, 400, 120, 300)
    assert page.text == "HELLO WORLD\nLINE TWO"
    (block,) = page.blocks
    first, second = block.lines
    assert [w.text for w in first.words] == ["HELLO", "WORLD"]
    assert first.words[0].bbox == [20, 40, 60, 52]
    assert first.words[0].polygon == [[20, 40], [60, 40], [60, 52], [20, 52]]
    assert first.words[0].confidence == 99.91
    assert second.words[1].confidence == 100.0
    assert first.bbox == [20, 40, 110, 52]
    assert page.raw["images"][0]["fields"][0]["inferText"] == "HELLO"
    assert SECRET not in json.dumps(page.raw)
    assert "raw" not in page.to_dict()


def test_lang_is_omitted_for_latin_and_general_not_doubled(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(success([]))
    eng = clova.build(
        make_config(OCR_CLOVA_INVOKE_URL=httpserver.url_for(PATH) + "/", OCR_CLOVA_SECRET=SECRET)
    )
    page = eng.recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert "lang" not in httpserver.log[0][0].get_json()
    assert page.text == "" and page.blocks == []
    assert clova.clova_lang(("jpn", "kor", "chi_tra")) == "ja,ko,zh-TW"


@pytest.mark.parametrize(
    ("status", "code", "message", "ours"),
    [
        (401, "0002", "Secret key validate failed.", "provider_auth"),
        (400, "0011", "Request body invalid.", "provider_error"),
        (400, "0023", "API request count reach the upper limit.", "quota_exceeded"),
        (400, "0025", "Calls to this api have exceeded the rate limit.", "quota_exceeded"),
        (400, "0021", "Protocol version not support.", "provider_error"),
    ],
)
def test_error_codes(httpserver: HTTPServer, status, code, message, ours, debug_logs) -> None:
    httpserver.expect_request(PATH).respond_with_json(
        {"code": code, "message": message, "path": "/general", "traceId": "t", "timestamp": 1},
        status=status,
    )
    with pytest.raises(OcrError) as err:
        engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == ours
    if ours == "provider_error":
        assert message in err.value.message
    assert len(httpserver.log) == 1  # 4xx never retried
    assert SECRET not in err.value.message and SECRET not in debug_logs.text


def test_server_error_is_retried_then_provider_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_json(
        {"code": "0501", "message": "OCR service error."}, status=500
    )
    with pytest.raises(OcrError) as err:
        engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "provider_error" and "OCR service error." in err.value.message
    assert len(httpserver.log) == 3


def test_429_retry_after_then_success(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(PATH).respond_with_json(
        {"code": "0025", "message": "rate"}, status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_request(PATH).respond_with_json(success(FIELDS))
    page = engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert page.text.startswith("HELLO")
    assert len(httpserver.log) == 2


def test_infer_result_failure_is_provider_error(httpserver: HTTPServer) -> None:
    answer = success([])
    answer["images"][0].update(inferResult="FAILURE", message="Image download failed.")
    httpserver.expect_request(PATH).respond_with_json(answer)
    with pytest.raises(OcrError) as err:
        engine(httpserver).recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "provider_error"
    assert "Image download failed." in err.value.message


def test_slow_answer_is_timeout(httpserver: HTTPServer) -> None:
    slow = SlowAnswer(success([]))
    httpserver.expect_request(PATH).respond_with_handler(slow)
    eng = engine(httpserver, OCR_PROVIDER_READ_TIMEOUT=0.3)
    with pytest.raises(OcrError) as err:
        eng.recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "timeout"
    slow.wait()


def test_unknown_language_and_unavailable_without_credentials() -> None:
    eng = clova.build(make_config(OCR_CLOVA_INVOKE_URL="https://x.example", OCR_CLOVA_SECRET=""))
    info = eng.info()
    assert not info.available and info.kind == "cloud"
    assert info.reason == "OCR_CLOVA_SECRET is not set"
    with pytest.raises(OcrError) as err:
        eng.check_options(EngineOptions(languages=("deu",)))
    assert (err.value.code, err.value.field) == ("unknown_language", "languages")
    eng.check_options(EngineOptions(languages=("kor", "jpn", "eng")))
    with pytest.raises(OcrError) as err:
        eng.recognize_page(render_page(), page_number=1, options=EngineOptions())
    assert err.value.code == "engine_unavailable"
    configured = clova.build(make_config(OCR_CLOVA_INVOKE_URL="https://x", OCR_CLOVA_SECRET=SECRET))
    assert configured.info().available and SECRET not in repr(configured.info())


def make_pdf(pages: int) -> bytes:
    images = [render_page(f"PAGE {i + 1}", (200, 100)) for i in range(pages)]
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", save_all=True, append_images=images[1:])
    return buf.getvalue()


def test_pdf_is_split_into_chunks_of_ten(httpserver: HTTPServer) -> None:
    chunks: list[int] = []

    def handler(request: Request) -> Response:
        (img,) = request.get_json()["images"]
        assert img["format"] == "pdf"
        count = len(pdfium.PdfDocument(base64.b64decode(img["data"])))
        chunks.append(count)
        images = [
            {
                "inferResult": "SUCCESS",
                "message": "SUCCESS",
                "convertedImageInfo": {"width": 1000, "height": 500, "pageIndex": i},
                "fields": [field(f"P{len(chunks)}-{i}", 10, 10, 30, 0.9, True)],
            }
            for i in reversed(range(count))  # order restored from pageIndex
        ]
        return Response(
            json.dumps({"version": "V2", "images": images}), content_type="application/json"
        )

    httpserver.expect_request(PATH, method="POST").respond_with_handler(handler)
    pages = engine(httpserver).recognize_document(
        make_pdf(12), "application/pdf", options=EngineOptions()
    )
    assert chunks == [10, 2]
    assert [p.number for p in pages] == list(range(1, 13))
    assert pages[0].text == "P1-0" and pages[10].text == "P2-0" and pages[11].text == "P2-1"
    assert (pages[0].width, pages[0].height) == (1000, 500)
    assert pages[11].raw["images"][0]["fields"][0]["inferText"] == "P2-1"


def test_invalid_pdf(httpserver: HTTPServer) -> None:
    with pytest.raises(OcrError) as err:
        engine(httpserver).recognize_document(
            b"%PDF-1.4 junk", "application/pdf", options=EngineOptions()
        )
    assert err.value.code == "invalid_pdf"
