"""Azure Document Intelligence's Analyze Document served from our jobs (app/compat/azure).

The end-to-end tests drive the real azure-ai-documentintelligence SDK from PyPI against
the live server and a real worker, calling it exactly as paperless-ngx's remote OCR
parser does (src/paperless_remote/parsers.py); the others check the translation
(content and spans in each string index type, the result ids, the error table).
"""

from __future__ import annotations

import base64
import io
import time

import pypdfium2 as pdfium
import pytest
import requests
from azure.ai.documentintelligence import DocumentIntelligenceClient
from azure.ai.documentintelligence.models import (
    AnalyzeDocumentRequest,
    AnalyzeOutputOption,
    DocumentContentFormat,
    StringIndexType,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)

from app.compat.azure.errors import AZURE_ERRORS, AzureError
from app.compat.azure.results import analyze_result
from app.compat.azure.submission import ResultOptions, languages_for
from app.compat.azure.text import INDEX_TYPES, clean_word, graphemes
from app.errors import ERROR_CODES
from app.pipeline.schema import Block, Document, Line, PageResult, Word
from tests.imaging import cer, degrade, render_text, text_pdf

try:  # an independent grapheme segmenter (installed with the test tools)
    import regex
except ImportError:  # pragma: no cover
    regex = None

API = "api-version=2024-11-30"
LINES = ["The remote OCR engine reads this page", "through the Azure compatible endpoint."]


# --- the translation, without a server ---------------------------------------------


def _text_at(content: str, index_type: str, span: dict) -> str:
    """``content[offset:offset + length]`` counted as a client of ``index_type`` counts."""
    start, end = span["offset"], span["offset"] + span["length"]
    if index_type == "unicodeCodePoint":
        return content[start:end]
    if index_type == "utf16CodeUnit":  # a span cutting a surrogate pair fails to decode
        return content.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le")
    clusters = regex.findall(r"\X", content) if regex else graphemes(content)
    return "".join(clusters[start:end])


def check_spans(result: dict) -> int:
    """Every word, line, paragraph and page span of ``result`` is its text in
    ``content`` (in the result's ``stringIndexType``); returns the number of words."""
    content, kind = result["content"], result["stringIndexType"]
    words = 0
    for page in result["pages"]:
        for word in page["words"]:
            assert _text_at(content, kind, word["span"]) == word["content"], word
            words += 1
        for line in page["lines"]:
            assert "".join(_text_at(content, kind, s) for s in line["spans"]) == line["content"]
        assert all(
            line["content"] in _text_at(content, kind, page["spans"][0]) for line in page["lines"]
        )
    for paragraph in result["paragraphs"]:
        got = "".join(_text_at(content, kind, s) for s in paragraph["spans"])
        assert got == paragraph["content"]
    return words


def check_polygons(result: dict) -> None:
    assert any(page["words"] for page in result["pages"])
    for page in result["pages"]:
        for item in [*page["words"], *page["lines"]]:
            xs, ys = item["polygon"][0::2], item["polygon"][1::2]
            assert len(item["polygon"]) == 8
            assert all(0 <= x <= page["width"] for x in xs), item
            assert all(0 <= y <= page["height"] for y in ys), item
            assert xs[0] <= xs[1] and ys[1] <= ys[2]  # clockwise from the top left
        assert all(0 <= word["confidence"] <= 1 for word in page["words"])


def _word(text: str, x: int, y: int, confidence: float | None = 90.0) -> Word:
    return Word(bbox=[x, y, x + 40, y + 20], text=text, confidence=confidence)


