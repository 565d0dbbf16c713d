"""Documents through the API and a real worker: PDFs, TIFFs, pages, progress, exports, URLs."""

from __future__ import annotations

import io
import time

import pypdfium2 as pdfium
import pytest
from lxml import etree
from PIL import Image

from app.models import Job, Page
from tests.api.helpers import upload
from tests.conftest import start_worker, wait_for_job
from tests.imaging import cer, render_text
from tests.pipeline.helpers import PANGRAMS, render_text_page

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def page_lines(n: int) -> list[str]:
    # One marker line per page (identical prefixes on every line would read as a column).
    return [f"This is page number {n} of the document.", *PANGRAMS[n % 3 : n % 3 + 4]]


def pdf_bytes(images: list[Image.Image], resolution: int = 150) -> bytes:
    buf = io.BytesIO()
    first, *rest = [im.convert("RGB") for im in images]
    first.save(buf, "PDF", save_all=True, append_images=rest, resolution=resolution)
    return buf.getvalue()


def tiff_bytes(images: list[Image.Image]) -> bytes:
    buf = io.BytesIO()
    first, *rest = images
    first.save(buf, "TIFF", save_all=True, append_images=rest, dpi=(150, 150))
    return buf.getvalue()


def pages_of(client, job_id) -> list[dict]:
    return client.get(f"/api/ocr/{job_id}/").json()["result"]["pages"]


def test_pdf_with_rotated_and_skewed_pages(auth_client, celery_worker):
    upright = render_text_page(page_lines(1))
    sideways = render_text_page(page_lines(2)).rotate(90, expand=True)
    skewed = render_text_page(page_lines(3)).rotate(-6, expand=True, fillcolor=255)
    response = auth_client.post(
        "/api/ocr/", {"image": upload(pdf_bytes([upright, sideways, skewed]), "doc.pdf")}
    )
    assert response.status_code == 202, response.content
    assert response.json()["content_type"] == "application/pdf"
    assert response.json()["page_count"] == 3
    job = wait_for_job(response.json()["id"], timeout=120)
    assert job.status == "done", job.error_message
    pages = pages_of(auth_client, job.id)
    assert [p["number"] for p in pages] == [1, 2, 3]
    for n, page in enumerate(pages, 1):
        assert cer("\n".join(page_lines(n)), page["text"]) < 0.03, page["text"]
        assert page["dpi"] == 300
    assert pages[1]["rotation"] in (0, 90)  # 90: turned clockwise back upright
    assert abs(abs(pages[2]["skew"]) - 6) < 0.5
    assert job.text.count("\f") == 2


def test_multipage_tiff_upside_down_and_sideways(auth_client, celery_worker):
    images = [
        render_text_page(page_lines(1)).rotate(180),
        render_text_page(page_lines(2)).rotate(270, expand=True),
    ]
    response = auth_client.post("/api/ocr/?wait=30", {"image": upload(tiff_bytes(images), "s.tif")})
    body = response.json()
    assert body["status"] == "done", body
    pages = body["result"]["pages"]
    assert pages[0]["rotation"] == 180
    # Tesseract reads a sideways page as vertical text lines on its own when its first,
    # upright reading is confident; OSD (rotation 270) runs otherwise. Either way the
    # text must come out right.
    assert pages[1]["rotation"] in (0, 270)
    for n, page in enumerate(pages, 1):
        assert cer("\n".join(page_lines(n)), page["text"]) < 0.03


def test_page_ranges(auth_client, celery_worker):
    data = pdf_bytes([render_text_page(page_lines(n)) for n in (1, 2, 3, 4)])
    response = auth_client.post("/api/ocr/", {"image": upload(data, "d.pdf"), "pages": "1,3-4"})
    assert response.json()["page_count"] == 3
    job = wait_for_job(response.json()["id"], timeout=120)
    assert [p["number"] for p in pages_of(auth_client, job.id)] == [1, 3, 4]
    assert "page number 3" in job.text and "page number 2" not in job.text


@pytest.mark.parametrize("spec", ["5", "0-2", "3-1", "a-b", "1,,2"])
def test_bad_page_ranges(auth_client, spec):
    data = pdf_bytes([render_text_page(["x"]) for _ in range(3)])
    response = auth_client.post("/api/ocr/", {"image": upload(data, "d.pdf"), "pages": spec})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_pages"
    assert Job.objects.count() == 0


