"""computervision.com.vn's document OCR served from our jobs (app/compat/computervision).

The end-to-end tests run the provider's three documented Python examples
(https://docs.computervision.com.vn/en/v2/ocr/textual: GET with an image URL, POST
multipart file, POST base64 JSON) unchanged but for the URL and the key pair, and our
own provider client (app/engines/providers/computervision_vn.py) pointed at the live
server, on rendered scans read by a real worker. The others check the error table,
credentials, the raw-URL parsing and the translation.
"""

from __future__ import annotations

import base64
import io

import pypdfium2 as pdfium
import pytest
import requests
from PIL import Image
from pytest_httpserver import HTTPServer

from app.compat.computervision.errors import CODES, CvError
from app.compat.computervision.results import page_blocks, pages_data
from app.compat.computervision.submission import url_param
from app.errors import ERROR_CODES, OcrError
from app.pipeline.schema import Block, Document, Line, PageResult, Word
from tests.imaging import cer, degrade, render_text, text_pdf

PATH = "/compat/computervision/api/v2/ocr/document/general"
SCAN = ["Optical character recognition reads", "scanned letters and invoices."]
VIETNAMESE = ["Cộng hòa xã hội chủ nghĩa Việt Nam", "Độc lập Tự do Hạnh phúc"]


@pytest.fixture
def pair(db):
    """``(user name, key prefix, full key)`` of a new user's API key."""
    from app.services import key_create
    from tests.factories import UserFactory

    owner = UserFactory()
    key = key_create(owner=owner, name="computervision")[1]
    return owner.get_username(), key.split(".")[0], key


# --- helpers: what a user checks in an answer -----------------------------------------


def texts_of(blocks: list) -> list[dict]:
    """Every text of a page's blocks -> lines -> texts, in order."""
    return [text for block in blocks for line in block for text in line]


def page_text(blocks: list) -> str:
    """The page's text as the provider's demo shows it: a line per line."""
    return "\n".join(" ".join(t["text"] for t in line) for block in blocks for line in block)


def check_boxes(blocks: list, rendered, width: int, height: int) -> None:
    """Every box lies in the page; every long drawn word is found with a box around
    where it was drawn (the centres within a few pixels)."""
    texts = texts_of(blocks)
    for text in texts:
        box = text["box"]
        assert 0 <= box["left"] < box["right"] <= width, text
        assert 0 <= box["top"] < box["bottom"] <= height, text
        assert 0 <= text["confidence"] <= 1, text
    found = 0
    for word, (left, top, right, bottom) in rendered.word_boxes:
        if len(word) < 4:
            continue
        match = [t for t in texts if t["text"] == word]
        assert match, f"{word!r} not read: {[t['text'] for t in texts]}"
        box = match[0]["box"]
        assert abs((box["left"] + box["right"]) / 2 - (left + right) / 2) < 8, (word, box)
        assert abs((box["top"] + box["bottom"]) / 2 - (top + bottom) / 2) < 8, (word, box)
        found += 1
    assert found >= 3


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


