"""PDF input: open/count, rendering one page at a time, text layer extraction."""

from __future__ import annotations

import ctypes
import gc
import os

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfWriter

from app.errors import OcrError
from app.pipeline.pdf import (
    effective_dpi,
    inspect_pdf,
    open_pdf,
    page_sizes,
    page_text_layer,
    pdf_page_count,
    render_pages,
)
from tests.pipeline.hostile_pdf import pages_pdf, square_pdf


def _marked_page(i: int, size=(300, 400), fill="black") -> Image.Image:
    """A white page with a square whose x position encodes the page index."""
    img = Image.new("RGB", size, "white")
    ImageDraw.Draw(img).rectangle([20 * i, 0, 20 * i + 19, 19], fill=fill)
    return img


def _first_dark_x(img: Image.Image) -> int:
    arr = np.asarray(img.convert("L"))
    return int(np.where((arr < 128).any(axis=0))[0][0])


def _image_pdf(path, pages: int, size=(300, 400), resolution=150, fill="black") -> None:
    imgs = [_marked_page(i, size, fill) for i in range(pages)]
    imgs[0].save(path, save_all=True, append_images=imgs[1:], resolution=resolution)


def _text_pdf(path, lines_per_page: list[list[tuple[str, float, float]]], rotate: int = 0) -> None:
    """A US Letter PDF with real (visible) Helvetica text at 24 pt: (text, x, y) in points."""
    pdf = pdfium.PdfDocument.new()
    for lines in lines_per_page:
        page = pdf.new_page(612, 792)
        for text, x, y in lines:
            obj = pdfium_c.FPDFPageObj_NewTextObj(pdf, b"Helvetica", ctypes.c_float(24))
            buf = ctypes.create_string_buffer((text + "\x00").encode("utf-16-le"))
            assert pdfium_c.FPDFText_SetText(
                obj, ctypes.cast(buf, ctypes.POINTER(pdfium_c.FPDF_WCHAR))
            )
            pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, y)
            pdfium_c.FPDFPage_InsertObject(page, obj)
        assert pdfium_c.FPDFPage_GenerateContent(page)
        if rotate:
            page.set_rotation(rotate)
        page.close()
    pdf.save(str(path))
    pdf.close()


# -- open / count -----------------------------------------------------------------


def test_page_count_and_open(tmp_path):
    path = tmp_path / "three.pdf"
    _image_pdf(path, 3)
    assert pdf_page_count(path) == 3
    with open_pdf(path) as pdf:
        assert len(pdf) == 3


def test_inspect_pdf_bytes_and_file_objects(tmp_path):
    path = tmp_path / "doc.pdf"
    _image_pdf(path, 4, size=(300, 400), resolution=150)  # 2 x 2.667 in
    data = path.read_bytes()
    count, width, height = inspect_pdf(data, dpi=300)
    assert count == 4
    assert abs(width - 600) <= 1 and abs(height - 800) <= 1
    assert inspect_pdf(data, dpi=300, max_pixels=120_000)[1] <= 300  # lowered DPI
    with open(path, "rb") as f:
        assert pdf_page_count(f) == 4
        f.seek(0)
        [(n, img, _)] = list(render_pages(f, [3], dpi=150))
        assert n == 3 and abs(_first_dark_x(img) - 40) <= 1
    with pytest.raises(OcrError) as exc:
        inspect_pdf(b"not a pdf at all")
    assert exc.value.code == "invalid_pdf"


def test_encrypted_pdf(tmp_path):
    plain = tmp_path / "plain.pdf"
    _image_pdf(plain, 2)
    locked = tmp_path / "locked.pdf"
    writer = PdfWriter(clone_from=str(plain))
    writer.encrypt("secret", algorithm="RC4-128")
    writer.write(str(locked))
    with pytest.raises(OcrError) as exc:
        pdf_page_count(locked)
    assert exc.value.code == "encrypted_pdf"
    with pytest.raises(OcrError) as exc:
        list(render_pages(locked, dpi=72))
    assert exc.value.code == "encrypted_pdf"


