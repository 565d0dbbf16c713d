"""Documents for the exporter tests, made by running real Tesseract on rendered text.

Images are drawn with Pillow in DejaVu Sans, OCRed with the project's Tesseract
engine, and kept beside the resulting :class:`Document` so the PDF exporter can
draw them. Built once per test session (each OCR takes a fraction of a second).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PIL import Image, ImageDraw, ImageFont

from app.engines.base import EngineOptions
from app.engines.tesseract import build
from app.pipeline.schema import Document

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

PARAGRAPH = [
    "The café on Main Street sells bread & jam.",
    "Prices: 3 < 4 and the tea costs more.",
    "Quick brown foxes jump over lazy dogs.",
    "Every morning the baker opens early.",
]
SECOND_PAGE = [
    "Page two begins with a short line.",
    "It ends here, after the number 42.",
]


@dataclass
class OcrSample:
    """A document and the images its pages were OCRed from (page number -> image)."""

    document: Document
    images: dict[int, Image.Image]

    def page_image(self, number: int) -> Image.Image:
        return self.images[number]


def render(lines: list[str], size: tuple[int, int], *, mode: str = "L") -> Image.Image:
    """``lines`` drawn black on white in DejaVu Sans 34 px, 64 px apart."""
    font = ImageFont.truetype(FONT, 34)
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((70, 60 + i * 64), line, font=font, fill="black")
    return image.convert(mode)


@pytest.fixture(scope="session")
def engine():
    eng = build({"OCR_TESSDATA_DIR": "", "OCR_TESSERACT_BACKEND": "auto"})
    if not eng.info().available:  # pragma: no cover - the machine has Tesseract
        pytest.fail(f"Tesseract is needed for these tests: {eng.info().reason}")
    yield eng
    eng.close()


def _ocr(engine, images: dict[int, Image.Image], dpis: dict[int, int | None]) -> Document:
    pages = [
        engine.recognize_page(
            images[n], page_number=n, options=EngineOptions(languages=("eng",), dpi=dpis[n])
        )
        for n in sorted(images)
    ]
    return Document(
        engine=engine.name,
        engine_version=engine.info().version,
        languages=["eng"],
        pages=pages,
    )


@pytest.fixture(scope="session")
def paragraph(engine) -> OcrSample:
    """One greyscale page at 150 dpi: a paragraph of four lines with é, & and <."""
    images = {1: render(PARAGRAPH, (1000, 360))}
    doc = _ocr(engine, images, {1: 150})
    text = doc.text
    # Guard the premises the tests rely on: OCR must have read these exactly.
    for needed in ("café", "&", "<", "bread", "Quick"):
        assert needed in text.split(), f"OCR did not read {needed!r}: {text!r}"
    return OcrSample(doc, images)


@pytest.fixture(scope="session")
def two_pages(engine) -> OcrSample:
    """Two pages of different sizes: an RGB page at 200 dpi and a page of unknown dpi."""
    images = {
        1: render(PARAGRAPH[:2], (1000, 220), mode="RGB"),
        2: render(SECOND_PAGE, (900, 240)),
    }
    doc = _ocr(engine, images, {1: 200, 2: None})
    assert [p.number for p in doc.pages] == [1, 2]
    assert all(p.words() for p in doc.pages)
    return OcrSample(doc, images)
