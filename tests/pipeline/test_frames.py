"""Colour images whose pixels are all grey go to Tesseract as grey (frames.grey_if_grey)."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from app.engines.base import EngineOptions
from app.pipeline.frames import grey_if_grey, to_ocr_mode

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _text_page(fill=(0, 0, 0)) -> Image.Image:
    img = Image.new("RGB", (1200, 300), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 36)
    draw.text((40, 40), "Grey pages read the same", font=font, fill=fill)
    draw.text((40, 140), "as their colour copies do.", font=font, fill=fill)
    return img


def test_grey_rgb_becomes_l_with_the_same_values():
    page = _text_page()
    page.info["dpi"] = (300, 300)
    out = grey_if_grey(page)
    assert out.mode == "L"
    assert np.array_equal(np.asarray(out), np.asarray(page)[..., 0])
    assert out.info["dpi"] == (300, 300)


@pytest.mark.parametrize("pixel", [(255, 0, 0), (100, 101, 100)])
def test_one_coloured_pixel_keeps_rgb(pixel):
    # (100, 101, 100) hides in the 1/8-scale block means; the full check finds it.
    page = _text_page()
    page.putpixel((1000, 250), pixel)
    assert grey_if_grey(page) is page


def test_palettes():
    grey = Image.new("P", (64, 64), 1)
    grey.putpalette([0, 0, 0, 255, 255, 255])  # a bilevel scan stored with a palette
    out = to_ocr_mode(grey)
    assert out.mode == "L" and out.getpixel((3, 3)) == 255
    colour = Image.new("P", (64, 64), 1)
    colour.putpalette([0, 0, 0, 250, 200, 10])
    out = to_ocr_mode(colour)
    assert out.mode == "RGB" and out.getpixel((3, 3)) == (250, 200, 10)


def test_tesseract_reads_the_grey_copy_as_the_colour_one(engine):
    page = _text_page(fill=(40, 40, 40))
    options = EngineOptions(languages=("eng",))
    as_rgb = engine.recognize_page(page, page_number=1, options=options)
    as_grey = engine.recognize_page(grey_if_grey(page), page_number=1, options=options)
    assert "Grey pages read the same" in as_rgb.text
    assert as_grey.to_dict() == as_rgb.to_dict()