# --- the provider's three documented Python examples ----------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_docs_example_1_get_with_an_image_url(
    live_server, celery_worker, pair, httpserver: HTTPServer, settings
):
    settings.OCR_URL_ALLOW_PRIVATE = True  # the image is served on 127.0.0.1 here
    rendered = render_text(SCAN)
    httpserver.expect_request(
        "/scans/page.png", query_string="sig=a%2Bb%3D&size=full"
    ).respond_with_data(_png(degrade(rendered.image)), content_type="image/png")
    username, _, key = pair

    # The docs' example, with the URL's host and the key pair replaced; the image URL
    # carries a query of its own (a signed URL), put into ours unencoded as the docs do.
    api_key = username
    api_secret = key
    image_url = httpserver.url_for("/scans/page.png") + "?sig=a%2Bb%3D&size=full"
    response = requests.get(
        f"{live_server.url}/compat/computervision/api/v2/ocr/document/general"
        "?img=%s&format_type=url&get_thumb=false" % image_url,
        auth=(api_key, api_secret),
    )
    print(response.json())

    body = response.json()
    assert response.status_code == 200, body
    assert (body["errorCode"], body["errorMessage"]) == ("0", "")
    assert len(body["data"]) == 1
    blocks = body["data"][0]  # get_thumb=false: the page is its list of blocks
    assert cer(rendered.text, page_text(blocks)) < 0.05, page_text(blocks)
    check_boxes(blocks, rendered, *rendered.image.size)

    from app.models import Job

    job = Job.objects.get()
    assert job.source == "computervision" and job.status == "done"
    assert job.owner.get_username() == username
    assert job.languages == "vie+eng"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_docs_example_2_post_a_file(live_server, celery_worker, pair, tmp_path):
    rendered = render_text(VIETNAMESE)
    (tmp_path / "image.jpg").write_bytes(rendered.encoded("JPEG", quality=90))
    _, prefix, key = pair

    api_key = prefix  # the key's public prefix works as the id too
    api_secret = key
    image_path = str(tmp_path / "image.jpg")
    response = requests.post(
        f"{live_server.url}/compat/computervision/api/v2/ocr/document/general"
        "?format_type=file&get_thumb=false",
        auth=(api_key, api_secret),
        files={"img": open(image_path, "rb")},  # noqa: SIM115 (the docs' own call)
    )
    print(response.json())

    body = response.json()
    assert response.status_code == 200 and body["errorCode"] == "0", body
    blocks = body["data"][0]
    assert cer(rendered.text, page_text(blocks)) < 0.08, page_text(blocks)
    assert [t["text"] for t in texts_of(blocks)][:3] == ["Cộng", "hòa", "xã"]
    check_boxes(blocks, rendered, *rendered.image.size)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_docs_example_3_post_base64_json(live_server, celery_worker, pair, tmp_path):
    rendered = render_text(SCAN)
    (tmp_path / "scan.png").write_bytes(_png(degrade(rendered.image)))
    username, _, key = pair

    def get_byte_img(img):
        img_byte_arr = io.BytesIO()
        img.save(img_byte_arr, format="PNG")
        encoded_img = base64.encodebytes(img_byte_arr.getvalue()).decode("ascii")
        return encoded_img

    api_key = username
    api_secret = key
    img_name = str(tmp_path / "scan.png")
    encode_cmt = get_byte_img(Image.open(img_name))
    response = requests.post(
        f"{live_server.url}/compat/computervision/api/v2/ocr/document/general"
        "?format_type=base64&get_thumb=false",
        auth=(api_key, api_secret),
        json={"img": encode_cmt},
    )
    print(response.json())

    body = response.json()
    assert response.status_code == 200 and body["errorCode"] == "0", body
    assert cer(rendered.text, page_text(body["data"][0])) < 0.05
    check_boxes(body["data"][0], rendered, *rendered.image.size)