def test_owner_password_only_opens(tmp_path):
    """Permissions-only encryption (empty user password) is readable: not an error."""
    plain = tmp_path / "plain.pdf"
    _image_pdf(plain, 2)
    restricted = tmp_path / "restricted.pdf"
    writer = PdfWriter(clone_from=str(plain))
    writer.encrypt("", owner_password="owner", algorithm="RC4-128")
    writer.write(str(restricted))
    assert pdf_page_count(restricted) == 2


@pytest.mark.parametrize("cut", [0.0, 0.3, 0.7, 0.95])
def test_truncated_pdf_is_invalid(tmp_path, cut):
    good = tmp_path / "good.pdf"
    _image_pdf(good, 3)
    data = good.read_bytes()
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(OcrError) as exc:
        pdf_page_count(bad)
    assert exc.value.code == "invalid_pdf"


@pytest.mark.parametrize("content", [b"hello, not a pdf", b"%PDF-1.7\n%garbage\n" * 20])
def test_garbage_is_invalid(tmp_path, content):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(content)
    with pytest.raises(OcrError) as exc:
        pdf_page_count(bad)
    assert exc.value.code == "invalid_pdf"
    assert exc.value.http_status == 400


def test_missing_file_is_invalid(tmp_path):
    with pytest.raises(OcrError) as exc:
        pdf_page_count(tmp_path / "nope.pdf")
    assert exc.value.code == "invalid_pdf"


# -- rendering ----------------------------------------------------------------------


def test_render_sizes_follow_dpi(tmp_path):
    path = tmp_path / "doc.pdf"
    _image_pdf(path, 2, size=(300, 400), resolution=150)  # 2 x 2.667 inches
    got = list(render_pages(path, dpi=150))
    assert [(n, d) for n, _, d in got] == [(1, 150), (2, 150)]
    for _, img, _ in got:
        assert img.mode == "L"  # a black-and-white page renders grey (frames.grey_if_grey)
        assert abs(img.width - 300) <= 1 and abs(img.height - 400) <= 1
        assert img.info["dpi"] == (150, 150)
    [(n, img, d)] = list(render_pages(path, [2], dpi=300, grayscale=True))
    assert (n, d, img.mode) == (2, 300, "L")
    assert abs(img.width - 600) <= 1 and abs(img.height - 800) <= 1


def test_render_keeps_colour_pages_rgb(tmp_path):
    path = tmp_path / "colour.pdf"
    _image_pdf(path, 1, fill=(0, 0, 200))
    [(_, img, _)] = list(render_pages(path, dpi=150))
    assert img.mode == "RGB"
    assert img.getpixel((5, 5))[2] > 150 > img.getpixel((5, 5))[0]


def test_render_selected_pages_in_order(tmp_path):
    path = tmp_path / "doc.pdf"
    _image_pdf(path, 5)
    got = list(render_pages(path, [5, 2, 2, 4], dpi=150))
    assert [n for n, _, _ in got] == [2, 4, 5]
    for n, img, _ in got:
        # the content is the right page's, not page 1 repeated
        assert abs(_first_dark_x(img) - 20 * (n - 1)) <= 1
    with pytest.raises(OcrError) as exc:
        list(render_pages(path, [6], dpi=72))
    assert exc.value.code == "invalid_pages"


def test_huge_page_gets_lower_dpi(tmp_path):
    path = tmp_path / "poster.pdf"
    # 2000x2000 px at 10 dpi = a 200x200 inch poster: 3.6 GP at 300 dpi.
    Image.new("L", (2000, 2000), 255).save(path, resolution=10)
    [(n, img, used)] = list(render_pages(path, dpi=300, max_pixels=4_000_000))
    assert used < 300
    assert img.width * img.height <= 4_000_000
    assert used == 10  # 200 in * 10 dpi = 2000 px; 11 dpi would be 2200x2200 > 4 MP
    assert img.size == (2000, 2000)