def _document() -> Document:
    """Two pages of non-ASCII words: decomposed and composed umlauts, CJK, emoji, a ZWJ
    family (one grapheme of 5 code points and 8 UTF-16 units), a flag, an empty page."""
    first = [
        Line.from_words(
            [_word("Gru\u0308ße", 10, 10), _word("Grüße", 60, 10), _word("😀", 110, 10)]
        ),
        Line.from_words([_word("東京都", 10, 40), _word("👨\u200d👩\u200d👧", 60, 40, None)]),
    ]
    second = [
        Line.from_words([_word("naïve", 10, 100), _word("🇩🇪", 60, 100), _word("x", 110, 100)])
    ]
    empty = Line(bbox=[0, 0, 0, 0], text="", words=[_word("\u0301", 5, 5)])  # nothing left
    page1 = PageResult.from_blocks(
        number=1, width=200, height=150, dpi=300,
        blocks=[Block.from_lines(first), Block.from_lines(second), Block.from_lines([empty])],
    )  # fmt: skip
    page2 = PageResult.from_blocks(number=2, width=200, height=150, dpi=150, blocks=[])
    page3 = PageResult.from_blocks(
        number=3, width=200, height=150, dpi=None,
        blocks=[Block.from_lines([Line(bbox=[1, 2, 50, 20], text="fields: no words", words=[])])],
    )  # fmt: skip
    return Document(engine="tesseract", engine_version="5", pages=[page1, page2, page3])


@pytest.mark.parametrize("content_format", ["text", "markdown"])
@pytest.mark.parametrize("index_type", INDEX_TYPES)
def test_spans_index_into_the_content(index_type, content_format):
    options = ResultOptions(content_format=content_format, index_type=index_type)
    result = analyze_result(_document(), options=options, api_version="2024-11-30", is_pdf=True)
    assert check_spans(result) == 8
    assert result["stringIndexType"] == index_type and result["contentFormat"] == content_format
    assert [p["pageNumber"] for p in result["pages"]] == [1, 2, 3]
    assert result["pages"][1]["spans"][0]["length"] == 0 and result["pages"][1]["words"] == []
    assert result["pages"][2]["lines"][0]["content"] == "fields: no words"
    assert len(result["paragraphs"]) == 3
    if content_format == "text":
        assert result["content"] == (
            "Gru\u0308ße Grüße 😀\n東京都 👨\u200d👩\u200d👧\nnaïve 🇩🇪 x\nfields: no words"
        )
    else:
        assert "👧\n\nnaïve" in result["content"]
        assert result["content"].endswith("x\n\n<!-- PageBreak -->\n\nfields: no words")


def test_the_three_index_types_count_differently():
    lengths = {}
    for index_type in INDEX_TYPES:
        result = analyze_result(
            _document(),
            options=ResultOptions(index_type=index_type),
            api_version="2024-11-30",
            is_pdf=False,
        )
        lengths[index_type] = result["pages"][0]["spans"][0]["length"]
    assert lengths == {"textElements": 29, "unicodeCodePoint": 35, "utf16CodeUnit": 41}


def test_units_and_polygons():
    pdf = analyze_result(
        _document(), options=ResultOptions(), api_version="2024-11-30", is_pdf=True
    )
    page = pdf["pages"][0]
    assert (page["unit"], page["width"], page["height"]) == ("inch", 0.6667, 0.5)
    assert page["words"][0]["polygon"] == [0.0333, 0.0333, 0.1667, 0.0333, 0.1667, 0.1, 0.0333, 0.1]
    assert page["words"][0]["confidence"] == 0.9
    assert page["words"][4]["confidence"] == 1.0  # the engine gave none
    assert pdf["pages"][1]["width"] == 1.3333  # 200 px at 150 dpi
    image = analyze_result(
        _document(), options=ResultOptions(), api_version="2024-11-30", is_pdf=False
    )
    page = image["pages"][0]
    assert (page["unit"], page["width"], page["height"], page["angle"]) == ("pixel", 200, 150, 0.0)
    assert page["words"][0]["polygon"] == [10, 10, 50, 10, 50, 30, 10, 30]
    check_polygons(image)
    assert "contentFormat" not in analyze_result(
        _document(),
        options=ResultOptions(),
        api_version="2023-07-31",
        is_pdf=False,
        with_content_format=False,
    )


def test_graphemes_follow_uax29():
    if regex is None:
        pytest.skip("no independent segmenter (the regex package)")
    samples = [
        "Gru\u0308ße",
        "👨\u200d👩\u200d👧 👍🏽 ❤\ufe0f",
        "🇩🇪🇫🇷🇮",
        "한국어 \u1100\u1161\u11a8",
        "e\u0301\r\n\t\u00ad",
        "กำ नम",  # no Indic conjuncts: GB9c is Unicode 15.1, after .NET's and ours
        "\u0600a",
    ]
    for text in samples:
        assert graphemes(text) == regex.findall(r"\X", text), text


