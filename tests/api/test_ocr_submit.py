"""POST /api/ocr/: what is accepted, and every bad input refused with a stable code."""

import base64
import io

import pytest
from PIL import Image

from app.models import Job
from tests.api.helpers import png_bomb, upload
from tests.imaging import render_text

URL = "/api/ocr/"


@pytest.fixture
def png() -> bytes:
    return render_text(["Submit me"]).png()


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    if field:
        assert body["error"]["field"] == field
    return body


def _media_files(settings) -> set:
    from pathlib import Path

    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


_BEFORE: dict[str, set] = {}


@pytest.fixture(autouse=True)
def _media_snapshot(settings):
    """Remember which media files existed before the test."""
    _BEFORE["files"] = _media_files(settings)


def assert_nothing_stored(settings):
    assert Job.objects.count() == 0
    assert _media_files(settings) == _BEFORE["files"]


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("TIFF", "image/tiff"),
        ("BMP", "image/bmp"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
    ],
)
def test_each_image_format_creates_a_pending_job(auth_client, fmt, mime):
    data = render_text(["Format check"]).encoded(fmt)
    response = auth_client.post(URL, {"image": upload(data, f"x.{fmt.lower()}")})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["content_type"] == mime
    assert body["url"].endswith(f"/api/ocr/{body['id']}/")
    assert response["Location"] == body["url"]
    job = Job.objects.get(pk=body["id"])
    assert job.size == len(data) and job.file.read() == data


def test_the_type_comes_from_the_content_not_the_name(auth_client, png):
    response = auth_client.post(URL, {"image": upload(png, "photo.jpg", "image/jpeg")})
    assert response.status_code == 202
    assert response.json()["content_type"] == "image/png"
    # the stored name takes the detected type's extension (inputs.fitting_filename)
    assert response.json()["filename"] == "photo.png"


def test_json_base64_bare_and_data_uri(auth_client, png):
    bare = base64.b64encode(png).decode()
    for value in (bare, f"data:image/png;base64,{bare}"):
        response = auth_client.post(URL, {"image_base64": value}, format="json")
        assert response.status_code == 202, response.content


def test_options_and_metadata_are_stored_and_returned_as_given(auth_client, png):
    metadata = {"invoice": 42, "tags": ["a", "b"], "nested": {"ok": True}}
    response = auth_client.post(
        URL,
        {
            "image_base64": base64.b64encode(png).decode(),
            "languages": "eng+deu",
            "psm": 6,
            "metadata": metadata,
        },
        format="json",
    )
    body = response.json()
    assert body["metadata"] == metadata
    assert body["languages"] == ["eng", "deu"]
    assert body["options"] == {"psm": 6}


def test_metadata_in_multipart_is_a_json_string(auth_client, png):
    response = auth_client.post(URL, {"image": upload(png), "metadata": '{"ref": "A-1"}'})
    assert response.json()["metadata"] == {"ref": "A-1"}


def test_metadata_must_be_an_object(auth_client, png, settings):
    response = auth_client.post(URL, {"image": upload(png), "metadata": "[1, 2]"})
    assert_error(response, 400, "invalid", "metadata")
    assert_nothing_stored(settings)


def test_non_image_is_unsupported(auth_client, settings):
    response = auth_client.post(URL, {"image": upload(b"hello, I am text" * 50, "a.png")})
    assert_error(response, 415, "unsupported_format", "image")
    assert_nothing_stored(settings)


def test_empty_file_is_invalid(auth_client, settings):
    response = auth_client.post(URL, {"image": upload(b"", "empty.png")})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_image"
    assert response.json()["error"]["field"] == "image"
    assert_nothing_stored(settings)


