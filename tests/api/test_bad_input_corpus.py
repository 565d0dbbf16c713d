"""The bad-input corpus: every hostile request is a 4xx with a stable code and stores nothing.

Each case below is one test id. A refused case asserts its status, its
``error.code`` (and ``field`` where the contract names one), the error shape,
and that nothing was stored: no Job row, no new file under ``MEDIA_ROOT``, no
new user. The hostile files are built in code by :mod:`tests.corpus`; limits
are the real defaults (60 MP, 500 pages, 20 MiB) unless a case says otherwise.

The last test runs once, with the real Celery worker: the hostile inputs that
are *accepted* (a page that only fits at a lower DPI, a PDF lying about its
page count, a PNG corrupt under valid CRCs, hostile file names) go through
it, and the next ordinary job is still done with the right text.
"""

from __future__ import annotations

import base64
import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from app.models import Job
from tests import corpus
from tests.api.helpers import upload
from tests.conftest import wait_for_job
from tests.imaging import cer, render_text

URL = "/api/ocr/"
MiB = 1024 * 1024

Send = Callable[[APIClient], Any]


# ---------------------------------------------------------------------------
# Fixtures and assertions


@pytest.fixture
def auth_client(db) -> APIClient:
    """A signed-in client; its user has no password (hashing one costs ~0.8 s a test)."""
    user = get_user_model().objects.create(username=f"corpus-{uuid.uuid4().hex[:12]}")
    client = APIClient()
    client.force_authenticate(user)
    return client


