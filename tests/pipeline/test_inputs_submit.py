"""Submitting hostile PDFs and misnamed files through POST /api/ocr/ (inputs at the edge).

Huge page boxes are refused before anything is stored, a lying ``/Count`` is
charged (quota, page limit) for the pages the PDF really has, and the stored
and served file name carries the detected type's extension. The worker tests
check that what is accepted renders within ``OCR_MAX_PIXELS``.
"""

from __future__ import annotations

import pytest

from app.models import Job, Page
from tests.api.helpers import upload
from tests.conftest import start_worker, wait_for_job
from tests.imaging import render_text
from tests.pipeline.hostile_pdf import pages_pdf, square_pdf

URL = "/api/ocr/"


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["code"] == code, body
    return body


# -- page size ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_pdf_page_too_big_even_at_the_lowest_useful_dpi_is_413(auth_client, settings):
    # 1.6e6 pt square: before, accepted and rendered at 1 DPI as 22222x22222 px
    response = auth_client.post(URL, {"image": upload(square_pdf(1_600_000), "x.pdf")})
    error = _error(response, 413, "too_many_pixels")
    assert error["field"] == "image" and error["message"].startswith("Page 1:")
    # page 2 fits 60 MP only at 55 DPI, under OCR_PDF_MIN_DPI (72)
    data = pages_pdf([b"/MediaBox [0 0 612 792]", b"/MediaBox [0 0 10000 10000]"])
    error = _error(auth_client.post(URL, {"image": upload(data, "x.pdf")}), 413, "too_many_pixels")
    assert error["message"].startswith("Page 2:")
    assert Job.objects.count() == 0
    settings.OCR_PDF_MIN_DPI = 50
    assert auth_client.post(URL, {"image": upload(data, "x.pdf")}).status_code == 202


# -- page count -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_lying_page_count_is_charged_for_the_real_pages(auth_client, settings):
    settings.OCR_DAILY_PAGE_QUOTA = 10
    settings.OCR_MAX_PAGES = 5
    data = square_pdf(612, count=400)  # declares 400 pages, has one
    response = auth_client.post(URL, {"image": upload(data, "lie.pdf")})
    assert response.status_code == 202, response.content  # before: too_many_pages
    assert response.json()["page_count"] == 1
    response = auth_client.post(URL, {"image": upload(data, "lie.pdf"), "pages": "1-"})
    assert response.status_code == 202 and response.json()["page_count"] == 1
    _error(
        auth_client.post(URL, {"image": upload(data, "lie.pdf"), "pages": "2"}),
        400,
        "invalid_pages",
    )
    assert sum(Job.objects.values_list("page_count", flat=True)) == 2  # not 800 of a quota of 10


# -- file names -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        ("report.html", "PDF", "report.pdf"),
        ("scan.txt", "PNG", "scan.png"),
        ("noextension", "PDF", "noextension.pdf"),
        ("photo.png", "JPEG", "photo.jpg"),
        ("photo.jpeg", "JPEG", "photo.jpeg"),
        ("page.TIF", "TIFF", "page.TIF"),
    ],
)
def test_stored_and_served_names_take_the_detected_extension(auth_client, name, fmt, expected):
    data = render_text(["Named"]).encoded(fmt)
    response = auth_client.post(URL, {"image": upload(data, name, "text/html")})
    assert response.status_code == 202, response.content
    assert response.json()["filename"] == expected
    file = auth_client.get(f"{URL}{response.json()['id']}/file/")
    assert file.status_code == 200
    assert f'filename="{expected}"' in file["Content-Disposition"]


@pytest.mark.django_db
def test_an_older_job_with_a_misleading_name_is_served_with_the_right_one(auth_client, user):
    from django.core.files.base import ContentFile

    job = Job(owner=user, filename="polyglot.html", content_type="application/pdf", sha256="0")
    job.file.save(str(job.id), ContentFile(square_pdf(612)), save=False)
    job.save()
    file = auth_client.get(f"{URL}{job.id}/file/")
    assert 'filename="polyglot.pdf"' in file["Content-Disposition"]


# -- the worker: what is accepted renders within OCR_MAX_PIXELS -----------------------