def test_effective_dpi():
    a4 = (595.0, 842.0)
    assert effective_dpi(*a4, 300, 40_000_000) == 300
    assert effective_dpi(*a4, 300, None) == 300
    low = effective_dpi(*a4, 300, 1_000_000)
    w, h = a4[0] * low / 72, a4[1] * low / 72
    assert np.ceil(w) * np.ceil(h) <= 1_000_000
    w1, h1 = a4[0] * (low + 1) / 72, a4[1] * (low + 1) / 72
    assert np.ceil(w1) * np.ceil(h1) > 1_000_000  # the highest DPI that fits
    # 200 x 200 in: 4 MP fit at 10 DPI, which is below a 72 DPI floor
    assert effective_dpi(14400.0, 14400.0, 300, 4_000_000) == 10
    with pytest.raises(OcrError) as exc:
        effective_dpi(14400.0, 14400.0, 300, 4_000_000, min_dpi=72)
    assert (exc.value.code, exc.value.http_status) == ("too_many_pixels", 413)
    # even 1 DPI is over the limit: an error, never a bigger bitmap
    with pytest.raises(OcrError) as exc:
        effective_dpi(14400.0, 14400.0, 300, 100)
    assert exc.value.code == "too_many_pixels"
    assert effective_dpi(*a4, 50, 1_000_000, min_dpi=72) == 50  # the floor never raises a DPI


# -- long pages: no side over the 32,767 px Tesseract reads ---------------------------


def test_effective_dpi_keeps_both_sides_within_what_tesseract_reads():
    # 14400 x 1 pt (200 in): 60000 x 5 px at 300 DPI, only 0.3 MP; 163 DPI is
    # 32600 x 3 px and 164 DPI would be 32800 px long
    assert effective_dpi(14_400.0, 1.0, 300, 60_000_000, min_dpi=72) == 163
    assert effective_dpi(1.0, 14_400.0, 300, None) == 163  # no pixel budget: still the side
    assert effective_dpi(32_767.0, 10.0, 72, 60_000_000) == 72  # exactly 32767 px
    assert effective_dpi(32_768.0, 10.0, 72, 60_000_000) == 71  # 32768 px at 72 DPI
    with pytest.raises(OcrError) as exc:  # 40000 px long even at 72 DPI
        effective_dpi(40_000.0, 10.0, 300, 60_000_000, min_dpi=72)
    assert (exc.value.code, exc.value.http_status) == ("too_many_pixels", 413)
    assert exc.value.message == (
        "The page is 40,000 x 10 pt, 40,000 x 10 px even at 72 DPI; "
        "the longest side OCR can read is 32,767 px."
    )
    assert effective_dpi(40_000.0, 10.0, 300, 60_000_000) == 58  # render paths: min_dpi 1


def test_a_long_page_is_rendered_at_a_dpi_whose_sides_fit():
    data = pages_pdf([b"/MediaBox [0 0 14400 1]"])
    assert inspect_pdf(data, 300, 60_000_000, min_dpi=72) == (1, 32_600, 3)
    [(number, image, dpi)] = list(render_pages(data, dpi=300, max_pixels=60_000_000))
    assert (number, dpi, image.size, image.info["dpi"]) == (1, 163, (32_600, 3), (163, 163))
    # turned by /Rotate, the long side is the height
    data = pages_pdf([b"/MediaBox [0 0 14400 1] /Rotate 90"])
    [(_, image, dpi)] = list(render_pages(data, dpi=300, max_pixels=60_000_000))
    assert (dpi, image.size) == (163, (3, 32_600))