def test_words_are_cleaned_to_start_and_end_on_graphemes():
    assert clean_word("\u0301abc") == "abc"
    assert clean_word(" a\tb\n") == "a b"
    assert clean_word("\u200d") == ""
    assert clean_word("x\u0600") == "x"


def test_result_ids_carry_the_answer_options():
    job_id = "0b6d1c2e-3f4a-4b5c-8d9e-0f1a2b3c4d5e"
    for options in [
        ResultOptions(),
        ResultOptions(pdf=True),
        ResultOptions(content_format="markdown", index_type="utf16CodeUnit", pdf=True),
        ResultOptions(index_type="unicodeCodePoint"),
    ]:
        result_id = options.result_id(job_id)
        assert ResultOptions.parse(result_id) == (job_id, options)
    assert ResultOptions(pdf=True).result_id(job_id) == f"{job_id}-pdf"
    assert ResultOptions().result_id(job_id) == job_id
    for bad in [f"{job_id}-pdf-md", f"{job_id}-x", f"{job_id}-pdf-pdf", "nope", f"{job_id}/"]:
        with pytest.raises(AzureError) as caught:
            ResultOptions.parse(bad)
        assert (caught.value.status, caught.value.code) == (404, "NotFound")


def test_every_error_code_has_an_azure_translation():
    assert set(ERROR_CODES) <= set(AZURE_ERRORS)
    for code, azure in AZURE_ERRORS.items():
        assert azure.status in (400, 401, 403, 404, 405, 409, 415, 429, 500, 503), code


def test_locales_map_to_tesseract_languages():
    from django.conf import settings

    assert languages_for("en") == languages_for("en-US") == "eng"
    assert (languages_for("de-DE"), languages_for("fr"), languages_for("zh-Hant")) == (
        "deu",
        "fra",
        "chi_tra",
    )
    assert languages_for("zh-Hans") == "chi_sim"
    default = settings.OCR_DEFAULT_LANGUAGES
    assert languages_for("tlh") == default and languages_for(None) == default
    with pytest.raises(AzureError):
        languages_for("en_US!")


# --- the live server, the real SDK and a real worker -------------------------------


@pytest.fixture
def key(db):
    from app.services import key_create
    from tests.factories import UserFactory

    return key_create(owner=UserFactory(), name="azure")[1]


