"""The orientation policy of ``ocr_page`` on real readings of a map-like page."""

from __future__ import annotations

import random
import shutil

import pytest
from PIL import Image, ImageDraw

from app.engines.base import EngineOptions, OcrEngine
from app.engines.tesseract import find_tessdata
from app.pipeline.page import OSD_CONFIDENCE_TRIGGER, PageSettings, looks_wrong, ocr_page
from tests.pipeline.helpers import render_text_page

TESSDATA = find_tessdata()

pytestmark = [
    pytest.mark.django_db(databases=[]),
    pytest.mark.skipif(
        not (TESSDATA and shutil.which("tesseract")), reason="needs Debian tesseract with tessdata"
    ),
]


@pytest.fixture(scope="module")
def map_page() -> Image.Image:
    """The pangram page crossed by 100 random strokes, like a map's roads over its labels."""
    image = render_text_page()
    rng = random.Random(7)
    draw = ImageDraw.Draw(image)
    width, height = image.size
    for _ in range(100):
        x, y = rng.randrange(width), rng.randrange(height)
        end = (x + rng.randrange(-300, 300), y + rng.randrange(-300, 300))
        draw.line([(x, y), end], fill=0, width=rng.choice([2, 3, 4]))
    return image


def test_low_confidence_upright_reading_with_real_words_is_not_turned(engine, map_page):
    page = engine.recognize_page(map_page, page_number=1, options=EngineOptions())
    assert page.confidence < OSD_CONFIDENCE_TRIGGER  # the strokes make a poor reading...
    assert not looks_wrong(page)  # ...but a quarter of its words are confidently real


@pytest.mark.parametrize("degrees", [90, 180])
def test_turned_page_reading_looks_wrong(engine, map_page, degrees):
    turned = map_page.rotate(degrees, expand=True, fillcolor=255)
    page = engine.recognize_page(turned, page_number=1, options=EngineOptions())
    assert looks_wrong(page)


def test_upside_down_map_is_turned_back_and_read(engine, map_page):
    settings = PageSettings()
    page = ocr_page(
        engine,
        map_page.rotate(180),
        number=1,
        dpi=None,
        options=EngineOptions(),
        settings=settings,
    )
    assert page.rotation == 180
    upright = ocr_page(
        engine, map_page, number=1, dpi=None, options=EngineOptions(), settings=settings
    )
    assert upright.rotation == 0
    assert page.text == upright.text  # turned back, it reads as the upright page


class _CountingEngine(OcrEngine):
    """The real Tesseract engine, counting its readings."""

    name = "counting"
    kind = "local"
    preprocess = True

    def __init__(self, engine) -> None:
        self.engine = engine
        self.readings: list[tuple[int, int]] = []

    def info(self):
        return self.engine.info()

    def detect_orientation(self, image, *, dpi=None):
        return self.engine.detect_orientation(image, dpi=dpi)

    def recognize_page(self, image, *, page_number, options):
        self.readings.append(image.size)
        return self.engine.recognize_page(image, page_number=page_number, options=options)


@pytest.mark.parametrize("degrees", [90, 270])
def test_sideways_page_asks_osd_first_and_is_read_once(engine, degrees):
    upright = render_text_page()
    counting = _CountingEngine(engine)
    settings = PageSettings()
    page = ocr_page(
        counting,
        upright.rotate(degrees, expand=True, fillcolor=255),
        number=1,
        dpi=None,
        options=EngineOptions(),
        settings=settings,
    )
    # Pillow turns counter-clockwise; the page's rotation is the clockwise turn undoing it.
    assert page.rotation == degrees
    assert counting.readings == [upright.size]  # one reading, of the page turned upright
    assert "quick brown fox" in page.text and "liquor jugs" in page.text


def test_upright_page_is_read_once_without_osd(engine):
    counting = _CountingEngine(engine)
    page = ocr_page(
        counting,
        render_text_page(),
        number=1,
        dpi=None,
        options=EngineOptions(),
        settings=PageSettings(),
    )
    assert page.rotation == 0 and len(counting.readings) == 1
    assert "quick brown fox" in page.text