def test_a_page_too_long_even_at_the_lowest_useful_dpi_is_refused_naming_it():
    ok = b"/MediaBox [0 0 612 792]"
    data = pages_pdf([ok, b"/MediaBox [0 0 40000 10]"])  # 40000 px long at 72 DPI
    with pytest.raises(OcrError) as exc:
        inspect_pdf(data, 300, 60_000_000, min_dpi=72)
    assert (exc.value.code, exc.value.http_status, exc.value.page) == ("too_many_pixels", 413, 2)
    assert exc.value.message.startswith("Page 2: the page is 40,000 x 10 pt, 40,000 x 10 px")
    assert exc.value.message.endswith("the longest side OCR can read is 32,767 px.")
    assert inspect_pdf(data, 300, 60_000_000, min_dpi=50)[0] == 2  # 58 DPI fits
    # too long even at 1 DPI (3,000,000 pt is 41,667 px; 2,359,224 pt is the most that fits)
    with pytest.raises(OcrError) as exc:
        list(render_pages(pages_pdf([b"/MediaBox [0 0 3000000 1]"]), dpi=300, max_pixels=None))
    assert (exc.value.code, exc.value.page) == ("too_many_pixels", 1)


# -- hostile page sizes and page counts -----------------------------------------------


def test_a_huge_mediabox_is_refused_at_inspection_without_rendering():
    data = square_pdf(1_600_000)  # 22222 in square: 22222x22222 px even at 1 DPI
    assert len(data) < 600
    with pytest.raises(OcrError) as exc:
        inspect_pdf(data, 300, 60_000_000, min_dpi=72)
    assert (exc.value.code, exc.value.http_status, exc.value.field) == (
        "too_many_pixels",
        413,
        "image",
    )
    assert exc.value.message.startswith("Page 1:") and exc.value.page == 1


def test_every_page_is_checked_not_only_the_first():
    ok = b"/MediaBox [0 0 612 792]"
    data = pages_pdf([ok, ok, b"/MediaBox [0 0 10000000 10000000]", ok])
    with pytest.raises(OcrError) as exc:
        inspect_pdf(data, 300, 60_000_000, min_dpi=72)
    assert exc.value.code == "too_many_pixels" and exc.value.message.startswith("Page 3:")
    # a page that fits only below the lowest useful DPI is refused too
    data = pages_pdf([ok, b"/MediaBox [0 0 14400 14400]"])  # 200 in: 4 MP at 10 DPI
    with pytest.raises(OcrError) as exc:
        inspect_pdf(data, 300, 4_000_000, min_dpi=72)
    assert exc.value.message.startswith("Page 2:")
    assert inspect_pdf(data, 300, 4_000_000, min_dpi=10)[0] == 2


@pytest.mark.parametrize(
    ("entries", "size_pt"),
    [
        # what pdfium renders: the CropBox within the MediaBox ...
        (b"/MediaBox [0 0 1600000 1600000] /CropBox [0 0 612 792]", (612, 792)),
        (b"/MediaBox [0 0 612 792] /CropBox [-1000000 -1000000 1000000 1000000]", (612, 792)),
        # ... turned by /Rotate (PDF 32000-1, 7.7.3.3) ...
        (b"/MediaBox [0 0 2000 100] /Rotate 90", (100, 2000)),
        # ... in points: pdfium ignores /UserUnit (so does the pixel check)
        (b"/MediaBox [0 0 612 792] /UserUnit 1000", (612, 792)),
    ],
)
def test_page_size_is_what_pdfium_renders(entries, size_pt):
    data = pages_pdf([entries])
    assert page_sizes(data) == [size_pt]
    count, width, height = inspect_pdf(data, 72, 60_000_000, min_dpi=72)
    [(_, img, dpi)] = list(render_pages(data, dpi=72, max_pixels=60_000_000))
    assert (count, width, height, dpi) == (1, *size_pt, 72)
    assert img.size == size_pt


def test_rendering_never_exceeds_max_pixels_whatever_the_pdf_declares():
    # Before: rendered at 1 DPI as a 22222x22222 bitmap (~1.5 GB); now refused unrendered.
    with pytest.raises(OcrError) as exc:
        list(render_pages(square_pdf(1_600_000), dpi=300, max_pixels=60_000_000))
    assert exc.value.code == "too_many_pixels"
    with pytest.raises(OcrError) as exc:
        page_text_layer(square_pdf(1_600_000), 1, 300, max_pixels=60_000_000)
    assert exc.value.code == "too_many_pixels"
    # a page too big for 300 DPI gets the highest DPI that fits, and no more pixels
    before = _rss_bytes()
    [(_, img, dpi)] = list(render_pages(square_pdf(2000), dpi=300, max_pixels=4_000_000))
    assert (dpi, img.size) == (72, (2000, 2000))
    # 4 MP at ~7 bytes a pixel (RGB bitmap + Pillow copy): far below 300 DPI's 70 MP
    assert _rss_bytes() - before < 80 * 1024 * 1024


