"""NAVER CLOVA OCR General (V2) served from our jobs (app/compat/clova).

The end-to-end tests run NAVER's two documented Python examples (the multipart call
with ``message`` + ``file``, and the JSON call with an image ``url``; "General
(Template) OCR" examples, https://api.ncloud-docs.com/docs/ai-application-service-ocr-example01)
unchanged but for their placeholders, and our own CLOVA engine
(app/engines/providers/clova.py) pointed at the live server: real clients, a real
worker, real rendered scans. The others check the translation and the error table.
"""

from __future__ import annotations

import base64
import io
import json

import pytest
import requests

from app.compat.clova.errors import CLOVA_ERRORS, CLOVA_MESSAGES
from app.compat.clova.results import failed_image, page_fields, page_images
from app.compat.clova.submission import languages_for
from app.errors import ERROR_CODES
from app.pipeline.schema import Block, Document, Line, PageResult, Word
from tests.imaging import PARAGRAPH, cer, degrade, render_text, text_pdf

# NAVER's example for Content-Type: multipart/form-data, as the docs have it.
NAVER_MULTIPART = """\
import requests
import uuid
import time
import json

api_url = 'YOUR_API_URL'
secret_key = 'YOUR_SECRET_KEY'
image_file = 'YOUR_IMAGE_FILE'

request_json = {
    'images': [
        {
            'format': 'jpg',
            'name': 'demo'
        }
    ],
    'requestId': str(uuid.uuid4()),
    'version': 'V2',
    'timestamp': int(round(time.time() * 1000))
}

payload = {'message': json.dumps(request_json).encode('UTF-8')}
files = [
  ('file', open(image_file,'rb'))
]
headers = {
  'X-OCR-SECRET': secret_key
}

response = requests.request("POST", api_url, headers=headers, data = payload, files = files)

print(response.text.encode('utf8'))
"""

# NAVER's example for Content-Type: application/json (an image URL), as the docs have it.
NAVER_JSON_URL = """\
import requests
import uuid
import time
import json

api_url = 'YOUR_API_URL'
secret_key = 'YOUR_SECRET_KEY'
image_url = 'YOUR_IMAGE_URL'

request_json = {
    'images': [
        {
            'format': 'jpg',
            'name': 'demo',
            'url': image_url
        }
    ],
    'requestId': str(uuid.uuid4()),
    'version': 'V2',
    'timestamp': int(round(time.time() * 1000))
}

payload = json.dumps(request_json).encode('UTF-8')
headers = {
  'X-OCR-SECRET': secret_key,
  'Content-Type': 'application/json'
}

response = requests.request("POST", api_url, headers=headers, data = payload)

print(response.text)
"""


def run_snippet(source: str, **placeholders: str) -> dict:
    """Run a NAVER example with its ``YOUR_...`` placeholders filled; its globals."""
    for name, value in placeholders.items():
        placeholder = f"'YOUR_{name.upper()}'"
        assert placeholder in source, name
        source = source.replace(placeholder, repr(value))
    namespace: dict = {"__name__": "naver_example"}
    exec(compile(source, "naver_example.py", "exec"), namespace)  # noqa: S102
    return namespace


GENERAL = "/compat/clova/general"


def message(**changes) -> dict:
    body = {
        "version": "V2",
        "requestId": "req-1",
        "timestamp": 0,
        "images": [{"format": "png", "name": "page", "data": "aGVsbG8="}],
    }
    body.update(changes)
    return body


# --- checks of an answer -------------------------------------------------------------


def field_lines(image: dict) -> list[list[dict]]:
    """An image's fields cut into lines at each ``lineBreak``."""
    lines, current = [], []
    for field in image["fields"]:
        current.append(field)
        if field["lineBreak"]:
            lines.append(current)
            current = []
    assert not current, "the last field must end its line"
    return lines


def text_of(image: dict) -> str:
    return "\n".join(" ".join(f["inferText"] for f in line) for line in field_lines(image))


def iou(a, b) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def poly_box(field: dict) -> tuple[float, float, float, float]:
    """The box of a field's 4 vertices, checked clockwise from the top left."""
    v = field["boundingPoly"]["vertices"]
    assert len(v) == 4
    assert v[0]["x"] <= v[1]["x"] and v[0]["y"] <= v[3]["y"]  # top-left, top-right ...
    assert v[1]["y"] <= v[2]["y"] and v[3]["x"] <= v[2]["x"]  # ... bottom-right, bottom-left
    xs, ys = [p["x"] for p in v], [p["y"] for p in v]
    return min(xs), min(ys), max(xs), max(ys)