def _client(live_server, key: str) -> DocumentIntelligenceClient:
    return DocumentIntelligenceClient(
        endpoint=f"{live_server.url}/compat/azure/", credential=AzureKeyCredential(key)
    )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_paperless_ngx_remote_ocr_on_a_scan(live_server, celery_worker, key):
    rendered = render_text(LINES)
    scan = _png(degrade(rendered.image))
    with _client(live_server, key) as client:
        # paperless-ngx's call, as in src/paperless_remote/parsers.py
        poller = client.begin_analyze_document(
            model_id="prebuilt-read",
            body=AnalyzeDocumentRequest(bytes_source=scan),
            output_content_format=DocumentContentFormat.TEXT,
            output=[AnalyzeOutputOption.PDF],
            content_type="application/json",
        )
        poller.wait()
        result_id = poller.details["operation_id"]
        result = poller.result()
        pdf = b"".join(client.get_analyze_result_pdf(model_id="prebuilt-read", result_id=result_id))

        assert cer(rendered.text, result.content) < 0.05, result.content
        assert result_id.endswith("-pdf")
        layer = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
        assert all(word in layer for word in ("remote", "engine", "Azure", "endpoint."))
        raw = result.as_dict()
        assert raw["modelId"] == "prebuilt-read" and raw["apiVersion"] == "2024-11-30"
        assert raw["stringIndexType"] == "textElements" and raw["contentFormat"] == "text"
        assert check_spans(raw) == len(rendered.word_boxes)
        check_polygons(raw)
        page = raw["pages"][0]
        assert (page["unit"], page["width"], page["height"]) == ("pixel", *rendered.image.size)
        # One of the key owner's jobs, marked with the API it came through.
        from app.models import Job

        job = Job.objects.get(pk=result_id.removesuffix("-pdf"))
        assert job.source == "azure" and job.status == "done" and job.owner.api_keys.exists()

        client.delete_analyze_result(model_id="prebuilt-read", result_id=result_id)
        with pytest.raises(ResourceNotFoundError):
            client.get_analyze_result_pdf(model_id="prebuilt-read", result_id=result_id)


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_two_page_pdf_in_inches_markdown_and_utf16(live_server, celery_worker, key):
    data = text_pdf(2, "read through the Azure route.")
    with _client(live_server, key) as client:
        result = client.begin_analyze_document(
            model_id="prebuilt-read",
            body=AnalyzeDocumentRequest(bytes_source=data),
            output_content_format=DocumentContentFormat.MARKDOWN,
            string_index_type=StringIndexType.UTF16_CODE_UNIT,
            locale="en-US",
        ).result()
    raw = result.as_dict()
    assert [p["pageNumber"] for p in raw["pages"]] == [1, 2]
    assert raw["content"].count("<!-- PageBreak -->") == 1
    expected = " ".join(f"Page {n} of a document read through the Azure route." for n in (1, 2))
    assert cer(expected, raw["content"].replace("<!-- PageBreak -->", " ")) < 0.05
    assert raw["stringIndexType"] == "utf16CodeUnit" and raw["contentFormat"] == "markdown"
    check_spans(raw)
    check_polygons(raw)
    pdf_page = pdfium.PdfDocument(data)[0]
    for page in raw["pages"]:  # the PDF's own page size (Pillow wrote it at 100 dpi)
        assert page["unit"] == "inch"
        assert page["width"] == pytest.approx(pdf_page.get_width() / 72, abs=0.02)
        assert page["height"] == pytest.approx(pdf_page.get_height() / 72, abs=0.02)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_rest_calls_as_curl_sends_them(live_server, celery_worker, key):
    from app.services import key_create
    from tests.factories import UserFactory

    base = f"{live_server.url}/compat/azure"
    http = requests.Session()
    http.headers["Ocp-Apim-Subscription-Key"] = key
    png = render_text(["Raw bytes work too"]).png()
    analyze = f"{base}/documentintelligence/documentModels/prebuilt-read:analyze"

    r = http.post(f"{analyze}?{API}", data=png, headers={"Content-Type": "image/png"})
    assert r.status_code == 202, r.text
    assert r.content == b"" and r.headers["Retry-After"] == "1"
    location = r.headers["Operation-Location"]
    assert location.startswith(live_server.url + "/documentintelligence/../compat/azure/")
    assert location.endswith(f"?{API}")
    result_id = location.split("?")[0].rsplit("/", 1)[1]

    statuses = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = http.get(location)  # requests resolves the dot segment, as every client does
        assert r.status_code == 200, r.text
        body = r.json()
        statuses.append(body["status"])
        if body["status"] in ("succeeded", "failed"):
            break
        assert r.headers["Retry-After"] == "1"
        time.sleep(0.2)
    assert body["status"] == "succeeded", body
    assert set(statuses) <= {"notStarted", "running", "succeeded"}
    assert body["createdDateTime"].endswith("Z") and "Retry-After" not in r.headers
    assert body["analyzeResult"]["content"] == "Raw bytes work too"

    results = f"{base}/documentintelligence/documentModels/prebuilt-read/analyzeResults"
    r = http.get(f"{results}/{result_id}/pdf?{API}")  # not asked for with output=pdf
    assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"
    other = key_create(owner=UserFactory(), name="other")[1]
    r = requests.get(f"{results}/{result_id}?{API}", headers={"Ocp-Apim-Subscription-Key": other})
    assert r.status_code == 404
    assert r.json()["error"]["innererror"]["code"] == "OperationNotFound"
    r = http.get(f"{results}/{result_id.replace('a', 'b')}x?{API}")
    assert r.status_code == 404

    # The older Form Recognizer route: base64 JSON, the same analysis, no contentFormat.
    fr = f"{base}/formrecognizer/documentModels/prebuilt-read:analyze?api-version=2023-07-31"
    r = http.post(fr, json={"base64Source": base64.b64encode(png).decode()})
    assert r.status_code == 202, r.text
    fr_location = r.headers["Operation-Location"]
    assert "/formrecognizer/../compat/azure/formrecognizer/" in fr_location
    for _ in range(100):
        body = http.get(fr_location).json()
        if body["status"] == "succeeded":
            break
        time.sleep(0.2)
    assert body["analyzeResult"]["apiVersion"] == "2023-07-31"
    assert "contentFormat" not in body["analyzeResult"]

    r = http.delete(f"{results}/{result_id}?{API}")
    assert r.status_code == 204
    assert http.get(location).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_refusals_in_azures_shape(live_server, key):
    base = f"{live_server.url}/compat/azure/documentintelligence/documentModels"
    analyze = f"{base}/prebuilt-read:analyze"
    http = requests.Session()
    http.headers["Ocp-Apim-Subscription-Key"] = key
    png = {"data": b"\x89PNG", "headers": {"Content-Type": "image/png"}}

    r = requests.post(f"{analyze}?{API}", **png)
    assert r.status_code == 401 and r.json()["error"]["code"] == "401"
    assert "missing subscription key" in r.json()["error"]["message"]
    cases = [
        ("", 400, "InvalidArgument", "ParameterMissing"),
        ("?api-version=2020-01-01", 400, "InvalidArgument", "InvalidParameter"),
        (f"?{API}&stringIndexType=bytes", 400, "InvalidArgument", "InvalidParameter"),
        (f"?{API}&outputContentFormat=html", 400, "InvalidArgument", "InvalidParameter"),
        (f"?{API}&output=figures", 400, "InvalidArgument", "InvalidParameter"),
        (f"?{API}&features=barcodes", 400, "InvalidArgument", "InvalidParameter"),
        (f"?{API}&locale=en_US!", 400, "InvalidArgument", "InvalidParameter"),
    ]
    for query, status, code, inner in cases:
        r = http.post(f"{analyze}{query}", **png)
        assert r.status_code == status, (query, r.text)
        assert r.json()["error"]["code"] == code
        assert r.json()["error"]["innererror"]["code"] == inner
    r = http.post(f"{base}/prebuilt-layout:analyze?{API}", **png)
    assert r.status_code == 404 and r.json()["error"]["innererror"]["code"] == "ModelNotFound"
    r = http.post(f"{analyze}?{API}", data=b"hi", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "UnsupportedMediaType"
    r = http.post(f"{analyze}?{API}", data=b"{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidArgument"
    r = http.post(f"{analyze}?{API}&pages=1-3", **png)  # checked by content: not a PNG
    assert r.json()["error"]["innererror"]["code"] == "InvalidContent"
    r = http.get(f"{analyze}?{API}")
    assert r.status_code == 405 and r.json()["error"]["code"] == "MethodNotAllowed"
    r = http.get(f"{live_server.url}/compat/azure/documentintelligence/info")
    assert r.status_code == 404 and r.json() == {
        "error": {"code": "404", "message": "Resource not found"}
    }

    from app.models import Job

    assert not Job.objects.exists()  # a refused request stores nothing


@pytest.mark.django_db(transaction=True)
def test_sdk_errors(live_server, key):
    with _client(live_server, "abcdefgh.not-a-real-key") as client:
        with pytest.raises(ClientAuthenticationError) as caught:
            client.begin_analyze_document(
                model_id="prebuilt-read", body=AnalyzeDocumentRequest(bytes_source=b"%PDF-1.4")
            )
        assert caught.value.status_code == 401 and caught.value.error.code == "401"

    with _client(live_server, key) as client:
        with pytest.raises(HttpResponseError) as caught:
            client.begin_analyze_document(
                model_id="prebuilt-read",
                body=AnalyzeDocumentRequest(bytes_source=b"Dear sir, this is plain text." * 20),
            )
        assert caught.value.status_code == 400 and caught.value.error.code == "InvalidRequest"
        assert caught.value.error.innererror["code"] == "UnsupportedContent"

        with pytest.raises(HttpResponseError) as caught:  # our own host: a private address
            client.begin_analyze_document(
                model_id="prebuilt-read",
                body=AnalyzeDocumentRequest(url_source=f"{live_server.url}/static/scan.png"),
            )
        assert caught.value.status_code == 400 and caught.value.error.code == "InvalidRequest"
        assert caught.value.error.innererror["code"] == "ContentSourceNotAccessible"

        with pytest.raises(ResourceNotFoundError):
            client.get_analyze_result_pdf(
                model_id="prebuilt-read", result_id="0b6d1c2e-3f4a-4b5c-8d9e-0f1a2b3c4d5e-pdf"
            )


# --- the views on the test client ---------------------------------------------------

RESULTS = "/compat/azure/documentintelligence/documentModels/prebuilt-read/analyzeResults"


def test_a_failed_job_reads_as_a_failed_analysis(client, key):
    from app.models import ApiKey, Job

    owner = ApiKey.objects.get(prefix=key.split(".")[0]).owner
    job = Job.objects.create(
        owner=owner,
        content_type="application/pdf",
        sha256="0" * 64,
        engine="tesseract",
        source="azure",
        status="failed",
        error_code="invalid_pdf",
        error_message="Page 2: the page could not be read.",
    )
    headers = {"Ocp-Apim-Subscription-Key": key}
    r = client.get(f"{RESULTS}/{job.id}?{API}", headers=headers)
    assert r.status_code == 200 and "Retry-After" not in r
    body = r.json()
    assert body["status"] == "failed" and "analyzeResult" not in body
    assert body["error"] == {
        "code": "InvalidRequest",
        "message": "Invalid request.",
        "innererror": {"code": "InvalidContent", "message": "Page 2: the page could not be read."},
    }
    Job.objects.filter(pk=job.pk).update(status="processing", error_code="")
    r = client.get(f"{RESULTS}/{job.id}-pdf/pdf?{API}", headers=headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "Conflict"
    r = client.get(f"{RESULTS}/{job.id}?{API}", headers=headers)
    assert r.json()["status"] == "running" and r["Retry-After"] == "1"


def test_a_locale_whose_language_is_not_installed(client, key):
    r = client.post(
        f"/compat/azure/documentintelligence/documentModels/prebuilt-read:analyze?{API}"
        "&locale=tlh-Latn",  # unknown: our default languages
        data=render_text(["Qapla"]).png(),
        content_type="image/png",
        headers={"Ocp-Apim-Subscription-Key": key},
    )
    assert r.status_code == 202, r.content
    r = client.post(
        f"/compat/azure/documentintelligence/documentModels/prebuilt-read:analyze?{API}"
        "&locale=cy-GB",  # Welsh: cym, not installed here
        data=render_text(["Bore da"]).png(),
        content_type="image/png",
        headers={"Ocp-Apim-Subscription-Key": key},
    )
    error = r.json()["error"]
    assert r.status_code == 400 and error["code"] == "InvalidArgument", error
    assert error["innererror"]["code"] == "InvalidParameter"
    assert "cy-GB" in error["innererror"]["message"]


def test_a_throttled_key_gets_the_gateways_429(client, key, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle

    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute", "anon": None})
    headers = {"Ocp-Apim-Subscription-Key": key}
    missing = f"{RESULTS}/0b6d1c2e-3f4a-4b5c-8d9e-0f1a2b3c4d5e?{API}"
    assert [client.get(missing, headers=headers).status_code for _ in range(2)] == [404, 404]
    r = client.get(missing, headers=headers)
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    assert r.json()["error"]["code"] == "429"


def test_only_jobs_made_through_this_api_are_results(client, key):
    """A job of the same user sent to /api/ (or through another drop-in) is not an
    analyze result here, nor is it one for a staff user (docs/compat.md)."""
    from app.models import ApiKey, Job

    owner = ApiKey.objects.get(prefix=key.split(".")[0]).owner
    fields = {"owner": owner, "content_type": "image/png", "sha256": "0" * 64}
    ours = Job.objects.create(**fields, engine="tesseract", source="azure", status="done")
    for source in ("", "ultraocr"):
        other = Job.objects.create(**fields, engine="tesseract", source=source, status="done")
        for user_is_staff in (False, True):
            owner.is_staff = user_is_staff
            owner.save(update_fields=["is_staff"])
            headers = {"Ocp-Apim-Subscription-Key": key}
            r = client.get(f"{RESULTS}/{other.id}?{API}", headers=headers)
            assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"
            assert client.get(f"{RESULTS}/{ours.id}?{API}", headers=headers).status_code == 200
