"""Preprocessing with real Tesseract: orientation (its OSD hook), deskew, upscaling, cleaning."""

from __future__ import annotations

import io
import math
import shutil

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.engines.base import EngineOptions
from app.engines.tesseract import TesseractConfig, TesseractEngine, find_tessdata, parse_osd
from app.pipeline.preprocess import (
    PreprocessOptions,
    detect_skew,
    line_height,
    otsu_threshold,
    preprocess,
)
from tests.pipeline.helpers import PANGRAMS, cer, render_text_page

TESSDATA = find_tessdata()
#: Longest side (px) Tesseract reads: FindLines refuses over MAX_INT16 (app.pipeline.frames).
MAX_SIDE = 32_767
EXPECTED = "\n".join(PANGRAMS)

pytestmark = pytest.mark.skipif(
    not (TESSDATA and shutil.which("tesseract")), reason="needs Debian tesseract with tessdata"
)


@pytest.fixture(scope="module")
def page() -> Image.Image:
    return render_text_page()  # 1275x900, ~12 pt text at 150 dpi


def ocr(engine, prepared) -> str:
    return engine.recognize_page(
        prepared.image, page_number=1, options=EngineOptions(dpi=prepared.dpi)
    ).text


def test_upright_page_untouched(engine, page):
    p = preprocess(page, source_dpi=300, orientation=engine.detect_orientation)
    assert (p.rotation, p.skew, p.scale, p.dpi) == (0, 0.0, 1.0, 300)
    assert p.orientation == 0  # OSD answered, confidently: upright
    assert p.image.size == page.size
    assert cer(EXPECTED, ocr(engine, p)) < 0.05


@pytest.mark.parametrize("clockwise", [90, 180, 270])
def test_orientation_detected_and_corrected(engine, page, clockwise):
    turned = page.rotate(-clockwise, expand=True, fillcolor=255)  # Pillow turns counter-clockwise
    if clockwise == 180:  # (Tesseract itself reads some sideways pages, never upside down)
        raw = engine.recognize_page(turned, page_number=1, options=EngineOptions()).text
        assert cer(EXPECTED, raw) > 0.3
    p = preprocess(turned, source_dpi=300, orientation=engine.detect_orientation)
    # undoing a clockwise turn of X takes a clockwise turn of 360 - X
    assert p.rotation == (360 - clockwise) % 360
    assert p.image.size == page.size
    assert p.skew == 0.0
    assert cer(EXPECTED, ocr(engine, p)) < 0.05


def test_rotate_off_leaves_orientation(engine, page):
    upside_down = page.rotate(180)
    p = preprocess(upside_down, source_dpi=300, options=PreprocessOptions(rotate="off"),
                   orientation=engine.detect_orientation)  # fmt: skip
    assert p.rotation == 0 and p.orientation is None
    assert np.array_equal(np.asarray(p.image), np.asarray(upside_down))


def test_missing_osd_data_skips_orientation(tmp_path, page):
    (tmp_path / "eng.traineddata").write_bytes(b"")  # a tessdata folder without osd
    without_osd = TesseractEngine(TesseractConfig(tessdata_dir=str(tmp_path), backend="cli"))
    assert without_osd.detect_orientation(page.rotate(180).convert("L"), dpi=300) is None
    p = preprocess(page.rotate(180), source_dpi=300, orientation=without_osd.detect_orientation)
    assert p.rotation == 0 and p.orientation is None


def test_no_orientation_hook_leaves_the_page_as_is(page):
    upside_down = page.rotate(180)
    p = preprocess(upside_down, source_dpi=300, options=PreprocessOptions(deskew=False))
    assert p.rotation == 0 and p.orientation is None
    assert np.array_equal(np.asarray(p.image), np.asarray(upside_down))