def check_image(image: dict, rendered, *, name: str) -> None:
    """The answer's image entry against what was rendered: text, lines, boxes."""
    assert image["name"] == name and image["inferResult"] == "SUCCESS"
    assert image["validationResult"] == {"result": "NO_REQUESTED"}
    assert len(image["uid"]) == 32
    info = image["convertedImageInfo"]
    assert (info["width"], info["height"]) == rendered.image.size
    assert info["pageIndex"] == 0 and info["longImage"] is False
    assert cer(rendered.text, text_of(image)) < 0.05, text_of(image)
    lines = field_lines(image)
    assert len(lines) == len(rendered.lines)
    for got, want in zip(lines, rendered.lines, strict=True):
        assert cer(want, " ".join(f["inferText"] for f in got)) < 0.1
    on_word = 0
    for field in image["fields"]:
        assert field["valueType"] == "ALL" and field["type"] == "NORMAL"
        assert 0 < field["inferConfidence"] <= 1
        box = poly_box(field)
        assert 0 <= box[0] < box[2] <= info["width"] and 0 <= box[1] < box[3] <= info["height"]
        # Its drawn word: the same text, or failing that the most overlapping word.
        same = [b for word, b in rendered.word_boxes if word == field["inferText"]]
        best = max(iou(box, b) for b in same or [b for _, b in rendered.word_boxes])
        assert best > 0.5, (field, best)
        on_word += bool(same)
    assert on_word >= len(rendered.word_boxes) - 2  # nearly every word read exactly


# --- the translation, without a server --------------------------------------------


def _page() -> PageResult:
    first = Line.from_words(
        [
            Word(bbox=[10, 10, 50, 30], text="Hello", confidence=96.5),
            Word(bbox=[60, 10, 99, 30], text="  ", confidence=10.0),  # empty: dropped
            Word(bbox=[60, 10, 120, 30], text="world", confidence=None),
        ]
    )
    tilted = Word(
        bbox=[10, 40, 80, 70], text="안녕", confidence=88.0,
        polygon=[[12, 40], [80, 45], [78, 70], [10, 65]],
    )  # fmt: skip
    second = Line.from_words([tilted])
    wordless = Line(bbox=[5, 80, 90, 100], text="no  words", confidence=50.0, words=[])
    blocks = [Block.from_lines([first, second]), Block.from_lines([wordless])]
    return PageResult.from_blocks(number=2, width=200, height=120, blocks=blocks)


def test_fields_are_words_in_reading_order_with_line_breaks():
    fields = page_fields(_page())
    assert [f["inferText"] for f in fields] == ["Hello", "world", "안녕", "no words"]
    assert [f["lineBreak"] for f in fields] == [False, True, True, True]
    assert [f["inferConfidence"] for f in fields] == [0.965, 1.0, 0.88, 0.5]
    assert fields[0]["boundingPoly"]["vertices"] == [
        {"x": 10.0, "y": 10.0}, {"x": 50.0, "y": 10.0},
        {"x": 50.0, "y": 30.0}, {"x": 10.0, "y": 30.0},
    ]  # fmt: skip
    assert fields[2]["boundingPoly"]["vertices"][1] == {"x": 80.0, "y": 45.0}  # own polygon
    doc = Document(engine="tesseract", engine_version="5", pages=[_page()])
    (image,) = page_images(doc, uid="ab" * 16, name="scan")
    assert image["convertedImageInfo"] == {
        "width": 200, "height": 120, "pageIndex": 1, "longImage": False,
    }  # fmt: skip
    assert json.loads(json.dumps(image)) == image


def test_a_failed_job_is_an_image_that_was_not_read():
    bad = failed_image(uid="u", name="n", code="invalid_pdf", message="Page 2 is damaged.")
    assert (bad["inferResult"], bad["message"], bad["fields"]) == (
        "FAILURE",
        "Page 2 is damaged.",
        [],
    )
    assert failed_image(uid="u", name="n", code="engine_crash", message="")["inferResult"] == (
        "ERROR"
    )