POSTER = b"BT /F1 160 Tf 150 1000 Td (POSTER) Tj ET"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_renders_within_the_pixel_limit_and_the_real_pages(
    auth_client, tmp_path, settings
):
    settings.OCR_QUEUE = queue = f"{settings.OCR_QUEUE}-pdfpixels"
    settings.OCR_MAX_PIXELS = 4_000_000
    # a 2000 pt (27.8 in) poster: 300 DPI would be 69 MP; 72 DPI is 2000x2000 = 4 MP
    poster = pages_pdf([b"/MediaBox [0 0 2000 2000]"], text=POSTER)
    lie = pages_pdf(
        [b"/MediaBox [0 0 612 792]"], count=400, text=b"BT /F1 40 Tf 72 500 Td (ONLY PAGE) Tj ET"
    )
    ids = [
        auth_client.post(URL, {"image": upload(data, name)}).json()["id"]
        for data, name in ((poster, "poster.pdf"), (lie, "lie.pdf"))
    ]
    # the same stored page again, accepted by a web process allowed more pixels than
    # the worker: the worker refuses it unrendered instead of allocating 22222^2 px
    # (1 DPI, so that its sides, 22222 px, fit the 32767 px Tesseract reads)
    settings.OCR_MAX_PIXELS = 10**13
    settings.OCR_PDF_MIN_DPI = 1
    ids.append(
        auth_client.post(URL, {"image": upload(square_pdf(1_600_000), "x.pdf")}).json()["id"]
    )
    worker = start_worker(tmp_path / "w.log", queue=queue, env_extra={"OCR_MAX_PIXELS": "4000000"})
    try:
        poster_job, lie_job, huge_job = (wait_for_job(i, timeout=120) for i in ids)
    finally:
        worker.stop()
    assert poster_job.status == "done", poster_job.error_message
    page = Page.objects.get(job=poster_job)
    assert page.dpi == 72 and page.width * page.height <= 4_000_000
    assert "POSTER" in page.text
    assert lie_job.status == "done", lie_job.error_message  # before: invalid_pdf on page 2
    assert lie_job.page_count == 1 and "ONLY PAGE" in lie_job.text
    assert list(lie_job.pages.values_list("number", flat=True)) == [1]
    assert (huge_job.status, huge_job.error_code) == ("failed", "too_many_pixels")


# -- the worker: an embedded image over OCR_MAX_PIXELS is refused, never decoded ------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_refuses_a_page_whose_embedded_image_is_over_the_pixel_limit(
    auth_client, tmp_path, settings
):
    import io

    from PIL import Image

    from tests.pipeline.hostile_pdf import image_pdf, jbig2_image

    settings.OCR_QUEUE = queue = f"{settings.OCR_QUEUE}-pdfimages"
    # A 700-byte Letter page whose JBIG2 image (inside a Form XObject) declares
    # 60000x60000 pixels: accepted at submission (pages are not parsed in the web
    # process), before the fix decoded by the worker into ~500 MB.
    bomb = image_pdf(jbig2_image(60_000, 60_000), via="form")
    scan = render_text(["Scanned page"], size=48).image  # a legitimate scanned PDF
    buf = io.BytesIO()
    scan.save(buf, "PDF", resolution=300)
    assert isinstance(scan, Image.Image) and len(bomb) < 2_000
    ids = []
    for data, name in ((bomb, "bomb.pdf"), (buf.getvalue(), "scan.pdf")):
        response = auth_client.post(URL, {"image": upload(data, name), "pdf_text": "use"})
        assert response.status_code == 202, response.content
        ids.append(response.json()["id"])
    worker = start_worker(tmp_path / "w.log", queue=queue)
    try:
        bomb_job, scan_job = (wait_for_job(i, timeout=120) for i in ids)
    finally:
        worker.stop()
    assert (bomb_job.status, bomb_job.error_code) == ("failed", "too_many_pixels")
    assert "an embedded image declares 60,000x60,000" in bomb_job.error_message
    assert not bomb_job.pages.filter(status="done").exists()
    assert scan_job.status == "done", scan_job.error_message
    assert "Scanned page" in scan_job.text