@pytest.mark.parametrize("angle", [3.0, 6.0, 10.0, -6.0])
def test_deskew(engine, page, angle):
    tilted = page.rotate(angle, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    if abs(angle) >= 6:  # Tesseract alone suffers at that tilt
        raw = engine.recognize_page(tilted, page_number=1, options=EngineOptions(dpi=300)).text
        assert cer(EXPECTED, raw) > 0.05
    p = preprocess(tilted, source_dpi=300, orientation=engine.detect_orientation)
    assert p.rotation == 0
    assert abs(p.skew - angle) <= 0.5, p.skew
    assert p.skew == round(p.skew, 2)
    assert cer(EXPECTED, ocr(engine, p)) < 0.05


def test_deskew_off(page):
    tilted = page.rotate(5, expand=True, fillcolor=255)
    p = preprocess(tilted, source_dpi=300, options=PreprocessOptions(deskew=False, rotate="off"))
    assert p.skew == 0.0 and p.image.size == tilted.size


def test_rotated_and_skewed(engine, page):
    tilted = page.rotate(4, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    turned = tilted.rotate(90, expand=True, fillcolor=255)  # 90 counter-clockwise
    p = preprocess(turned.convert("RGB"), source_dpi=300, orientation=engine.detect_orientation)
    assert p.rotation == 90
    assert abs(p.skew - 4) <= 0.5
    assert p.image.mode == "RGB"
    assert cer(EXPECTED, ocr(engine, p)) < 0.05


def test_detect_skew_blank_page():
    assert detect_skew(Image.new("L", (800, 600), 255)) == 0.0


def test_blank_page_is_harmless(engine):
    blank = Image.new("RGB", (500, 700), "white")
    p = preprocess(blank, source_dpi=None, orientation=engine.detect_orientation)
    assert (p.rotation, p.skew, p.scale, p.dpi) == (0, 0.0, 1.0, None)


def test_low_dpi_is_upscaled_toward_target(engine):
    small = render_text_page(size=(640, 450), font_px=14, margin=45)  # ~12 pt at 75 dpi
    p = preprocess(small, source_dpi=75, orientation=engine.detect_orientation)
    assert p.scale == 4.0  # 300/75
    assert p.dpi == 300 and p.image.size == (2560, 1800)
    before = engine.recognize_page(small, page_number=1, options=EngineOptions(dpi=75)).text
    after = ocr(engine, p)
    assert cer(EXPECTED, after) <= cer(EXPECTED, before)
    assert cer(EXPECTED, after) < 0.05


def test_tiny_text_without_dpi_is_enlarged(engine):
    small = render_text_page(size=(430, 300), font_px=9, margin=20)  # a screenshot-sized page
    p = preprocess(small, source_dpi=None, orientation=engine.detect_orientation)
    assert p.dpi is None
    assert 2.0 <= p.scale <= 4.0
    assert p.image.width == round(small.width * p.scale)
    before = engine.recognize_page(small, page_number=1, options=EngineOptions()).text
    after = ocr(engine, p)
    assert cer(EXPECTED, after) <= cer(EXPECTED, before)
    assert cer(EXPECTED, after) < 0.1


def test_large_text_without_dpi_is_not_enlarged(page):
    p = preprocess(page, source_dpi=None, options=PreprocessOptions(rotate="off"))
    assert p.scale == 1.0 and p.dpi is None


def test_upscaling_respects_max_pixels():
    small = render_text_page(size=(640, 450), font_px=14, margin=45)
    p = preprocess(small, source_dpi=75, options=PreprocessOptions(rotate="off"),
                   max_pixels=1_000_000)  # fmt: skip
    assert 1.0 < p.scale < 4.0
    assert p.image.width * p.image.height <= 1_000_000
    assert p.dpi == round(75 * p.scale)


def _strip(width: int, height: int, *, angle: float = 0.0) -> Image.Image:
    """A white ``width`` x ``height`` px strip with two rows of word-sized blocks
    (60 x 20 px every 80 px) along lines tilted ``angle`` degrees counter-clockwise,
    rising from near the bottom left (``height`` must exceed the rise, ``width`` x tan)."""
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    rise = math.tan(math.radians(angle))
    for baseline in (height - 30, height - 80):
        for x in range(20, width - 80, 80):
            y = baseline - x * rise
            draw.rectangle((x, y - 20, x + 60, y), fill=0)
    return image


def test_upscaling_never_makes_a_side_longer_than_tesseract_reads(engine):
    # 75 DPI asks for 4x: 48000 px, over the 32767 px FindLines takes ("Image too large")
    strip = render_text_page(size=(12_000, 60), font_px=14, margin=10)
    p = preprocess(strip, source_dpi=75, options=PreprocessOptions(rotate="off", deskew=False))
    assert p.scale == 2.73 and p.image.size == (32_760, 164)  # floor(32767 / 12000, 3 places)
    assert p.dpi == round(75 * 2.73)
    page = engine.recognize_page(p.image, page_number=1, options=EngineOptions(dpi=p.dpi))
    assert page.words(), "Tesseract read nothing"


def test_deskew_is_skipped_when_its_expanded_canvas_would_be_too_long():
    """Turning a 32767 x 600 px strip by 0.5 degrees widens it to ~32772 px: the page is
    read as it is (skew 0) rather than shrunk or cropped; a shorter one is still turned."""
    long = _strip(MAX_SIDE, 600, angle=0.5)
    assert abs(detect_skew(long) - 0.5) <= 0.1  # the tilt is there to correct
    p = preprocess(long, source_dpi=300, options=PreprocessOptions(rotate="off"))
    assert (p.skew, p.image.size, p.scale) == (0.0, (MAX_SIDE, 600), 1.0)
    shorter = preprocess(
        _strip(20_000, 600, angle=0.5), source_dpi=300, options=PreprocessOptions(rotate="off")
    )
    assert abs(shorter.skew - 0.5) <= 0.1 and shorter.image.width > 20_000


def test_upscaling_after_deskew_fits_the_expanded_canvas():
    """The scale is chosen on the page as given (16300 px: 2.01x fits), deskew then
    widens it (~16308 px at 1 degree), and the upscaling is lowered to fit that."""
    strip = _strip(16_300, 600, angle=1.0)
    p = preprocess(strip, source_dpi=100, options=PreprocessOptions(rotate="off"),
                   max_pixels=60_000_000)  # fmt: skip
    assert abs(p.skew - 1.0) <= 0.1
    assert MAX_SIDE - 20 <= max(p.image.size) <= MAX_SIDE
    assert 1.0 < p.scale < 2.01 and p.dpi == round(100 * p.scale)


def test_dpi_option_overrides_the_file(page):
    p = preprocess(page, source_dpi=300, options=PreprocessOptions(dpi=100, rotate="off"))
    assert p.scale == 3.0 and p.dpi == 300
    p = preprocess(page, source_dpi=100, options=PreprocessOptions(dpi=300, rotate="off"))
    assert p.scale == 1.0 and p.dpi == 300


def test_clean_binarises_and_denoises(engine, page):
    rng = np.random.default_rng(7)
    arr = np.asarray(page).copy()
    noise = rng.random(arr.shape)
    arr[noise < 0.02] = 0  # pepper
    arr = np.clip(arr.astype(np.int16) + rng.integers(-40, 40, arr.shape), 0, 255).astype(np.uint8)
    noisy = Image.fromarray(arr).convert("RGB")
    p = preprocess(noisy, source_dpi=300, options=PreprocessOptions(clean=True),
                   orientation=engine.detect_orientation)  # fmt: skip
    assert p.image.mode == "L"
    values = set(np.unique(np.asarray(p.image)).tolist())
    assert values <= {0, 255}
    # isolated pepper dots are gone from the white margin
    margin = np.asarray(p.image)[:80, :]
    assert (margin == 0).mean() < 0.001 < (arr[:80, :] < 128).mean()
    assert cer(EXPECTED, ocr(engine, p)) < 0.05


def test_exif_orientation_applied_but_not_counted(page):
    turned = page.rotate(90, expand=True, fillcolor=255)  # stored sideways...
    exif = Image.Exif()
    exif[0x0112] = 6  # ...with "rotate 90 CW to display"
    buf = io.BytesIO()
    turned.save(buf, format="JPEG", exif=exif, quality=95)
    buf.seek(0)
    with Image.open(buf) as jpeg:
        p = preprocess(jpeg, source_dpi=300, options=PreprocessOptions(rotate="off", deskew=False))
    assert p.image.size == page.size
    assert p.rotation == 0


def test_parse_osd():
    out = (
        "Page number: 0\nOrientation in degrees: 270\nRotate: 90\n"
        "Orientation confidence: 12.79\nScript: Latin\nScript confidence: 10.00\n"
    )
    assert parse_osd(out) == (90, 12.79)
    assert parse_osd("Too few characters. Skipping this page\n") is None
    assert parse_osd("Rotate: 45\nOrientation confidence: 3\n") is None


def test_otsu_and_line_height(page):
    arr = np.asarray(page)
    t = otsu_threshold(arr)
    assert 30 < t < 230
    lh = line_height(arr <= t)
    assert 18 <= lh <= 26  # 28 px DejaVu: ascender to descender
    assert line_height(np.asarray(page.rotate(90, expand=True)) <= t) == pytest.approx(lh, abs=3)


def test_options_validation():
    with pytest.raises(ValueError):
        PreprocessOptions(rotate="sometimes")
    with pytest.raises(ValueError):
        PreprocessOptions(dpi=0)
    with pytest.raises(AttributeError):
        PreprocessOptions().deskew = False  # frozen


def test_looks_sideways_tells_turned_text_from_upright():
    from app.pipeline.preprocess import _analysis_mask, looks_sideways

    upright = render_text_page()
    assert not looks_sideways(_analysis_mask(upright)[0])
    assert looks_sideways(_analysis_mask(upright.rotate(90, expand=True, fillcolor=255))[0])
    assert not looks_sideways(_analysis_mask(Image.new("L", (800, 600), 255))[0])  # blank
    assert preprocess(upright.rotate(270, expand=True, fillcolor=255), source_dpi=None).sideways