# --- thumbnails, PDFs, no content, our own provider client -----------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_two_page_pdf_with_thumbnails(live_server, celery_worker, pair):
    pdf = text_pdf(2, "read through computervision.")
    username, _, key = pair
    response = requests.post(
        f"{live_server.url}{PATH}?format_type=file&get_thumb=true",
        auth=(username, key),
        files={"img": ("two pages.pdf", pdf, "application/pdf")},
    )
    body = response.json()
    assert response.status_code == 200 and body["errorCode"] == "0", body
    assert len(body["data"]) == 2  # one element per page

    from app.models import Job

    job = Job.objects.get()
    sizes = dict((p.number, (p.width, p.height)) for p in job.pages.all())
    pdf_page = pdfium.PdfDocument(pdf)[0]
    for number, page in enumerate(body["data"], 1):
        # As a Label Studio ML backend reads it: page['image'] and page['result'].
        image = Image.open(io.BytesIO(base64.b64decode(page["image"].replace("\n", ""))))
        assert image.format == "JPEG" and image.size == sizes[number]
        assert image.width == pytest.approx(pdf_page.get_width() / 72 * 300, abs=3)
        blocks = page["result"]
        expected = f"Page {number} of a document\nread through computervision."
        assert cer(expected, page_text(blocks)) < 0.05, page_text(blocks)
        for text in texts_of(blocks):
            box = text["box"]
            assert 0 <= box["left"] < box["right"] <= image.width
            assert 0 <= box["top"] < box["bottom"] <= image.height
        # The word "Page" is dark ink on the thumbnail where its box says.
        word = next(t for t in texts_of(blocks) if t["text"] == "Page")["box"]
        crop = image.convert("L").crop((word["left"], word["top"], word["right"], word["bottom"]))
        darkest, lightest = crop.getextrema()
        assert darkest < 80 and lightest > 200


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_blank_page_is_error_code_1(live_server, celery_worker, pair):
    username, _, key = pair
    blank = Image.new("L", (600, 400), 255)
    response = requests.post(  # no format_type: read from the multipart body
        f"{live_server.url}{PATH}",
        auth=(username, key),
        files={"img": ("blank.png", _png(blank), "image/png")},
    )
    assert response.status_code == 200
    assert response.json() == {
        "data": [[]],
        "errorCode": "1",
        "errorMessage": "The photo does not contain content",
    }


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_our_provider_client_round_trip(live_server, celery_worker, pair):
    from types import MappingProxyType

    from app.engines.base import EngineOptions
    from app.engines.providers import computervision_vn

    username, _, key = pair

    def engine(secret: str):
        return computervision_vn.build(
            MappingProxyType(
                {
                    "OCR_COMPUTERVISION_VN_BASE_URL": f"{live_server.url}/compat/computervision",
                    "OCR_COMPUTERVISION_VN_API_KEY": username,
                    "OCR_COMPUTERVISION_VN_API_SECRET": secret,
                    "OCR_PROVIDER_READ_TIMEOUT": 60.0,
                    "OCR_PROVIDER_RETRIES": 0,
                }
            )
        )

    rendered = render_text(SCAN)
    page = engine(key).recognize_page(
        degrade(rendered.image).convert("RGB"), page_number=3, options=EngineOptions()
    )
    assert page.number == 3 and (page.width, page.height) == rendered.image.size
    assert cer(rendered.text, page.text) < 0.05, page.text
    assert page.raw["errorCode"] == "0" and key not in str(page.raw)
    words = {word.text: word for word in page.words()}
    for text, (left, top, right, bottom) in rendered.word_boxes:
        if text in words:
            box = words[text].bbox
            assert abs(box[0] - left) < 8 and abs(box[2] - right) < 8, (text, box)
            assert box[1] - 8 < top and bottom < box[3] + 8, (text, box)
            assert 0 < words[text].confidence <= 100
    with pytest.raises(OcrError) as caught:
        engine(key + "x").recognize_page(rendered.image, page_number=1, options=EngineOptions())
    assert caught.value.code == "provider_auth"


# --- refusals, in the provider's shape ---------------------------------------------------


def _error(response, status: int, code: str) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert body["errorCode"] == code and body["data"] == [], body
    assert body["errorMessage"]
    return body