def test_too_many_pages_before_any_work(auth_client, settings):
    settings.OCR_MAX_PAGES = 2
    data = pdf_bytes([render_text_page(["x"]) for _ in range(3)])
    response = auth_client.post("/api/ocr/", {"image": upload(data, "d.pdf")})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_pages"
    tiff = tiff_bytes([render_text_page(["x"]) for _ in range(3)])
    response = auth_client.post("/api/ocr/", {"image": upload(tiff, "d.tif")})
    assert response.json()["error"]["code"] == "too_many_pages"
    assert Job.objects.count() == 0


def test_encrypted_and_broken_pdfs(auth_client):
    from pypdf import PdfReader, PdfWriter

    plain = pdf_bytes([render_text_page(["secret"])])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    writer.encrypt("hunter2", algorithm="RC4-128")
    locked = io.BytesIO()
    writer.write(locked)
    response = auth_client.post("/api/ocr/", {"image": upload(locked.getvalue(), "l.pdf")})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "encrypted_pdf"
    broken = plain[: len(plain) // 3]
    response = auth_client.post("/api/ocr/", {"image": upload(broken, "b.pdf")})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_pdf"
    assert Job.objects.count() == 0


def _text_layer_pdf() -> bytes:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setFont("Helvetica", 20)
    c.drawString(72, 700, "Born digital text layer")
    c.drawString(72, 660, "needs no OCR at all")
    c.showPage()
    c.save()
    return buf.getvalue()


def test_pdf_text_use_takes_the_existing_text_layer(auth_client, celery_worker):
    response = auth_client.post(
        "/api/ocr/?wait=30", {"image": upload(_text_layer_pdf(), "t.pdf"), "pdf_text": "use"}
    )
    body = response.json()
    assert body["status"] == "done"
    assert " ".join(body["text"].split()) == "Born digital text layer needs no OCR at all"
    words = [
        w for b in body["result"]["pages"][0]["blocks"] for ln in b["lines"] for w in ln["words"]
    ]
    assert all(w["confidence"] is None for w in words)  # read, not recognised


def test_progress_is_visible_while_the_job_runs(auth_client, celery_worker):
    data = pdf_bytes([render_text_page(page_lines(n)) for n in range(1, 7)])
    job_id = auth_client.post("/api/ocr/", {"image": upload(data, "p.pdf")}).json()["id"]
    seen_partial = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = auth_client.get(f"/api/ocr/{job_id}/").json()
        if body["status"] == "processing" and 0 < body["pages_done"] < body["page_count"]:
            pages = auth_client.get(f"/api/ocr/{job_id}/pages/").json()
            seen_partial = (body["pages_done"], pages)
            break
        if body["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert seen_partial is not None, "never saw a partly done job"
    done, pages = seen_partial
    # Pages run on every worker process at once (page fan-out), so they may finish out of
    # order: each page listed is readable with its own text, at least `done` of them.
    numbers = [p["number"] for p in pages]
    assert len(numbers) >= done and numbers == sorted(set(numbers))
    for page in pages:
        assert f"page number {page['number']}" in page["text"]
    assert wait_for_job(job_id, timeout=120).status == "done"


def test_a_failing_page_fails_the_job_and_keeps_earlier_pages(auth_client, tmp_path, settings):
    settings.OCR_QUEUE = queue = f"{settings.OCR_QUEUE}-pixels"
    small = render_text_page(page_lines(1), size=(900, 600))
    big = render_text_page(page_lines(2), size=(1400, 1400))
    response = auth_client.post("/api/ocr/", {"image": upload(tiff_bytes([small, big]), "t.tif")})
    job_id = response.json()["id"]
    # This worker accepts 1 MP pages: page 2 (1.96 MP) fails, page 1 (0.54 MP) is done.
    worker = start_worker(tmp_path / "w.log", queue=queue, env_extra={"OCR_MAX_PIXELS": "1000000"})
    try:
        job = wait_for_job(job_id, timeout=60)
    finally:
        worker.stop()  # a warm stop: a page still being read is stored first
    # Page 2 may fail while page 1 is still being read on the other process (page fan-out):
    # page 1 is stored after the job has failed, and counted.
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error_code == "too_many_pixels"
    assert job.error_message.startswith("Page 2:")
    page1, page2 = Page.objects.filter(job_id=job_id).order_by("number")
    assert page1.status == "done" and "page number 1" in page1.text
    assert page2.status == "failed" and page2.error_code == "too_many_pixels"
    assert job.pages_done == 1


def test_every_export_of_a_two_page_document(auth_client, celery_worker):
    data = pdf_bytes([render_text_page(page_lines(1)), render_text_page(page_lines(2))])
    body = auth_client.post("/api/ocr/?wait=30", {"image": upload(data, "two.pdf")}).json()
    assert body["status"] == "done"
    base = f"/api/ocr/{body['id']}/export/?format="

    txt = auth_client.get(base + "txt")
    assert txt.content.decode() == body["text"]
    assert txt["Content-Disposition"] == 'attachment; filename="two.txt"'

    hocr = etree.fromstring(auth_client.get(base + "hocr").content)
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    assert len(hocr.findall(".//x:div[@class='ocr_page']", ns)) == 2
    words = sum(
        len(p["blocks"]) and sum(len(ln["words"]) for b in p["blocks"] for ln in b["lines"])
        for p in body["result"]["pages"]
    )
    assert len(hocr.findall(".//x:span[@class='ocrx_word']", ns)) == words

    alto = etree.fromstring(auth_client.get(base + "alto").content)
    assert len(alto.findall(".//{*}Page")) == 2

    tsv = auth_client.get(base + "tsv").content.decode().splitlines()
    assert tsv[0].split("\t")[0] == "level" and sum(r.startswith("5\t") for r in tsv) == words

    assert auth_client.get(base + "json").json()["text"] == body["text"]

    pdf = pdfium.PdfDocument(auth_client.get(base + "pdf").content)
    assert len(pdf) == 2
    extracted = pdf[1].get_textpage().get_text_range()
    assert cer(body["result"]["pages"][1]["text"], extracted) < 0.02


def test_image_url_is_downloaded(auth_client, celery_worker, httpserver, settings):
    settings.OCR_URL_ALLOW_PRIVATE = True
    httpserver.expect_request("/scan.png").respond_with_data(
        render_text(["Fetched from a URL"]).png(), content_type="image/png"
    )
    response = auth_client.post(
        "/api/ocr/?wait=30", {"image_url": httpserver.url_for("/scan.png")}, format="json"
    )
    body = response.json()
    assert body["status"] == "done", body
    assert body["text"] == "Fetched from a URL"
    assert body["filename"] == "scan.png"


def test_private_addresses_are_forbidden_by_default(auth_client, httpserver):
    httpserver.expect_request("/scan.png").respond_with_data(b"x")
    response = auth_client.post(
        "/api/ocr/", {"image_url": httpserver.url_for("/scan.png")}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "url_forbidden"
    assert len(httpserver.log) == 0
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/x.png",
        "http://[::1]/x.png",
        "file:///etc/passwd",
    ):
        r = auth_client.post("/api/ocr/", {"image_url": url}, format="json")
        assert r.status_code == 400, url
        assert r.json()["error"]["code"] in ("url_forbidden", "invalid"), url
    assert Job.objects.count() == 0


def test_unreachable_url(auth_client, settings):
    settings.OCR_URL_ALLOW_PRIVATE = True
    response = auth_client.post(
        "/api/ocr/", {"image_url": "http://127.0.0.1:9/nothing.png"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "url_unreachable"


def test_png_with_corrupt_pixels_under_valid_checksums_fails_its_job(auth_client, celery_worker):
    """Submission checks a PNG's chunks, not its pixels: the worker refuses the rest."""
    import zlib

    data = bytearray(render_text().png())
    pos = 8
    while data[pos + 4 : pos + 8] != b"IDAT":
        pos += 12 + int.from_bytes(data[pos : pos + 4], "big")
    length = int.from_bytes(data[pos : pos + 4], "big")
    body = pos + 8
    data[body + 2 : body + length] = bytes(length - 2)  # zeros: not a valid deflate stream
    crc = zlib.crc32(bytes(data[pos + 4 : body + length]))
    data[body + length : body + length + 4] = crc.to_bytes(4, "big")
    response = auth_client.post("/api/ocr/", {"image": upload(bytes(data))})
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["id"], timeout=60)
    assert (job.status, job.error_code) == ("failed", "invalid_image")