def test_a_lying_page_count_counts_the_real_pages():
    data = square_pdf(612, count=400)  # declares 400 pages, has one
    with open_pdf(data) as pdf:
        assert len(pdf) == 400  # pdfium believes /Count ...
    assert pdf_page_count(data) == 1  # ... we count what it can read
    assert inspect_pdf(data, 300, 60_000_000, max_pages=5)[0] == 1
    assert [n for n, _, _ in render_pages(data, dpi=20)] == [1]
    with pytest.raises(OcrError) as exc:
        list(render_pages(data, [2], dpi=20))
    assert exc.value.code == "invalid_pdf"
    # a million declared pages cost no more than the real ones
    huge = square_pdf(612, count=1_000_000)
    assert pdf_page_count(huge) == 1 and inspect_pdf(huge, max_pages=500)[0] == 1


def test_real_pages_over_the_limit_and_holes():
    ok = b"/MediaBox [0 0 612 792]"
    with pytest.raises(OcrError) as exc:
        inspect_pdf(pages_pdf([ok] * 6), max_pages=5)
    assert exc.value.code == "too_many_pages"
    assert inspect_pdf(pages_pdf([ok] * 5, count=900), max_pages=5)[0] == 5
    # a page pdfium cannot read between readable ones: refused, not silently dropped
    holed = pages_pdf([ok, ok]).replace(b"/Kids [5 0 R 6 0 R]", b"/Kids [5 0 R 99 0 R 6 0 R]")
    holed = holed.replace(b"/Count 2", b"/Count 3")
    with pytest.raises(OcrError) as exc:
        inspect_pdf(holed, max_pages=500)
    assert exc.value.code == "invalid_pdf" and "Page 2" in exc.value.message


def test_sizing_500_pages_is_cheap(tmp_path):
    import time

    pdf = pdfium.PdfDocument.new()
    for _ in range(500):
        pdf.new_page(612, 792).close()
    path = tmp_path / "long.pdf"
    pdf.save(str(path))
    pdf.close()
    started = time.perf_counter()
    assert inspect_pdf(path.read_bytes(), max_pages=500)[0] == 500
    assert time.perf_counter() - started < 0.5


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_render_200_pages_memory_stays_flat(tmp_path):
    path = tmp_path / "long.pdf"
    blank = Image.new("L", (85, 110), 255)
    blank.save(path, save_all=True, append_images=[blank] * 199, resolution=10)  # 8.5x11 in
    assert pdf_page_count(path) == 200
    seen = 0
    baseline = None
    peak = 0
    for n, img, used in render_pages(path, dpi=100):  # 850x1100 RGB = 2.8 MB a page
        assert used == 100 and img.size == (850, 1100)
        seen += 1
        del img
        if n == 10:
            gc.collect()
            baseline = _rss_bytes()
        elif n > 10:
            peak = max(peak, _rss_bytes())
    assert seen == 200
    # 190 leaked pages would be > 500 MB; allow allocator noise only.
    assert peak - baseline < 60 * 1024 * 1024, (peak - baseline) / 2**20


# -- text layer -------------------------------------------------------------------------

LINES = [
    ("Hello PDF world", 72, 700),
    ("Second line here", 72, 670),
    ("Another block far below", 72, 400),
]


