"""Request limits of the API: body sizes, JSON nesting and shape, and unsafe file names.

Issue 11 (hardening), points 2, 4, 5, 6 and 7: each of these answered 500 (or
refused a document the README promises to take) before its fix.
"""

from __future__ import annotations

import base64
import io
import json
import random
from email.message import Message
from pathlib import Path

import pytest
from PIL import Image

from app import services
from app.api.parsers import MAX_BRACKETS, MAX_DEPTH, ocr_body_limit
from app.models import Job, JobStatus
from tests.api.helpers import upload
from tests.conftest import wait_for_job
from tests.imaging import render_text

URL = "/api/ocr/"

#: (url, needs an authenticated client) of every JSON endpoint that takes an object.
JSON_ENDPOINTS = [
    ("/api/ocr/?wait=1", True),
    ("/api/register/", False),
    ("/api/token_obtain_pair/", False),
    ("/api/token_refresh/", False),
    ("/api/token_verify/", False),
    ("/api/logout/", False),
]


def noise_png(side: int, *, text: bool = False, seed: int = 7) -> bytes:
    """A real RGB PNG of ``side`` x ``side`` random pixels (~3 bytes a pixel: incompressible).

    ``text``: draw a rendered line over the top-left corner, so OCR finds something.
    """
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    if text:
        line = render_text(["Large upload"]).image.convert("RGB")
        image.paste(line, (0, 0))
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def media_files(settings) -> set[Path]:
    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    if field:
        assert body["error"]["field"] == field, body
    return body


# -- point 2: large multipart uploads with ?wait -------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_upload_over_django_memory_limit_with_wait(auth_client, settings, celery_worker):
    """README step 6: a 3 MB scan with ?wait (spooled to a temporary file) is not a 500."""
    data = noise_png(1000, text=True)
    assert len(data) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    response = auth_client.post(URL + "?wait=1", {"image": upload(data, "scan.png")})
    assert response.status_code in (200, 202), response.content[:500]
    job = Job.objects.get(pk=response.json()["id"])
    assert job.size == len(data) and job.file.read() == data
    assert wait_for_job(job.id, timeout=120).status == "done"


@pytest.mark.django_db
def test_upload_near_the_upload_limit_with_wait_zero(auth_client, settings):
    data = noise_png(2400)
    assert 15 * 2**20 < len(data) <= settings.OCR_MAX_UPLOAD_BYTES
    response = auth_client.post(URL + "?wait=0", {"image": upload(data, "big.png")})
    assert response.status_code == 202, response.content[:500]
    assert Job.objects.get(pk=response.json()["id"]).size == len(data)


@pytest.mark.django_db
def test_wait_in_the_query_is_still_checked(auth_client, settings):
    before = media_files(settings)
    data = noise_png(1000)
    response = auth_client.post(URL + "?wait=abc", {"image": upload(data)})
    assert_error(response, 400, "invalid", "wait")
    assert Job.objects.count() == 0 and media_files(settings) == before


# -- point 4: deeply nested JSON ----------------------------------------------------------


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "auth"), JSON_ENDPOINTS)
@pytest.mark.parametrize("where", ["top", "field"])
def test_deeply_nested_json_is_a_bad_request(api_client, auth_client, url, auth, where):
    body = _nested(1000) if where == "top" else '{"metadata": ' + _nested(1000) + "}"
    client = auth_client if auth else api_client
    response = client.post(url, data=body, content_type="application/json")
    assert_error(response, 400, "invalid_request")
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_nesting_limit_is_exact(auth_client, settings):
    png = render_text(["Nested"]).png()
    image = base64.b64encode(png).decode()

    def metadata(levels: int) -> str:  # the body object is level 1
        return '{"k": ' * levels + "1" + "}" * levels

    body = f'{{"image_base64": "{image}", "metadata": {metadata(MAX_DEPTH - 1)}}}'
    response = auth_client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 202, response.content
    body = f'{{"image_base64": "{image}", "metadata": {metadata(MAX_DEPTH)}}}'
    response = auth_client.post(URL, data=body, content_type="application/json")
    assert_error(response, 400, "invalid_request")
    assert Job.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("brackets", ["[],", "{},", "]"])
def test_a_body_of_many_arrays_is_refused_before_they_are_built(auth_client, brackets):
    png = base64.b64encode(render_text(["Many"]).png()).decode()
    many = brackets * (MAX_BRACKETS + 1)
    body = f'{{"image_base64": "{png}", "metadata": {{"a": [{many}[]]}}}}'
    response = auth_client.post(URL, data=body, content_type="application/json")
    assert_error(response, 400, "invalid_request")
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_brackets_inside_strings_do_not_count(auth_client):
    png = render_text(["Brackets"]).png()
    metadata = {"note": "[[[{{{" * 200 + '"\\' + "]]]}}}" * 50}
    response = auth_client.post(
        URL,
        {"image_base64": base64.b64encode(png).decode(), "metadata": metadata},
        format="json",
    )
    assert response.status_code == 202, response.content
    assert response.json()["metadata"] == metadata