def test_truncated_image_is_invalid(auth_client, settings):
    data = render_text().png()
    response = auth_client.post(URL, {"image": upload(data[: len(data) // 2])})
    assert_error(response, 400, "invalid_image", "image")
    assert_nothing_stored(settings)


def test_truncated_jpeg_is_invalid(auth_client, settings):
    data = render_text().encoded("JPEG", quality=90)
    response = auth_client.post(URL, {"image": upload(data[: len(data) // 3], "a.jpg")})
    assert_error(response, 400, "invalid_image", "image")


def _png_chunks(data: bytes) -> list[tuple[int, bytes]]:
    """(offset, type) of every chunk of a PNG file."""
    out, pos = [], 8
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        out.append((pos, data[pos + 4 : pos + 8]))
        pos += 12 + length
    return out


def test_png_missing_only_its_end_is_invalid(auth_client, settings):
    data = render_text().png()
    iend = [pos for pos, kind in _png_chunks(data) if kind == b"IEND"][0]
    response = auth_client.post(URL, {"image": upload(data[:iend])})
    assert_error(response, 400, "invalid_image", "image")
    assert_nothing_stored(settings)


def test_png_with_a_damaged_byte_is_invalid(auth_client, settings):
    data = bytearray(render_text().png())
    idat = [pos for pos, kind in _png_chunks(bytes(data)) if kind == b"IDAT"][0]
    data[idat + 8 + 40] ^= 0xFF  # inside the compressed pixels: the chunk's CRC no longer matches
    response = auth_client.post(URL, {"image": upload(bytes(data))})
    assert_error(response, 400, "invalid_image", "image")
    assert_nothing_stored(settings)


def test_truncated_progressive_jpeg_is_invalid(auth_client, settings):
    data = render_text().encoded("JPEG", quality=90, progressive=True)
    response = auth_client.post(URL, {"image": upload(data[:-200], "a.jpg")})
    assert_error(response, 400, "invalid_image", "image")
    assert_nothing_stored(settings)


def test_decompression_bomb_is_refused_before_decoding(auth_client, settings):
    bomb = png_bomb(30000, 30000)
    assert len(bomb) < 200_000
    response = auth_client.post(URL, {"image": upload(bomb, "bomb.png")})
    body = assert_error(response, 413, "too_many_pixels", "image")
    assert "30000x30000" in body["error"]["message"]
    assert_nothing_stored(settings)


@pytest.mark.parametrize("size", [(32_768, 20), (20, 32_768), (60_000, 30)])
def test_a_side_longer_than_tesseract_reads_is_refused(auth_client, settings, size):
    """Within the pixel limit, but over the 32,767 px a side Tesseract reads
    (``FindLines``: "Image too large"); before, accepted and failed as ``timeout``."""
    buf = io.BytesIO()
    Image.new("L", size, 255).save(buf, "PNG")
    response = auth_client.post(URL, {"image": upload(buf.getvalue(), "strip.png")})
    body = assert_error(response, 413, "too_many_pixels", "image")
    assert body["error"]["message"] == (
        f"The image is {size[0]:,} x {size[1]:,} px; the longest side OCR can read is 32,767 px."
    )
    assert_nothing_stored(settings)


def test_the_longest_side_tesseract_reads_is_accepted(auth_client):
    buf = io.BytesIO()
    Image.new("L", (32_767, 20), 255).save(buf, "PNG")
    response = auth_client.post(URL, {"image": upload(buf.getvalue(), "strip.png")})
    assert response.status_code == 202, response.content


def test_image_just_under_pillows_own_limit_is_refused(auth_client, settings):
    side = int((Image.MAX_IMAGE_PIXELS or 89_478_485) ** 0.5) if Image.MAX_IMAGE_PIXELS else 9459
    response = auth_client.post(URL, {"image": upload(png_bomb(side, side - 1), "big.png")})
    assert_error(response, 413, "too_many_pixels", "image")


def test_pixel_limit_is_a_setting(auth_client, settings, png):
    settings.OCR_MAX_PIXELS = 1000
    response = auth_client.post(URL, {"image": upload(png)})
    assert_error(response, 413, "too_many_pixels")


def test_file_over_the_upload_limit(auth_client, settings, png):
    settings.OCR_MAX_UPLOAD_BYTES = 1000
    response = auth_client.post(URL, {"image": upload(png + b"\0" * 2000)})
    assert_error(response, 413, "file_too_large", "image")
    assert_nothing_stored(settings)


def test_json_body_over_the_upload_limit(auth_client, settings):
    settings.OCR_MAX_UPLOAD_BYTES = 1000
    response = auth_client.post(
        URL, {"image_base64": base64.b64encode(b"\0" * 5000).decode()}, format="json"
    )
    assert_error(response, 413, "file_too_large")


@pytest.mark.parametrize("value", ["not base64 at all!!!", "data:image/png,rawbytes", "====", "QQ"])
def test_bad_base64_is_invalid(auth_client, settings, value):
    response = auth_client.post(URL, {"image_base64": value}, format="json")
    assert response.status_code in (400, 415)
    assert response.json()["error"]["code"] in ("invalid_image", "unsupported_format")
    assert_nothing_stored(settings)


def test_unknown_option_is_refused(auth_client, png, settings):
    response = auth_client.post(URL, {"image": upload(png), "colour": "blue"})
    assert_error(response, 400, "invalid_option", "colour")
    assert_nothing_stored(settings)


def test_unknown_language_is_refused(auth_client, png, settings):
    response = auth_client.post(URL, {"image": upload(png), "languages": "eng+klingon"})
    body = assert_error(response, 400, "unknown_language", "languages")
    assert "klingon" in body["error"]["message"]
    assert_nothing_stored(settings)


def test_unknown_engine_is_unavailable(auth_client, png):
    response = auth_client.post(URL, {"image": upload(png), "engine": "nope"})
    assert_error(response, 400, "engine_unavailable", "engine")


@pytest.mark.parametrize(
    ("psm", "code"), [(2, "invalid_option"), (99, "invalid"), ("x", "invalid")]
)
def test_bad_psm(auth_client, png, psm, code):
    response = auth_client.post(URL, {"image": upload(png), "psm": psm})
    assert_error(response, 400, code, "psm")


def test_wait_out_of_range(auth_client, png):
    response = auth_client.post(URL + "?wait=31", {"image": upload(png)})
    assert_error(response, 400, "invalid", "wait")


def test_no_document_at_all(auth_client):
    assert_error(auth_client.post(URL, {}, format="json"), 400, "invalid", "image")


def test_two_sources_at_once(auth_client, png):
    response = auth_client.post(
        URL, {"image": upload(png), "image_base64": base64.b64encode(png).decode()}
    )
    assert response.status_code == 400


def test_malformed_json_body(auth_client):
    response = auth_client.post(URL, data="{not json", content_type="application/json")
    assert_error(response, 400, "invalid_request")


def test_anonymous_ocr_is_off_by_default(api_client, png, db):
    response = api_client.post(URL, {"image": upload(png)})
    assert_error(response, 401, "not_authenticated")


def test_anonymous_ocr_can_be_turned_on(api_client, png, settings, db):
    settings.OCR_ALLOW_ANONYMOUS = True
    response = api_client.post(URL, {"image": upload(png)})
    assert response.status_code == 202
    job_url = response.json()["url"]
    assert api_client.get(job_url).status_code == 200
    assert api_client.get("/api/history/").status_code == 401