def test_text_layer_words_lines_blocks(tmp_path):
    path = tmp_path / "text.pdf"
    _text_pdf(path, [LINES])
    page = page_text_layer(path, 1, dpi=150)
    assert page is not None
    assert page.number == 1 and page.dpi == 150
    assert page.text == "Hello PDF world\nSecond line here\n\nAnother block far below"
    assert len(page.blocks) == 2
    assert [len(b.lines) for b in page.blocks] == [2, 1]
    [img] = [img for _, img, _ in render_pages(path, dpi=150)]
    assert (page.width, page.height) == img.size
    ink = np.asarray(img.convert("L")) < 128
    covered = np.zeros_like(ink)
    words = page.words()
    assert [w.text for w in words] == " ".join(t for t, _, _ in LINES).split()
    for w in words:
        left, top, right, bottom = w.bbox
        assert w.confidence is None
        # 24 pt at 150 dpi is 50 px: a word box is a glyph-height box
        assert 20 <= bottom - top <= 55
        assert ink[top:bottom, left:right].any(), w
        covered[max(0, top - 2) : bottom + 2, max(0, left - 2) : right + 2] = True
    # every inked pixel of the rendered page lies inside some word box
    assert not (ink & ~covered).any()
    # boxes sit where the text was placed: x=72 pt -> 150 px, baseline y=700 pt -> 191 px
    hello = words[0]
    assert abs(hello.bbox[0] - 150) <= 6
    assert abs(hello.bbox[3] - (792 - 700) * 150 / 72) <= 6


def test_text_layer_rotated_page(tmp_path):
    path = tmp_path / "rot.pdf"
    _text_pdf(path, [LINES], rotate=90)
    page = page_text_layer(path, 1, dpi=100)
    [img] = [img for _, img, _ in render_pages(path, dpi=100)]
    assert img.width > img.height  # /Rotate 90 renders landscape
    assert (page.width, page.height) == img.size
    # pdfium orders the lines of a rotated page its own way; the lines are intact
    assert sorted(ln.text for b in page.blocks for ln in b.lines) == sorted(t for t, _, _ in LINES)
    ink = np.asarray(img.convert("L")) < 128
    for w in page.words():
        left, top, right, bottom = w.bbox
        assert ink[top:bottom, left:right].mean() > 0.05, w  # the box is on the glyphs
        assert bottom - top > right - left or len(w.text) == 1  # text runs vertically


def test_text_layer_absent_on_image_pdf(tmp_path):
    path = tmp_path / "scan.pdf"
    _image_pdf(path, 2)
    assert page_text_layer(path, 1) is None
    assert page_text_layer(path, 2) is None


def test_text_layer_second_page_and_tiny_text(tmp_path):
    path = tmp_path / "two.pdf"
    _text_pdf(path, [[("ab", 72, 700)], [("Page two text", 72, 700)]])
    assert page_text_layer(path, 1) is None  # 2 characters: not meaningful
    page = page_text_layer(path, 2, dpi=300)
    assert page is not None and page.text == "Page two text" and page.number == 2
    with pytest.raises(OcrError) as exc:
        page_text_layer(path, 3)
    assert exc.value.code == "invalid_pages"


# -- embedded images that declare more pixels than the budget (PDF 32000-1, 8.9) -------------

from tests.pipeline.hostile_pdf import (  # noqa: E402
    ccitt_image,
    dct_image,
    flate_image,
    image_pdf,
    inline_image_pdf,
    jbig2_image,
)

SIDE = 2000  # 4 MP declared, against a 1 MP budget: small enough to build and run fast