def test_every_error_code_has_a_clova_translation():
    assert set(ERROR_CODES) <= set(CLOVA_ERRORS)
    for code, clova in CLOVA_ERRORS.items():
        assert clova.code in CLOVA_MESSAGES, code
        assert clova.status in (400, 401, 404, 405, 500), code


def test_lang_maps_to_tesseract_languages(settings):
    assert languages_for("ko") == "kor+eng"
    assert languages_for("ko,ja") == "kor+jpn+eng"
    assert languages_for(" zh-TW ") == "chi_tra+eng"
    assert languages_for("en") == "eng"
    assert languages_for(None) == languages_for("") == settings.OCR_DEFAULT_LANGUAGES


# --- the live server, NAVER's examples and our own client, a real worker -------------


@pytest.fixture
def owner(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def key(owner):
    from app.services import key_create

    return key_create(owner=owner, name="clova")[1]


def _jobs():
    from app.models import Job

    return Job.objects.order_by("created_at")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_navers_multipart_example_on_a_scan(live_server, celery_worker, key, owner, tmp_path):
    rendered = render_text(PARAGRAPH)
    scan = tmp_path / "scan.jpg"
    degrade(rendered.image).save(scan, "JPEG", quality=90)

    done = run_snippet(
        NAVER_MULTIPART,
        api_url=f"{live_server.url}/compat/clova/general",
        secret_key=key,
        image_file=str(scan),
    )

    response = done["response"]
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body = response.json()
    assert body["version"] == "V2"
    assert body["requestId"] == done["request_json"]["requestId"]
    assert isinstance(body["timestamp"], int)
    (image,) = body["images"]
    check_image(image, rendered, name="demo")
    (job,) = _jobs()  # one of the key owner's jobs, marked with the API it came through
    assert (job.source, job.owner, job.status, job.filename) == ("clova", owner, "done", "scan.jpg")
    assert image["uid"] == job.id.hex


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_navers_json_url_example(live_server, celery_worker, key, httpserver, settings):
    rendered = render_text(["A page fetched from its URL", "and read through CLOVA's API."])
    httpserver.expect_request("/scans/page.png").respond_with_data(
        rendered.png(), content_type="image/png"
    )
    settings.OCR_URL_ALLOW_PRIVATE = True  # the image server is on this machine

    done = run_snippet(
        NAVER_JSON_URL,
        api_url=f"{live_server.url}/compat/clova/general",
        secret_key=key,
        image_url=httpserver.url_for("/scans/page.png"),
    )

    response = done["response"]
    assert response.status_code == 200, response.text
    (image,) = response.json()["images"]
    check_image(image, rendered, name="demo")
    assert _jobs().get().filename == "page.png"

    httpserver.expect_request("/scans/gone.png").respond_with_data("gone", status=404)
    body = message(
        images=[{"format": "png", "name": "p", "url": httpserver.url_for("/scans/gone.png")}]
    )
    r = requests.post(f"{live_server.url}{GENERAL}", json=body, headers={"X-OCR-SECRET": key})
    assert (r.status_code, r.json()["code"]) == (400, "0001")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_our_clova_engine_round_trip(live_server, celery_worker, key):
    """Our CLOVA engine, as it forwards jobs to NAVER, against this server: a page image
    (JSON with base64 data) and a two-page PDF (format pdf: one image per page)."""
    from app.engines.base import EngineOptions
    from app.engines.providers.clova import ClovaEngine

    engine = ClovaEngine(
        {
            "OCR_CLOVA_INVOKE_URL": f"{live_server.url}/compat/clova",
            "OCR_CLOVA_SECRET": key,
            "OCR_PROVIDER_RETRIES": 0,
            "OCR_PROVIDER_READ_TIMEOUT": 60,
        }
    )
    options = EngineOptions(languages=("eng",), timeout=60)
    try:
        rendered = render_text(["Round trip through our own client."])
        page = engine.recognize_page(rendered.image, page_number=1, options=options)
        assert page.text == "Round trip through our own client."
        assert (page.width, page.height) == rendered.image.size
        for word, (text, box) in zip(page.words(), rendered.word_boxes, strict=True):
            assert word.text == text and iou(word.bbox, box) > 0.5
            assert len(word.polygon) == 4 and 0 < word.confidence <= 100

        pages = engine.recognize_document(text_pdf(2, "split by the server."), "application/pdf",
                                          options=options)  # fmt: skip
        assert [p.number for p in pages] == [1, 2]
        for number, got in enumerate(pages, 1):
            expected = f"Page {number} of a document\nsplit by the server."
            assert cer(expected, got.text) < 0.05, got.text
            assert len(got.blocks[0].lines) == 2
    finally:
        engine.close()
    jobs = list(_jobs())
    assert [(j.source, j.page_count) for j in jobs] == [("clova", 1), ("clova", 2)]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_pdf_answers_one_image_per_page(live_server, celery_worker, key):
    body = message(images=[{"format": "pdf", "name": "two pages",
                            "data": base64.b64encode(text_pdf(2)).decode()}])  # fmt: skip
    r = requests.post(f"{live_server.url}{GENERAL}", json=body, headers={"X-OCR-SECRET": key})
    assert r.status_code == 200, r.text
    images = r.json()["images"]
    assert [i["convertedImageInfo"]["pageIndex"] for i in images] == [0, 1]
    assert len({i["uid"] for i in images}) == 1 and {i["name"] for i in images} == {"two pages"}
    for number, image in enumerate(images, 1):
        assert cer(f"Page {number} of a document\nread page by page.", text_of(image)) < 0.05
        info = image["convertedImageInfo"]
        for field in image["fields"]:
            box = poly_box(field)
            assert box[2] <= info["width"] and box[3] <= info["height"]


# --- refusals, in CLOVA's shape -----------------------------------------------------


def post(client, body, key=None, path=GENERAL, **kwargs):
    headers = {"X-OCR-SECRET": key} if key else {}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", headers=headers, **kwargs)


def check_error(response, status: int, code: str, path: str = GENERAL) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json;charset=UTF-8"
    body = response.json()
    assert set(body) == {"code", "message", "path", "traceId", "timestamp"}
    assert body["code"] == code and body["path"] == path
    assert body["message"].startswith(CLOVA_MESSAGES[code])
    assert len(body["traceId"]) == 32 and isinstance(body["timestamp"], int)
    return body


def test_the_secret(client, key):
    check_error(post(client, message()), 401, "0002")
    check_error(post(client, message(), key="abcdefgh.not-a-real-key"), 401, "0002")
    png = render_text(["x"]).png()
    r = client.post(GENERAL, data={"message": json.dumps(message()), "file": io.BytesIO(png)})
    check_error(r, 401, "0002")


def test_bad_bodies(client, key, settings):
    png = render_text(["Refused"]).png()

    data = base64.b64encode(png).decode()
    image = {"format": "png", "name": "page", "data": data}
    cases = [
        (b"{", 400, "0011"),
        (b"[]", 400, "0011"),
        (message(version=None), 400, "0011"),
        (message(version="V1"), 400, "0021"),
        (message(images=[]), 400, "0011"),
        (message(images=[image, image]), 400, "0011"),
        (message(images=[{**image, "format": "gif"}]), 400, "0011"),
        (message(images=[{**image, "name": None}]), 400, "0011"),
        (message(images=[{**image, "url": "https://example.org/a.png"}]), 400, "0011"),
        (message(images=[{"format": "png", "name": "page"}]), 400, "0011"),
        (message(images=[image], timestamp="now"), 400, "0011"),
        (message(images=[image], lang="fr"), 400, "0011"),
        (message(images=[image], enableTableDetection=True), 400, "0028"),
        (message(images=[{**image, "data": "%%%"}]), 400, "0011"),
        (message(), 400, "0011"),  # "hello" is not an image
        (
            message(images=[{**image, "data": base64.b64encode(b"Dear sir" * 50).decode()}]),
            400,
            "0011",
        ),  # fmt: skip
        # our own address: refused before any download (the SSRF guard)
        (
            message(images=[{"format": "png", "name": "p", "url": "http://127.0.0.1:9/a.png"}]),
            400,
            "0001",
        ),  # fmt: skip
        (
            message(images=[{"format": "png", "name": "p", "url": "ftp://example.org/a.png"}]),
            400,
            "0001",
        ),  # fmt: skip
    ]
    for body, status, code in cases:
        r = post(client, body, key=key)
        check_error(r, status, code)
    r = client.post(GENERAL, data=b"hi", content_type="text/plain", headers={"X-OCR-SECRET": key})
    check_error(r, 400, "0011")
    settings.OCR_MAX_PIXELS = 10_000  # a decompression bomb's refusal, on a small page
    body = check_error(post(client, message(images=[image]), key=key), 400, "0011")
    assert "pixels" in body["message"]
    settings.OCR_MAX_UPLOAD_BYTES = 1000
    body = check_error(post(client, message(images=[image]), key=key), 400, "0011")
    assert "limit" in body["message"]
    r = client.post(
        GENERAL,
        data={"message": json.dumps(message()), "file": io.BytesIO(png)},
        headers={"X-OCR-SECRET": key},
    )
    check_error(r, 400, "0011")
    from app.models import Job

    assert not Job.objects.exists()  # a refused call stores nothing


def test_multipart_parts(client, key):
    png = render_text(["x"]).png()
    headers = {"X-OCR-SECRET": key}
    r = client.post(GENERAL, data={"file": io.BytesIO(png)}, headers=headers)
    assert "message" in check_error(r, 400, "0011")["message"]
    r = client.post(GENERAL, data={"message": json.dumps(message())}, headers=headers)
    assert "file" in check_error(r, 400, "0011")["message"]
    r = client.post(GENERAL, data={"message": "{", "file": io.BytesIO(png)}, headers=headers)
    check_error(r, 400, "0011")


def test_a_language_that_is_not_installed(client, key):
    from app.engines import registry

    installed = registry.get_engine("tesseract").info().languages
    missing = next((lang for lang, code in [("ja", "jpn"), ("zh-TW", "chi_tra")]
                    if code not in installed), None)  # fmt: skip
    if missing is None:
        pytest.skip("every CLOVA language is installed here")
    png = render_text(["x"]).png()
    r = client.post(
        GENERAL,
        data={"message": json.dumps(message(lang=missing)), "file": io.BytesIO(png)},
        headers={"X-OCR-SECRET": key},
    )
    body = check_error(r, 400, "0011")
    assert "not installed" in body["message"].lower() or "unknown" in body["message"].lower()


def test_routes_methods_and_unknown_paths(client, key):
    for path in ("/compat/clova/general/", "/compat/clova//general"):
        check_error(post(client, message(), path=path), 401, "0002", path=path)
    r = client.get(GENERAL, headers={"X-OCR-SECRET": key})
    check_error(r, 405, "0001")
    assert r["Allow"] == "POST"
    for path in ("/compat/clova/infer", "/compat/clova/", "/compat/clova/general/x"):
        check_error(post(client, message(), key=key, path=path), 404, "0001", path=path)


def test_limits(client, key, settings, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle

    settings.OCR_DAILY_PAGE_QUOTA = 1
    pdf = text_pdf(2)
    r = client.post(
        GENERAL,
        data={"message": json.dumps(message()), "file": io.BytesIO(pdf)},
        headers={"X-OCR-SECRET": key},
    )
    body = check_error(r, 400, "0023")
    assert "quota" in body["message"].lower() and int(r["Retry-After"]) > 0

    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute", "anon": None})
    for _ in range(2):
        check_error(post(client, b"{", key=key), 400, "0011")
    r = post(client, b"{", key=key)
    check_error(r, 400, "0025")
    assert int(r["Retry-After"]) > 0
    cache.clear()


def test_a_job_that_does_not_finish_in_time(client, key, settings):
    """No worker here: the job stays pending, the call answers 0501 naming the job."""
    settings.OCR_MAX_WAIT_SECONDS = 0
    r = client.post(
        GENERAL,
        data={"message": json.dumps(message(lang="ko")), "file": io.BytesIO(render_text().png())},
        headers={"X-OCR-SECRET": key},
    )
    body = check_error(r, 500, "0501")
    job = _jobs().get()
    assert body["traceId"] == job.id.hex and str(job.id) in body["message"]
    assert (job.status, job.source, job.languages) == ("pending", "clova", "kor+eng")
    # CLOVA has no call that reads a result back: the job is its key owner's alone.
    from app import selectors
    from app.errors import OcrError
    from tests.factories import UserFactory

    assert selectors.job_get(user=job.owner, job_id=job.id) == job
    with pytest.raises(OcrError):
        selectors.job_get(user=UserFactory(), job_id=job.id)