@pytest.mark.django_db
@pytest.mark.parametrize("levels", [1000, MAX_DEPTH + 1])
def test_deep_json_in_a_multipart_field_is_refused(auth_client, settings, levels):
    before = media_files(settings)
    png = render_text(["Form"]).png()
    metadata = '{"a": ' + _nested(levels) + "}"
    response = auth_client.post(URL + "?wait=0", {"image": upload(png), "metadata": metadata})
    assert_error(response, 400, "invalid", "metadata")
    assert Job.objects.count() == 0 and media_files(settings) == before


@pytest.mark.django_db
def test_deep_json_in_a_json_string_field_is_refused(auth_client):
    png = render_text(["String"]).png()
    response = auth_client.post(
        URL,
        {"image_base64": base64.b64encode(png).decode(), "metadata": _nested(1000)},
        format="json",
    )
    assert_error(response, 400, "invalid", "metadata")
    assert Job.objects.count() == 0


# -- point 5: JSON bodies that are not objects --------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "auth"), JSON_ENDPOINTS)
@pytest.mark.parametrize("body", ["[null,null]", '"x"', "1", "null", "true", "[]"])
def test_json_body_must_be_an_object(api_client, auth_client, url, auth, body):
    client = auth_client if auth else api_client
    response = client.post(url, data=body, content_type="application/json")
    assert_error(response, 400, "invalid_request")
    assert "object" in response.json()["error"]["message"]
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_json_body_in_another_charset_or_broken_utf8(auth_client):
    response = auth_client.post(URL, data=b'{"a": "\xff"}', content_type="application/json")
    assert_error(response, 400, "invalid_request")


# -- point 6: file names ------------------------------------------------------------------


def _disposition_filename(header: str) -> str:
    """The file name a mail/HTTP client reads from ``header`` (RFC 2231/5987 decoding)."""
    msg = Message()
    msg["content-disposition"] = header
    return msg.get_filename()


def _done_job(auth_client, filename: str) -> Job:
    """A job run to the end in this process (real Tesseract), named ``filename``."""
    png = render_text(["Named"]).png()
    response = auth_client.post(
        URL,
        {"image_base64": base64.b64encode(png).decode(), "filename": filename},
        format="json",
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    services.job_start(job_id=job_id)
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.DONE, (job.error_code, job.error_message)
    return job


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filename", "header"),
    [
        ("plain name.png", 'attachment; filename="plain name.txt"'),
        ('a"b; filename=evil.png', 'attachment; filename="a\\"b; filename=evil.txt"'),
        ("résumé.png", "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt"),
        ("Ủy ban.png", "attachment; filename*=utf-8''%E1%BB%A6y%20ban.txt"),
        ("文件.png", "attachment; filename*=utf-8''%E6%96%87%E4%BB%B6.txt"),
    ],
)
def test_export_carries_any_name_in_a_correct_header(auth_client, filename, header):
    job = _done_job(auth_client, filename)
    assert job.filename == filename
    response = auth_client.get(f"/api/ocr/{job.id}/export/?format=txt")
    assert response.status_code == 200
    assert response["Content-Disposition"] == header
    assert _disposition_filename(header) == filename.rsplit(".", 1)[0] + ".txt"
    original = auth_client.get(f"/api/ocr/{job.id}/file/")
    assert original.status_code == 200
    assert _disposition_filename(original["Content-Disposition"]) == filename


@pytest.mark.django_db
def test_a_name_stored_before_the_check_still_exports(auth_client):
    job = _done_job(auth_client, "fine.png")
    Job.objects.filter(pk=job.pk).update(filename="bad\r\nSet-Cookie: x=1.png")
    for fmt in ("txt", "hocr", "json"):
        response = auth_client.get(f"/api/ocr/{job.id}/export/?format={fmt}")
        assert response.status_code == 200, fmt
        header = response["Content-Disposition"]
        assert "\r" not in header and "\n" not in header
        assert header.startswith("attachment; filename*=utf-8''bad%0D%0ASet-Cookie")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filename",
    [
        "a\r\nb.png",
        "a\nb.png",
        "a\x00b.png",
        "tab\there.png",
        "del\x7f.png",
        "c1\x85.png",
        "line\u2028sep.png",
        "invoice\u202egnp.exe",
        "dir/name.png",
        "dir\\name.png",
        "..",
    ],
)
@pytest.mark.parametrize("form", ["json", "multipart"])
def test_unsafe_filename_is_refused_and_nothing_stored(auth_client, settings, filename, form):
    before = media_files(settings)
    png = render_text(["Refused"]).png()
    if form == "json":
        data = {"image_base64": base64.b64encode(png).decode(), "filename": filename}
        response = auth_client.post(URL, data, format="json")
    else:
        response = auth_client.post(URL, {"image": upload(png), "filename": filename})
    assert_error(response, 400, "invalid", "filename")
    assert Job.objects.count() == 0 and media_files(settings) == before