@pytest.mark.django_db(transaction=True)
def test_credentials(live_server, pair):
    from app.services import key_create
    from tests.factories import UserFactory

    username, _, key = pair
    url = f"{live_server.url}{PATH}?format_type=file&get_thumb=false"
    png = {"img": ("a.png", render_text(["x"]).png(), "image/png")}
    other = UserFactory()
    other_key = key_create(owner=other, name="other")[1]

    r = requests.post(url, files=png)
    body = _error(r, 401, "5")
    assert body["errorMessage"].startswith("Incorrect Api_key or api_secret")
    assert r.headers["WWW-Authenticate"].startswith("Basic ")
    for auth in [
        (username, key + "x"),  # a wrong secret
        (username, "abcdefgh.not-a-key"),
        ("nobody", key),  # an id naming neither the owner nor the key
        (other.get_username(), key),  # another user's name with this key
        (username, other_key),  # this name with another user's key
    ]:
        _error(requests.post(url, auth=auth, files=png), 401, "5")
    r = requests.post(url, files=png, headers={"Authorization": "Basic !!!"})
    _error(r, 401, "5")

    from app.models import Job

    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_error_table(live_server, pair, settings):
    username, _, key = pair
    http = requests.Session()
    http.auth = (username, key)
    base = f"{live_server.url}{PATH}"
    png = render_text(["Refused"]).png()
    b64 = base64.b64encode(png).decode()

    cases = [
        # 6: format_type unknown, or not what was sent
        (http.post(f"{base}?format_type=pdf", files={"img": png}), 400, "6"),
        (http.post(f"{base}?format_type=file", json={"img": b64}), 400, "6"),
        (http.get(f"{base}?format_type=file"), 400, "6"),
        (http.post(f"{base}?format_type=base64", files={"img": png}), 400, "6"),
        (http.post(f"{base}?format_type=base64", json={"img": "https://e.com/a.png"}), 400, "6"),
        (http.post(f"{base}?format_type=url", files={"img": png}), 400, "6"),
        (http.post(f"{base}?format_type=file", data={"img": b64}), 400, "6"),
        # 2: the URL cannot be downloaded (none, private, refused, not http)
        (http.get(f"{base}?format_type=url"), 400, "2"),
        (http.get(f"{base}?img={live_server.url}/static/a.png&format_type=url"), 400, "2"),
        (http.get(f"{base}?img=ftp://example.com/a.png&format_type=url"), 400, "2"),
        # 3: nothing readable
        (http.post(f"{base}?format_type=file", files={"other": png}), 400, "3"),
        (http.post(f"{base}?format_type=base64", json={"image": b64}), 400, "3"),
        (http.post(f"{base}?format_type=base64", data=b"{", headers=_json()), 400, "3"),
        (http.post(f"{base}?format_type=base64", json={"img": "%%% not base64"}), 400, "3"),
        (http.post(f"{base}?format_type=base64", json={"img": _b64(b"Dear sir," * 50)}), 415, "3"),
        (
            http.post(f"{base}?format_type=file", files={"img": b"\x89PNG\r\n\x1a\n" + b"0" * 99}),
            400,
            "3",
        ),
        (http.post(f"{base}?format_type=file", files={"img": b"%PDF-1.4 broken"}), 400, "3"),
    ]
    for number, (response, status, code) in enumerate(cases):
        body = response.json()
        assert (response.status_code, body["errorCode"]) == (status, code), (number, body)
        assert body["data"] == [] and body["errorMessage"], (number, body)

    settings.OCR_MAX_UPLOAD_BYTES = 2000
    _error(http.post(f"{base}?format_type=file", files={"img": png + b"0" * 5000}), 413, "3")
    _error(http.post(f"{base}?format_type=base64", json={"img": _b64(png + b"0" * 5000)}), 413, "3")
    settings.OCR_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
    settings.OCR_MAX_PIXELS = 10_000  # a decompression bomb is refused the same way
    _error(http.post(f"{base}?format_type=file", files={"img": png}), 413, "3")

    from app.models import Job

    assert not Job.objects.exists()  # a refused request stores nothing


