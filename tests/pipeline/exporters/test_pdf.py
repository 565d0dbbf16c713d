"""Searchable PDF export: page geometry, extractable text, text positioned on the words."""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pytest
from PIL import Image

from app.pipeline.exporters import export
from app.pipeline.exporters.pdf import page_size_points
from app.pipeline.schema import Block, Document, Line, PageResult, Word


def overlap(a: list[float], b: list[float]) -> float:
    """Intersection area of two [left, top, right, bottom] boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0)


def char_box_px(textpage, index: int, page: PageResult, page_h_pt: float) -> list[float]:
    """pdfium's box of char ``index`` (points, origin bottom-left) in image pixels."""
    left, bottom, right, top = textpage.get_charbox(index)
    k = (page.dpi or 300) / 72.0
    return [left * k, (page_h_pt - top) * k, right * k, (page_h_pt - bottom) * k]


def check_page(pdf_page, page: PageResult) -> None:
    width_pt, height_pt = pdf_page.get_size()
    dpi = page.dpi or 300
    assert width_pt == pytest.approx(page.width / dpi * 72, abs=0.01)
    assert height_pt == pytest.approx(page.height / dpi * 72, abs=0.01)

    textpage = pdf_page.get_textpage()
    text = textpage.get_text_range()
    words = page.words()
    assert text.split() == [w.text for w in words]
    # Lines come out as lines.
    assert [ln.strip() for ln in text.splitlines()] == [
        ln.text for b in page.blocks for ln in b.lines
    ]

    # Each word's first and last characters sit on the word's box.
    pos = 0
    for word in words:
        start = text.index(word.text, pos)
        pos = start + len(word.text)
        for i in (start, pos - 1):
            box = char_box_px(textpage, i, page, height_pt)
            area = (box[2] - box[0]) * (box[3] - box[1])
            assert area > 0
            assert overlap(box, word.bbox) > 0.3 * area, (word, box)
        # The whole word spans its bbox horizontally (scaled to its width).
        first = char_box_px(textpage, start, page, height_pt)
        last = char_box_px(textpage, pos - 1, page, height_pt)
        width = word.bbox[2] - word.bbox[0]
        assert abs(first[0] - word.bbox[0]) < 0.25 * width + 3
        assert abs(last[2] - word.bbox[2]) < 0.25 * width + 3


def test_pdf_one_page(paragraph):
    data = export(paragraph.document, "pdf", page_image=paragraph.page_image)
    assert data.startswith(b"%PDF-")
    pdf = pdfium.PdfDocument(data)
    assert len(pdf) == 1
    check_page(pdf[0], paragraph.document.pages[0])
    assert "café" in pdf[0].get_textpage().get_text_range()
    # Greyscale page image: JPEG data, and the file is far smaller than the raw pixels.
    assert b"/DCTDecode" in data
    image = paragraph.images[1]
    assert len(data) < image.width * image.height / 4


def test_pdf_two_pages_sizes_and_default_dpi(two_pages):
    calls = []

    def page_image(number: int) -> Image.Image:
        calls.append(number)
        return two_pages.images[number]

    data = export(two_pages.document, "pdf", page_image=page_image)
    assert calls == [1, 2]  # once per page, in order
    pdf = pdfium.PdfDocument(data)
    assert len(pdf) == 2
    for i, page in enumerate(two_pages.document.pages):
        check_page(pdf[i], page)
    assert pdf[1].get_size() == pytest.approx((900 / 300 * 72, 240 / 300 * 72))
    assert page_size_points(two_pages.document.pages[0]) == pytest.approx((360.0, 79.2))


def test_pdf_page_image_is_drawn(paragraph):
    """The rendered PDF page looks like the image (dark text where the image has it)."""
    data = export(paragraph.document, "pdf", page_image=paragraph.page_image)
    page = paragraph.document.pages[0]
    rendered = pdfium.PdfDocument(data)[0].render(scale=page.dpi / 72).to_pil().convert("L")
    assert abs(rendered.width - page.width) <= 1
    word = page.words()[0]
    crop = rendered.crop(tuple(word.bbox))
    blank = rendered.crop((0, 0, 40, 40))
    assert crop.getextrema()[0] < 80  # ink of the word
    assert blank.getextrema()[0] > 200  # white margin; the text layer draws nothing


def test_pdf_non_latin_and_odd_inputs():
    words = [
        Word([20, 20, 200, 70], "Straße", 90.0),
        Word([220, 20, 420, 70], "Ωμέγα", None),
        Word([440, 20, 600, 70], "한국어", 80.0),
        Word([620, 20, 760, 70], "漢字", 80.0),
    ]
    lines = [Line.from_words(words), Line(bbox=[20, 100, 400, 150], text="a b & <c>")]
    page = PageResult.from_blocks(
        number=1, width=800, height=200, blocks=[Block.from_lines(lines)], dpi=None
    )
    doc = Document(engine="x", engine_version="1", pages=[page])
    rgba = Image.new("RGBA", (800, 200), (255, 255, 255, 0))
    data = export(doc, "pdf", page_image=lambda n: rgba)
    text = pdfium.PdfDocument(data)[0].get_textpage().get_text_range()
    assert text.split() == ["Straße", "Ωμέγα", "한국어", "漢字", "a", "b", "&", "<c>"]


def test_pdf_bilevel_image_stays_lossless():
    page = PageResult.from_blocks(
        number=1,
        width=400,
        height=100,
        blocks=[Block.from_lines([Line.from_words([Word([10, 10, 90, 40], "ink", 99.0)])])],
        dpi=100,
    )
    image = Image.new("1", (400, 100), 1)
    image.paste(0, (10, 10, 90, 40))
    data = export(Document(engine="x", engine_version="1", pages=[page]), "pdf",
                  page_image=lambda n: image)  # fmt: skip
    assert b"/DCTDecode" not in data
    assert re.search(rb"/Subtype /Image", data)
    rendered = pdfium.PdfDocument(data)[0].render(scale=100 / 72).to_pil().convert("L")
    assert rendered.getpixel((50, 25)) < 10 and rendered.getpixel((200, 70)) > 245