@pytest.mark.parametrize(
    ("make", "declared"),
    [
        (lambda: image_pdf(flate_image(SIDE, SIDE, rows=1)), SIDE),
        (lambda: image_pdf(flate_image(SIDE, SIDE, bpc=1)), SIDE),
        (lambda: image_pdf(jbig2_image(SIDE, SIDE)), SIDE),
        (lambda: image_pdf(ccitt_image(SIDE, SIDE)), SIDE),
        (lambda: image_pdf(dct_image(SIDE, SIDE, progressive=True)), SIDE),
        # the dictionary says 100x100, the JPEG's own header 2000x2000: pdfium decodes that
        (lambda: image_pdf(dct_image(100, 100, sof=(SIDE, SIDE), progressive=True)), SIDE),
        (lambda: image_pdf(flate_image(SIDE, SIDE, rows=1), via="form"), SIDE),
        (lambda: inline_image_pdf(SIDE, SIDE, rows=1), SIDE),
    ],
    ids=["flate", "flate-1bit", "jbig2", "ccitt", "dct-progressive", "dct-sof", "form", "inline"],
)
def test_a_page_with_an_image_over_the_pixel_budget_is_never_rendered(make, declared):
    # Before: rendered (pdfium decodes JBIG2, 1-bit and progressive JPEG images whole at
    # their declared size: 60000x60000 JBIG2 ~500 MB, 20000x20000 progressive JPEG ~850 MB).
    data = make()
    assert len(data) < 20_000
    with pytest.raises(OcrError) as exc:
        list(render_pages(data, dpi=72, max_pixels=1_000_000))
    assert (exc.value.code, exc.value.http_status, exc.value.page) == ("too_many_pixels", 413, 1)
    assert exc.value.message.startswith(
        f"Page 1: an embedded image declares {declared:,}x{declared:,} = "
    )
    with pytest.raises(OcrError) as exc:
        page_text_layer(data, 1, 72, max_pixels=1_000_000)
    assert exc.value.code == "too_many_pixels"
    # the page itself is small: a budget the image fits renders it
    [(_, img, dpi)] = list(render_pages(data, dpi=72, max_pixels=declared * declared))
    assert (img.size, dpi) == ((612, 792), 72)


def test_the_image_check_names_the_page_and_descends_nested_forms():
    ok = image_pdf(flate_image(100, 100))
    assert [n for n, _, _ in render_pages(ok, dpi=20, max_pixels=10_000)] == [1]
    two = image_pdf(flate_image(101, 100), via="form", pages=2)
    with pytest.raises(OcrError) as exc:
        list(render_pages(two, [2], dpi=20, max_pixels=10_000))
    assert exc.value.page == 2 and exc.value.message.startswith("Page 2: an embedded image")
    # a Form XObject drawing a Form XObject drawing the image, 30 levels deep
    deep = image_pdf(flate_image(SIDE, SIDE, rows=1), via="form")
    forms = b"".join(
        b"%d 0 obj\n<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] "
        b"/Resources << /XObject << /Fm1 %d 0 R >> >> /Length 7 >>\nstream\n/Fm1 Do\nendstream\n"
        b"endobj\n" % (100 + i, 101 + i if i < 29 else 5)
        for i in range(30)
    )
    deep = deep.replace(b"/Fm1 5 0 R", b"/Fm1 100 0 R").replace(b"xref", forms + b"xref", 1)
    with open_pdf(deep) as pdf:  # pdfium repairs the xref: the forms are read
        page = pdf[0]
        assert len(list(page.get_objects(max_depth=64))) == 32
        page.close()
    with pytest.raises(OcrError) as exc:
        list(render_pages(deep, dpi=20, max_pixels=1_000_000))
    assert exc.value.code == "too_many_pixels"


def test_a_legitimate_scan_still_renders_and_reads(tmp_path):
    """One 2550x3300 (Letter at 300 DPI) image a page, as Pillow writes a scanned PDF."""
    scan = Image.new("L", (2550, 3300), 255)
    ImageDraw.Draw(scan).rectangle([300, 300, 899, 399], fill=0)
    path = tmp_path / "scan.pdf"
    scan.save(path, save_all=True, append_images=[scan], resolution=300)
    budget = 2550 * 3301  # the page as pdfium renders it (rounded up); the image fits
    got = list(render_pages(path, dpi=300, max_pixels=budget))
    assert [(n, img.size, dpi) for n, img, dpi in got] == [(n, (2550, 3301), 300) for n in (1, 2)]
    assert _first_dark_x(got[1][1]) == 300
    assert page_text_layer(path, 2, 300, max_pixels=budget) is None  # read: no text layer