@pytest.mark.django_db(transaction=True)
def test_paths_methods_and_throttle(live_server, pair, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle

    username, _, key = pair
    base = f"{live_server.url}/compat/computervision"
    r = requests.get(f"{base}/api/v2/ocr/document/idcard", auth=(username, key))
    assert r.json()["errorCode"] == "404" and r.status_code == 404
    r = requests.get(f"{base}/api/v2/ocr/document/general/", allow_redirects=False)
    _error(r, 401, "5")  # the route with a slash resolves too (no redirect, no 404)
    r = requests.put(f"{base}/api/v2/ocr/document/general", auth=(username, key))
    _error(r, 405, "405")
    assert r.headers["Allow"] == "GET, POST"

    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute", "anon": None})
    url = f"{base}/api/v2/ocr/document/general?format_type=pdf"
    assert [requests.get(url, auth=(username, key)).json()["errorCode"] for _ in range(2)] == [
        "6",
        "6",
    ]
    r = requests.get(url, auth=(username, key))
    body = _error(r, 429, "4")
    assert body["errorMessage"].startswith("Out of requests") and int(r.headers["Retry-After"]) > 0


@pytest.mark.django_db(transaction=True)
def test_a_job_not_finished_in_time(live_server, pair, settings):
    settings.OCR_MAX_WAIT_SECONDS = 0
    username, _, key = pair
    r = requests.post(
        f"{live_server.url}{PATH}?format_type=file",
        auth=(username, key),
        files={"img": ("a.png", render_text(["Slow"]).png(), "image/png")},
    )
    body = _error(r, 504, "504")
    from app.models import Job

    job = Job.objects.get()
    assert str(job.id) in body["errorMessage"] and job.source == "computervision"


# --- the translation, without a server ---------------------------------------------------


def test_url_param_joins_an_unencoded_url_back():
    raw = "img=https://h.example/a.png?X-Sig=a%2Bb&size=1&format_type=url&get_thumb=false"
    assert url_param(raw) == "https://h.example/a.png?X-Sig=a%2Bb&size=1"
    assert url_param("format_type=url&img=https%3A%2F%2Fh%2Fa.png%3Fx%3D1") == "https://h/a.png?x=1"
    assert url_param("img=http://h/a.png&get_thumb=true&format_type=url") == "http://h/a.png"
    assert url_param("format_type=url") == "" and url_param("img=&format_type=url") == ""


def test_every_error_code_has_a_translation():
    assert set(ERROR_CODES) <= set(CODES)
    for code in ERROR_CODES:
        error = CvError.from_code(code, "why")
        assert 200 <= error.status < 600 and error.code, code
        assert error.code in {"2", "3", "4", "5", "6"} or error.code == str(error.status), code
    assert CvError.from_code("engine_crash", "x").status == 500
    assert CvError.from_code("timeout", "x").code == "504"
    assert CvError.from_code("unsupported_format", "x").status == 415


def test_pages_translate_blocks_lines_and_texts():
    words = [
        Word(bbox=[10, 10, 50, 30], text="CỘNG", confidence=98.0),
        Word(bbox=[60, 10, 300, 30], text="HÒA", confidence=None),
    ]
    lines = [Line.from_words(words), Line(bbox=[5, 40, 90, 60], text="no words", words=[])]
    page = PageResult.from_blocks(
        number=1, width=200, height=100, blocks=[Block.from_lines(lines), Block.from_lines([])]
    )
    blocks = page_blocks(page)
    first = [_text("CỘNG", 0.98, 10, 50, 10, 30), _text("HÒA", 1.0, 60, 200, 10, 30)]
    assert blocks == [[first, [_text("no words", 1.0, 5, 90, 40, 60)]]]  # empty block left out
    document = Document(engine="tesseract", engine_version="5", pages=[page])
    thumbs = pages_data(document, thumb=True, images=lambda n: Image.new("L", (200, 100), 255))
    assert thumbs[0]["result"] == blocks
    assert Image.open(io.BytesIO(base64.b64decode(thumbs[0]["image"]))).size == (200, 100)
    assert pages_data(document, thumb=False) == [blocks]


def _json() -> dict:
    return {"Content-Type": "application/json"}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _text(text: str, confidence: float, left: int, right: int, top: int, bottom: int) -> dict:
    box = {"left": left, "right": right, "top": top, "bottom": bottom}
    return {"text": text, "confidence": confidence, "box": box}


@pytest.mark.django_db
def test_a_failed_or_canceled_job_answers_in_the_providers_shape(pair):
    from app.compat.computervision.views import _answer
    from app.models import ApiKey, Job

    owner = ApiKey.objects.get(prefix=pair[1]).owner
    job = Job.objects.create(
        owner=owner,
        content_type="application/pdf",
        sha256="0" * 64,
        engine="tesseract",
        status="failed",
        error_code="invalid_pdf",
        error_message="Page 2: the page could not be read.",
    )
    cases = [
        ("failed", "invalid_pdf", 400, "3", "Incorrect image format: Page 2"),
        ("failed", "engine_crash", 500, "500", "Page 2"),
        ("failed", "", 500, "500", "Page 2"),
        ("canceled", "", 409, "409", "The job was canceled"),
    ]
    for status, code, http_status, error_code, message in cases:
        Job.objects.filter(pk=job.pk).update(status=status, error_code=code)
        job.refresh_from_db()
        with pytest.raises(CvError) as caught:
            _answer(job, thumb=False)
        assert (caught.value.status, caught.value.code) == (http_status, error_code)
        assert caught.value.message.startswith(message), caught.value.message