def media_files() -> set[Path]:
    return {p for p in Path(django_settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def assert_error(response, status: int, code: str | tuple[str, ...], field: str | None = None):
    """The response is ``status`` with the API's error shape and the expected code(s)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    error = body["error"]
    codes = (code,) if isinstance(code, str) else code
    assert error["code"] in codes, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    if field is not None:
        assert error.get("field") == field, error
    return error


def disposition_filename(header: str) -> str | None:
    """The file name a client reads from a ``Content-Disposition`` header (RFC 6266/5987)."""
    assert "\r" not in header and "\n" not in header, header
    header.encode("latin-1")  # a header value must be Latin-1 (Django would MIME-encode it)
    msg = Message()
    msg["Content-Disposition"] = header
    assert msg.get_content_disposition() == "attachment", header
    return msg.get_filename()


@dataclass(frozen=True)
class Stored:
    """What exists before a request: jobs, media files, users."""

    jobs: int
    files: frozenset[Path]
    users: int

    @classmethod
    def now(cls) -> Stored:
        return cls(Job.objects.count(), frozenset(media_files()), get_user_model().objects.count())

    def assert_unchanged(self) -> None:
        after = Stored.now()
        assert after.jobs == self.jobs, "a Job row was stored"
        assert after.files == self.files, f"new media files: {after.files - self.files}"
        assert after.users == self.users, "a user was stored"


# ---------------------------------------------------------------------------
# Requests


def multipart(data: Callable[[], bytes] | bytes, name: str = "page.png", **fields: Any) -> Send:
    def send(client: APIClient):
        content = data() if callable(data) else data
        return client.post(URL, {"image": upload(content, name), **fields})

    return send


def as_base64(data: Callable[[], bytes] | bytes, query: str = "", **fields: Any) -> Send:
    def send(client: APIClient):
        content = data() if callable(data) else data
        body = {"image_base64": base64.b64encode(content).decode(), **fields}
        return client.post(URL + query, body, format="json")

    return send


def as_json(body: Any, path: str = URL) -> Send:
    return lambda client: client.post(path, body, format="json")


def raw(body: bytes, content_type: str, path: str = URL) -> Send:
    return lambda client: client.generic("POST", path, body, content_type=content_type)


def raw_multipart(disposition: str, data: Callable[[], bytes]) -> Send:
    """A multipart body written by hand, so the part's header is sent exactly as given."""

    def send(client: APIClient):
        boundary = "corpus-boundary-7f3a"
        body = (
            (
                f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                "Content-Type: image/png\r\n\r\n"
            ).encode()
            + data()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return client.generic(
            "POST", URL, body, content_type=f"multipart/form-data; boundary={boundary}"
        )

    return send


def small_png() -> bytes:
    return render_text(["Small"], size=20, margin=10).png()


@dataclass(frozen=True)
class Case:
    """One hostile request and the refusal it must get."""

    id: str
    send: Send
    status: int
    code: str | tuple[str, ...]
    field: str | None = None
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    anonymous: bool = False


def _case_params(cases: list[Case]) -> list[Any]:
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return [pytest.param(c, id=c.id) for c in cases]


# ---------------------------------------------------------------------------
# The corpus of refusals

BOMBS = [
    Case(
        "bomb-png-ihdr-100000x100000",
        multipart(corpus.png_header_bomb, "b.png"),
        413,
        "too_many_pixels",
        "image",
    ),
    Case("bomb-png-ihdr-base64", as_base64(corpus.png_header_bomb), 413, "too_many_pixels"),
    Case(
        "bomb-jpeg-sof-65500x65500",
        multipart(corpus.jpeg_sof_bomb, "b.jpg"),
        413,
        "too_many_pixels",
        "image",
    ),
    Case(
        "bomb-gif-65535x65535", multipart(corpus.gif_bomb, "b.gif"), 413, "too_many_pixels", "image"
    ),
    Case(
        "bomb-bmp-100000x100000",
        multipart(corpus.bmp_bomb, "b.bmp"),
        413,
        "too_many_pixels",
        "image",
    ),
    Case(
        "bomb-tiff-100000x100000",
        multipart(corpus.tiff_bomb, "b.tif"),
        413,
        "too_many_pixels",
        "image",
    ),
    Case(
        "bomb-tiff-on-page-3",
        multipart(corpus.tiff_bomb_on_a_later_page, "b.tif"),
        413,
        "too_many_pixels",
        "image",
    ),
    Case(
        "bomb-webp-vp8l-16384x16384",
        multipart(corpus.webp_bomb, "b.webp"),
        413,
        "too_many_pixels",
        "image",
    ),
    Case(
        "bomb-pdf-mediabox-1.6e6pt",
        multipart(lambda: corpus.pdf_huge_mediabox(1.6e6), "b.pdf"),
        413,
        "too_many_pixels",
    ),
    Case(
        "bomb-pdf-mediabox-1e7pt",
        multipart(lambda: corpus.pdf_huge_mediabox(1e7), "b.pdf"),
        413,
        "too_many_pixels",
    ),
    Case(
        "bomb-pdf-1e7pt-on-page-2",
        multipart(lambda: corpus.hand_pdf([(612, 792), (1e7, 1e7)]), "b.pdf"),
        413,
        "too_many_pixels",
    ),
    Case(
        "bomb-pdf-negative-mediabox",
        multipart(lambda: corpus.hand_pdf([(-1e7, -1e7)]), "b.pdf"),
        413,
        "too_many_pixels",
    ),
    Case(  # 400 MP even at the lowest DPI pages are rendered at (72)
        "bomb-pdf-20000pt-too-big-at-72dpi",
        multipart(lambda: corpus.hand_pdf([(20_000, 20_000)]), "b.pdf"),
        413,
        "too_many_pixels",
    ),
]

# A side over 32,767 px, the longest Tesseract reads (app.pipeline.frames.MAX_SIDE),
# within the 60 MP pixel limit: before, accepted and failed by the worker as a
# false ``timeout`` after ~1 s.
LONG = [
    Case(
        "long-png-60000x30",
        multipart(corpus.long_png, "strip.png"),
        413,
        "too_many_pixels",
        "image",
    ),
    Case(
        "long-png-30x60000",
        multipart(lambda: corpus.long_png(30, 60_000), "strip.png"),
        413,
        "too_many_pixels",
        "image",
    ),
    Case(
        "long-png-1200000x4",
        multipart(lambda: corpus.long_png(1_200_000, 4), "strip.png"),
        413,
        "too_many_pixels",
        "image",
    ),
    Case("long-png-base64", as_base64(corpus.long_png), 413, "too_many_pixels"),
    Case(
        "long-tiff-40000x20-on-page-2",
        multipart(corpus.long_tiff_on_page_2, "strip.tif"),
        413,
        "too_many_pixels",
        "image",
    ),
    Case(  # 40000 px long even at the lowest DPI pages are rendered at (72): 0.4 MP
        "long-pdf-40000x10pt-too-long-at-72dpi",
        multipart(lambda: corpus.hand_pdf([(40_000, 10)]), "strip.pdf"),
        413,
        "too_many_pixels",
    ),
]

PAGES = [
    # Real defaults: OCR_MAX_PAGES is 500.
    Case(
        "tiff-501-frames",
        multipart(lambda: corpus.tiff_many_frames(501), "many.tif"),
        400,
        "too_many_pages",
        "image",
    ),
    Case(
        "pdf-501-pages", multipart(lambda: corpus.pdf_pages(501), "many.pdf"), 400, "too_many_pages"
    ),
    Case(
        "pdf-3-pages-over-a-limit-of-2",
        multipart(lambda: corpus.pdf_pages(3), "p.pdf"),
        400,
        "too_many_pages",
        settings={"OCR_MAX_PAGES": 2},
    ),
    *[
        Case(
            f"pages-{label}",
            multipart(lambda: corpus.pdf_pages(2), "p.pdf", pages=spec),
            400,
            "invalid_pages",
            "pages",
        )
        for label, spec in [
            ("beyond-last", "3"),
            ("zero", "0"),
            ("reversed", "2-1"),
            ("empty-part", "1,,2"),
            ("words", "all"),
            ("negative", "-0"),
            ("huge-number", "1-99999999999999999999999"),
        ]
    ],
    Case(
        "pages-beyond-tiff-frames",
        multipart(lambda: corpus.tiff_many_frames(2), "p.tif", pages="3"),
        400,
        "invalid_pages",
        "pages",
    ),
]

BROKEN = [
    Case("empty-file", multipart(b"", "empty.png"), 400, "invalid_image", "image"),
    Case(
        "truncated-png",
        multipart(lambda: corpus.truncated(render_text().png()), "t.png"),
        400,
        "invalid_image",
        "image",
    ),
    Case(
        "truncated-jpeg",
        multipart(lambda: corpus.truncated(render_text().encoded("JPEG", quality=90)), "t.jpg"),
        400,
        "invalid_image",
        "image",
    ),
    Case(
        "truncated-pdf",
        multipart(lambda: corpus.truncated(corpus.text_pdf(["Cut"])), "t.pdf"),
        400,
        "invalid_pdf",
    ),
    Case(
        "random-bytes", multipart(corpus.random_bytes, "r.png"), 415, "unsupported_format", "image"
    ),
    Case("text-file", multipart(corpus.text_file, "notes.png"), 415, "unsupported_format", "image"),
    Case("html-file", multipart(corpus.html_page, "page.html"), 415, "unsupported_format", "image"),
    Case(
        "zip-archive",
        multipart(corpus.zip_archive, "pages.zip"),
        415,
        "unsupported_format",
        "image",
    ),
    Case("encrypted-pdf", multipart(corpus.encrypted_pdf, "locked.pdf"), 400, "encrypted_pdf"),
    Case("empty-base64", as_json({"image_base64": "===="}), 400, "invalid_image"),
]


def _over_default_upload() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\0" * (20 * MiB + 1 - 8)


OVERSIZE = [
    Case(
        "multipart-over-lowered-limit",
        multipart(lambda: corpus.big_png(20_000)),
        413,
        "file_too_large",
        "image",
        settings={"OCR_MAX_UPLOAD_BYTES": 10_000},
    ),
    Case(
        "base64-over-lowered-limit",
        as_base64(lambda: corpus.big_png(20_000)),
        413,
        "file_too_large",
        settings={"OCR_MAX_UPLOAD_BYTES": 10_000},
    ),
    # Real default (20 MiB): one byte over.
    Case(
        "multipart-20MiB-plus-1",
        multipart(_over_default_upload, "big.png"),
        413,
        "file_too_large",
        "image",
    ),
    Case("base64-20MiB-plus-1", as_base64(_over_default_upload), 413, "file_too_large"),
]

OPTIONS = [
    Case("oem-0-legacy-on-lstm-model", multipart(small_png, oem="0"), 400, "invalid_option", "oem"),
    Case("oem-2-legacy-and-lstm", multipart(small_png, oem="2"), 400, "invalid_option", "oem"),
    Case("oem-9-out-of-range", multipart(small_png, oem="9"), 400, "invalid", "oem"),
    Case(
        "language-unknown",
        multipart(small_png, languages="klingon"),
        400,
        "unknown_language",
        "languages",
    ),
    Case(
        "languages-50-unknown-entries",
        multipart(small_png, languages="+".join(f"x{i:02d}" for i in range(50))),
        400,
        "unknown_language",
        "languages",
    ),
    Case("languages-only-plus", multipart(small_png, languages="+++"), 400, "invalid", "languages"),
    Case("psm-14", multipart(small_png, psm="14"), 400, "invalid", "psm"),
    Case("psm-minus-1", multipart(small_png, psm="-1"), 400, "invalid", "psm"),
    Case("psm-2-no-recognition", multipart(small_png, psm="2"), 400, "invalid_option", "psm"),
    Case("dpi-0", multipart(small_png, dpi="0"), 400, "invalid", "dpi"),
    Case("dpi-huge", multipart(small_png, dpi="99999999999999999999"), 400, "invalid", "dpi"),
    Case("wait-minus-1", multipart(small_png, wait="-1"), 400, "invalid", "wait"),
    Case(
        "wait-1e9-query",
        lambda c: c.post(URL + "?wait=1e9", {"image": upload(small_png())}),
        400,
        "invalid",
        "wait",
    ),
    Case("wait-1e9-json", as_base64(small_png, wait=1e9), 400, "invalid", "wait"),
    Case(
        "wait-abc-query",
        lambda c: c.post(URL + "?wait=abc", {"image": upload(small_png())}),
        400,
        "invalid",
        "wait",
    ),
    Case("unknown-option", multipart(small_png, colour="blue"), 400, "invalid_option", "colour"),
    Case(
        "unknown-option-json",
        as_base64(small_png, __proto__={"x": 1}),
        400,
        "invalid_option",
        "__proto__",
    ),
    Case(
        "unknown-engine",
        multipart(small_png, engine="../../bin/sh"),
        400,
        "engine_unavailable",
        "engine",
    ),
    Case("rotate-bad-choice", multipart(small_png, rotate="sideways"), 400, "invalid", "rotate"),
]

URLS = [
    Case(f"url-{label}", as_json({"image_url": url}), 400, "url_forbidden")
    for label, url in [
        ("loopback-127.0.0.1", "http://127.0.0.1:8000/page.png"),
        ("localhost", "http://localhost/page.png"),
        ("ipv6-loopback", "http://[::1]/page.png"),
        ("cloud-metadata", "http://169.254.169.254/latest/meta-data/"),
        ("private-10.x", "https://10.0.0.1/page.png"),
    ]
]

METADATA = [
    Case(
        "metadata-multipart-deep-array",
        multipart(small_png, metadata=corpus.deep_json(1000).decode()),
        400,
        "invalid",
        "metadata",
    ),
    Case(
        "metadata-multipart-deep-object",
        multipart(small_png, metadata=corpus.deep_json(1000, "object").decode()),
        400,
        "invalid",
        "metadata",
    ),
    Case(
        "metadata-multipart-not-json",
        multipart(small_png, metadata="{'a': 1}"),
        400,
        "invalid",
        "metadata",
    ),
    Case(
        "metadata-multipart-nan",
        multipart(small_png, metadata='{"a": NaN}'),
        400,
        "invalid",
        "metadata",
    ),
]

NAMES = [
    *[
        Case(
            f"filename-field-{how}-{label}",
            send(small_png, filename=f"in{char}voice.png"),
            400,
            "invalid",
            "filename",
        )
        for how, send in [("multipart", multipart), ("json", as_base64)]
        for label, char in [("CRLF", "\r\n"), ("LF", "\n"), ("NUL", "\0"), ("tab", "\t")]
    ],
    Case(
        "part-filename-tab",
        raw_multipart('form-data; name="image"; filename="in\tvoice.png"', small_png),
        400,
        "invalid",
        "image",
    ),
    Case(
        "part-filename-star-CRLF",
        raw_multipart("form-data; name=\"image\"; filename*=UTF-8''in%0D%0Avoice.png", small_png),
        400,
        "invalid",
        "image",
    ),
    Case(
        "part-filename-star-NUL",
        raw_multipart("form-data; name=\"image\"; filename*=UTF-8''in%00voice.png", small_png),
        400,
        "invalid",
        "image",
    ),
    Case(  # Django's parser unescapes HTML entities in the part's filename
        "part-filename-html-entity-LF",
        raw_multipart('form-data; name="image"; filename="in&#10;voice.png"', small_png),
        400,
        "invalid",
        "image",
    ),
]

CORPUS = [*BOMBS, *LONG, *PAGES, *BROKEN, *OVERSIZE, *OPTIONS, *URLS, *METADATA, *NAMES]


@pytest.mark.parametrize("case", _case_params(CORPUS))
def test_refused_and_nothing_stored(case: Case, auth_client, settings):
    for name, value in case.settings.items():
        setattr(settings, name, value)
    before = Stored.now()
    response = case.send(APIClient() if case.anonymous else auth_client)
    assert_error(response, case.status, case.code, case.field)
    before.assert_unchanged()


# ---------------------------------------------------------------------------
# JSON bodies, on every JSON endpoint

JSON_ENDPOINTS = [
    "/api/ocr/",
    "/api/register/",
    "/api/token_obtain_pair/",
    "/api/token_refresh/",
    "/api/token_verify/",
    "/api/logout/",
]

BAD_BODIES = {
    "deep-array-2000-levels-4KB": corpus.deep_json(2000),
    "deep-object-1000-levels": corpus.deep_json(1000, "object"),
    "deep-in-a-field": b'{"image_base64": "x", "metadata": ' + corpus.deep_json(1000) + b"}",
    "invalid-utf8": b'{"username": "\xff\xfe\xfa", "password": "x"}',
    "array-of-nulls": b"[null,null]",
    "string": b'"x"',
    "number": b"1",
    "null": b"null",
}


@pytest.mark.parametrize("body_id", list(BAD_BODIES))
@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_bad_json_body(path, body_id, auth_client, db):
    """400 ``invalid_request`` without auth (``/api/ocr/`` needs a user to parse at all)."""
    client = auth_client if path == URL else APIClient()
    before = Stored.now()
    response = client.generic("POST", path, BAD_BODIES[body_id], content_type="application/json")
    assert_error(response, 400, "invalid_request")
    before.assert_unchanged()


@pytest.mark.parametrize("body_id", ["array-of-nulls", "string", "number", "null"])
def test_non_object_json_with_wait(body_id, auth_client):
    before = Stored.now()
    response = auth_client.generic(
        "POST", URL + "?wait=1", BAD_BODIES[body_id], content_type="application/json"
    )
    assert_error(response, 400, ("invalid_request", "invalid"))
    before.assert_unchanged()


def test_deep_json_to_ocr_without_auth_is_refused_without_parsing(db):
    response = APIClient().generic(
        "POST", URL, corpus.deep_json(2000), content_type="application/json"
    )
    assert_error(response, 401, "not_authenticated")


# ---------------------------------------------------------------------------
# Hostile inputs that are accepted: what they must become


def test_pdf_declaring_400_pages_counts_one(auth_client):
    response = auth_client.post(URL, {"image": upload(corpus.pdf_count_lie(400), "lie.pdf")})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["content_type"] == "application/pdf"
    assert body["page_count"] == 1, body
    assert Job.objects.get(pk=body["id"]).page_count == 1


def test_long_refusals_say_which_side_is_too_long(auth_client):
    """The message gives the size and the limit, for an image and for a PDF page."""
    response = auth_client.post(URL, {"image": upload(corpus.long_png(), "strip.png")})
    error = assert_error(response, 413, "too_many_pixels", "image")
    assert error["message"] == (
        "The image is 60,000 x 30 px; the longest side OCR can read is 32,767 px."
    )
    pdf = corpus.hand_pdf([(612, 792), (40_000, 10)])
    response = auth_client.post(URL, {"image": upload(pdf, "strip.pdf")})
    error = assert_error(response, 413, "too_many_pixels")
    assert error["message"] == (
        "Page 2: the page is 40,000 x 10 pt, 40,000 x 10 px even at 72 DPI; "
        "the longest side OCR can read is 32,767 px."
    )


def test_pdf_strip_14400x1pt_is_accepted_and_rendered_with_sides_that_fit(auth_client):
    """200 in x 1 pt: 60000 x 5 px at 300 DPI (0.3 MP). It fits at 163 DPI (32600 x 3 px),
    above OCR_PDF_MIN_DPI (72), so it is accepted and rendered there."""
    from app.pipeline.inputs import load_page

    response = auth_client.post(URL, {"image": upload(corpus.hand_pdf([(14_400, 1)]), "s.pdf")})
    assert response.status_code == 202, response.content
    assert response.json()["page_count"] == 1
    job = Job.objects.get(pk=response.json()["id"])
    with job.file.open("rb") as fh:
        page = load_page(
            fh.read(),
            job.content_type,
            1,
            max_pixels=django_settings.OCR_MAX_PIXELS,
            pdf_dpi=django_settings.OCR_PDF_DPI,
        )
    assert (page.dpi, page.image.size) == (163, (32_600, 3))


@pytest.mark.parametrize(
    ("languages", "stored"),
    [
        ("+".join(["eng", "deu", "fra", "spa", "por"] * 10), "eng+deu+fra+spa+por"),
        ("eng+eng", "eng"),
        ("deu+eng+deu", "deu+eng"),
    ],
)
def test_repeated_languages_load_each_model_once_in_the_order_given(languages, stored, auth_client):
    """A language named twice is loaded once, where it first appears (the order matters
    to Tesseract, so it is kept); 50 entries of 5 installed packs are those 5."""
    response = auth_client.post(
        URL, {"image": upload(small_png(), "page.png"), "languages": languages}
    )
    assert response.status_code == 202, response.content
    assert Job.objects.get(pk=response.json()["id"]).languages == stored


def test_html_pdf_polyglot_is_a_pdf_named_pdf_or_refused(auth_client):
    """Accepted as the PDF it also is (stored and served as ``.pdf``), or refused whole."""
    before = Stored.now()
    response = auth_client.post(URL, {"image": upload(corpus.html_pdf_polyglot(), "page.html")})
    if response.status_code != 202:
        assert_error(response, 415, "unsupported_format")
        before.assert_unchanged()
        return
    body = response.json()
    assert body["content_type"] == "application/pdf"
    assert body["filename"].endswith(".pdf"), body["filename"]
    job = Job.objects.get(pk=body["id"])
    assert not job.file.name.endswith((".html", ".htm")), job.file.name
    served = auth_client.get(f"{URL}{body['id']}/file/")
    assert served.status_code == 200
    assert served["Content-Type"] == "application/pdf"
    assert disposition_filename(served["Content-Disposition"]).endswith(".pdf")


HOSTILE_NAMES = [
    'in"voice.png',
    "in;voice.png",
    'a"; filename="evil.exe.png',
    "Ünïcødé – 請求書 📄.png",
]


def _part_disposition(name: str) -> str:
    """The part header a careful client sends: RFC 7578 quoting, RFC 5987 for non-ASCII."""
    if name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'form-data; name="image"; filename="{quoted}"'
    return f"form-data; name=\"image\"; filename*=UTF-8''{quote(name)}"


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("how", ["filename-field", "part-filename"])
def test_hostile_but_valid_names_are_kept_and_served_safely(how, name, auth_client):
    png = small_png()
    if how == "filename-field":
        response = auth_client.post(
            URL, {"image_base64": base64.b64encode(png).decode(), "filename": name}, format="json"
        )
    else:
        response = raw_multipart(_part_disposition(name), lambda: png)(auth_client)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["filename"] == name
    served = auth_client.get(f"{URL}{body['id']}/file/")
    assert served.status_code == 200
    assert disposition_filename(served["Content-Disposition"]) == name


def test_base64_just_under_the_default_limit_is_accepted(auth_client):
    """20 MiB is the limit for every input: a 19.9 MB document sent as base64 (26.5 MB of JSON)."""
    data = corpus.big_png(int(19.9e6))
    assert 19.5e6 < len(data) <= 20 * MiB
    response = auth_client.post(
        URL, {"image_base64": base64.b64encode(data).decode()}, format="json"
    )
    assert response.status_code == 202, response.content[:500]
    assert Job.objects.get(pk=response.json()["id"]).size == len(data)


# ---------------------------------------------------------------------------
# The worker, once, at the end


def _submit(client: APIClient, data: bytes, name: str, **fields: Any) -> str:
    response = client.post(URL, {"image": upload(data, name), **fields})
    assert response.status_code == 202, response.content
    return response.json()["id"]


@pytest.mark.worker
@pytest.mark.slow
def test_worker_survives_the_accepted_hostile_inputs(celery_worker, transactional_db):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create(username="corpus-worker"))

    # What gets past submission and reaches the worker.
    large = _submit(  # 3000 x 1600 pt: 156 MP at 300 DPI, fits the 60 MP limit at 254 DPI
        client,
        corpus.text_pdf(["Large pages render smaller"], size=(3000, 1600), font_size=28),
        "large.pdf",
    )
    lie = _submit(client, corpus.pdf_count_lie(400, "Counted pages"), "lie.pdf")
    strip = _submit(  # 14400 x 24 pt: 60000 x 100 px at 300 DPI; sides fit at 163 DPI
        client, corpus.text_pdf(["Long strip"], size=(14_400, 24), font_size=14), "strip.pdf"
    )
    corrupt = _submit(client, corpus.png_corrupt_idat(), "corrupt.png")
    name = 'in"voice; Ünïcødé 請求書.png'
    png = render_text(["Named file"]).png()
    response = raw_multipart(_part_disposition(name), lambda: png)(client)
    assert response.status_code == 202, response.content
    assert response.json()["filename"] == name
    named = response.json()["id"]
    # Refused inputs, with the worker running, enqueue nothing.
    before = Stored.now()
    for data, fname in [
        (corpus.png_header_bomb(), "b.png"),
        (corpus.pdf_huge_mediabox(1e7), "b.pdf"),
    ]:
        assert_error(client.post(URL, {"image": upload(data, fname)}), 413, "too_many_pixels")
    before.assert_unchanged()

    job = wait_for_job(large, timeout=120)
    assert job.status == "done", (job.error_code, job.error_message)
    page = job.pages.get()
    assert page.dpi < django_settings.OCR_PDF_DPI, page.dpi
    assert page.width * page.height <= django_settings.OCR_MAX_PIXELS
    assert cer("Large pages render smaller", job.text) < 0.1, job.text

    job = wait_for_job(lie, timeout=60)
    assert job.status == "done", (job.error_code, job.error_message)
    assert job.page_count == 1 and job.pages_done == 1 and job.pages.count() == 1
    assert "Counted pages" in job.text

    job = wait_for_job(strip, timeout=60)
    assert job.status == "done", (job.error_code, job.error_message)
    page = job.pages.get()
    # rendered at 163 DPI (32600 px); upscaling toward 300 DPI stops at 32767 px (1.005x)
    assert (page.dpi, page.width) == (164, 32_763), (page.dpi, page.width, page.height)
    assert cer("Long strip", job.text) < 0.2, job.text

    job = wait_for_job(corrupt, timeout=60)
    assert (job.status, job.error_code) == ("failed", "invalid_image"), job.error_message

    job = wait_for_job(named, timeout=60)
    assert job.status == "done", (job.error_code, job.error_message)
    export = client.get(f"{URL}{named}/export/?format=txt")
    assert export.status_code == 200
    assert disposition_filename(export["Content-Disposition"]) == name[: -len(".png")] + ".txt"

    # The worker is alive and the next ordinary job is done with the right text.
    assert celery_worker.proc.poll() is None, celery_worker.output()[-3000:]
    lines = ["The worker is still here", "after the hostile corpus"]
    normal = _submit(client, render_text(lines).png(), "normal.png")
    job = wait_for_job(normal, timeout=60)
    assert job.status == "done", (job.error_code, job.error_message, celery_worker.output()[-3000:])
    assert cer("\n".join(lines), job.text) < 0.05, job.text
    assert celery_worker.proc.poll() is None