def _raw_multipart(disposition_filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "XbOuNdArYx"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="image"; {disposition_filename}\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "part_filename",
    [
        "filename*=UTF-8''evil%0D%0ASet-Cookie%3A%20x.png",
        'filename="evil&#13;&#10;x.png"',
        'filename="tab\there.png"',
        "filename*=UTF-8''c1%C2%85x.png",
        "filename*=UTF-8''nul%00x.png",
    ],
)
def test_control_characters_in_the_uploads_own_name_are_refused(
    auth_client, settings, part_filename
):
    """Django's parser would drop them silently; the name is refused instead, like ``filename``."""
    before = media_files(settings)
    body, content_type = _raw_multipart(part_filename, render_text(["Part"]).png())
    response = auth_client.post(URL + "?wait=0", data=body, content_type=content_type)
    assert_error(response, 400, "invalid", "image")
    assert Job.objects.count() == 0 and media_files(settings) == before


@pytest.mark.django_db
def test_quotes_in_the_uploads_own_name_export_safely(auth_client):
    body, content_type = _raw_multipart(
        'filename="q\\"uote; x=1.png"', render_text(["Quoted"]).png()
    )
    response = auth_client.post(URL, data=body, content_type=content_type)
    assert response.status_code == 202, response.content
    job = Job.objects.get()
    services.job_start(job_id=job.id)
    response = auth_client.get(f"/api/ocr/{job.id}/export/?format=txt")
    assert response.status_code == 200
    stem = job.filename.rsplit(".", 1)[0]
    assert _disposition_filename(response["Content-Disposition"]) == stem + ".txt"


# -- point 7: large base64 bodies ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("side", "data_uri"), [(1900, False), (1300, True)])
def test_large_base64_body_is_accepted(auth_client, settings, side, data_uri):
    png = noise_png(side)
    encoded = base64.b64encode(png).decode()
    if data_uri:
        encoded = "data:image/png;base64," + encoded
    body = json.dumps({"image_base64": encoded, "filename": "noise.png"})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert 5 * 10**6 < len(body) < 15 * 10**6
    response = auth_client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 202, response.content[:500]
    job = Job.objects.get(pk=response.json()["id"])
    assert job.size == len(png) and job.file.read() == png


@pytest.mark.django_db
def test_base64_of_exactly_the_upload_limit_is_accepted(auth_client, settings):
    png = noise_png(1000)
    settings.OCR_MAX_UPLOAD_BYTES = len(png)
    data = {
        "image_base64": "data:image/png;base64," + base64.b64encode(png).decode(),
        "metadata": {"pad": "x" * 16_000},
    }
    response = auth_client.post(URL, data, format="json")
    assert response.status_code == 202, response.content[:500]


@pytest.mark.django_db
def test_base64_over_the_upload_limit_is_too_large(auth_client, settings):
    before = media_files(settings)
    png = noise_png(1000)
    settings.OCR_MAX_UPLOAD_BYTES = len(png) - 1
    encoded = base64.b64encode(png).decode()
    for value in (encoded, "data:image/png;base64," + encoded):
        response = auth_client.post(URL, {"image_base64": value}, format="json")
        assert_error(response, 413, "file_too_large")
    body = json.dumps({"image_base64": "A" * ocr_body_limit()})
    response = auth_client.post(URL, data=body, content_type="application/json")
    assert_error(response, 413, "file_too_large")
    assert Job.objects.count() == 0 and media_files(settings) == before


@pytest.mark.django_db
def test_other_json_endpoints_keep_djangos_small_limit(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"username": "u" * 20_000, "password": "x"})
    response = api_client.post("/api/register/", data=body, content_type="application/json")
    assert_error(response, 413, "file_too_large")


# -- over real HTTP (the request stream of a WSGI server, not the test client's) ----------


@pytest.mark.django_db(transaction=True)
def test_limits_over_http(live_server, user, settings):
    import requests

    from tests.factories import PASSWORD

    base = live_server.url
    http = requests.Session()
    r = http.post(
        f"{base}/api/token_obtain_pair/",
        data=_nested(1000),
        timeout=10,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request", r.text
    tokens = http.post(
        f"{base}/api/token_obtain_pair/",
        json={"username": user.username, "password": PASSWORD},
        timeout=10,
    ).json()
    http.headers["Authorization"] = f"Bearer {tokens['access']}"

    png = noise_png(1900)
    r = http.post(
        f"{base}/api/ocr/", json={"image_base64": base64.b64encode(png).decode()}, timeout=60
    )
    assert r.status_code == 202, r.text[:500]
    assert Job.objects.get(pk=r.json()["id"]).size == len(png)

    r = http.post(
        f"{base}/api/ocr/?wait=1",
        data="[null,null]",
        timeout=10,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request", r.text

    settings.OCR_MAX_UPLOAD_BYTES = 100_000
    r = http.post(f"{base}/api/ocr/", json={"image_base64": "A" * 200_000}, timeout=10)
    assert r.status_code == 413 and r.json()["error"]["code"] == "file_too_large", r.text
    assert Job.objects.count() == 1
