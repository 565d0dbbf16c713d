"""Photo preprocessing (app.pipeline.photo) and the photo fixes of the Tesseract path.

Rendered pages are "photographed" with bench/photos.py's camera simulations
(perspective on a dark table, shading, dim light with the reverse page showing
through; a phone JPEG with EXIF 72 DPI) in a smaller frame than the bench's,
then read by real Tesseract through the document pipeline (``read_pages``, what
``manage.py ocr`` and a job use). The CER bounds fail without the fixes
(measured 2026-11-30 on these pages, with the old ``_image_dpi`` and
``_analysis_mask`` patched back and photo preprocessing off: see each test).
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from app.engines.tesseract import find_tessdata
from app.pipeline import document, inputs, photo
from app.pipeline.options import JobOptions
from app.pipeline.preprocess import PreprocessOptions, apply_geometry, detect_skew, preprocess
from tests.pipeline.helpers import PANGRAMS, cer, render_text_page

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import photos as sim  # noqa: E402  (bench/photos.py: the camera simulations)

pytestmark = pytest.mark.skipif(
    not (find_tessdata() and shutil.which("tesseract")), reason="needs Debian tesseract"
)

EXPECTED = "\n".join(PANGRAMS)
#: A portrait page of 16 lines of 24 px DejaVuSans (``dense`` fixture).
DENSE = PANGRAMS * 2
FONT = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 24)
#: A smaller camera frame than the bench's 2250 x 3000, to keep the tests quick.
FRAME = (1200, 1600)


@pytest.fixture(autouse=True)
def small_frame(monkeypatch):
    monkeypatch.setattr(sim, "FRAME", FRAME)


@pytest.fixture(scope="module")
def page() -> Image.Image:
    return render_text_page()  # 1275 x 900, 28 px DejaVuSans


@pytest.fixture(scope="module")
def dense() -> Image.Image:
    return render_text_page(DENSE, size=(1275, 1650), font_px=24, pitch=2.8)


def snap(rgb: np.ndarray, seed: int, **camera) -> bytes:
    """A phone JPEG (EXIF 72 DPI, no JFIF density) of a simulated frame."""
    return sim.jpeg(sim.camera(rgb, np.random.default_rng(seed), **camera))


def read(data: bytes, engine, **options):
    pages = document.read_pages(
        data,
        "image/jpeg",
        engine=engine,
        options=JobOptions(**options),
        limits=document.Limits(),
        numbers=[1],
    )
    return next(iter(pages)).result


def test_a_clean_page_passes_untouched(page):
    out, report = photo.prepare_photo(page)
    assert out is page
    assert report == photo.PhotoReport()
    rgb = page.convert("RGB")
    on = preprocess(rgb, source_dpi=300, options=PreprocessOptions(rotate="off"))
    off = preprocess(rgb, source_dpi=300, options=PreprocessOptions(rotate="off", photo=False))
    assert np.array_equal(np.asarray(on.image), np.asarray(off.image))
    assert (on.skew, on.scale, on.dpi) == (off.skew, off.scale, off.dpi) == (0.0, 1.0, 300)
    assert on.photo.to_dict() == {"page_detected": False, "perspective": False, "flattened": False}


def test_exif_only_72_dpi_is_unknown_and_not_upscaled(page):
    data = snap(sim.paper_rgb(sim.flat(page)), 1)
    with Image.open(io.BytesIO(data)) as im:
        assert im.info["dpi"] == (72, 72)  # what Pillow reports, from the EXIF
    (only,) = inputs.iter_image_pages(io.BytesIO(data), max_pixels=60_000_000)
    assert only.dpi is None
    p = preprocess(only.image, source_dpi=only.dpi, options=PreprocessOptions(rotate="off"))
    assert (p.scale, p.dpi, p.image.size) == (1.0, None, FRAME)


def test_jfif_density_is_kept(page):
    buf = io.BytesIO()
    page.save(buf, "JPEG", dpi=(200, 200))
    (only,) = inputs.iter_image_pages(io.BytesIO(buf.getvalue()), max_pixels=60_000_000)
    assert only.dpi == 200


def test_a_camera_jpeg_has_no_page_resolution_whatever_its_jfif_density(page):
    # As a Canon EOS 600D writes them (book_de_maker of the real-photo set): JFIF
    # 72 DPI and EXIF Make/Model. Taken as 72 DPI, the photo was upscaled 3.3x.
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS 600D"
    buf = io.BytesIO()
    page.save(buf, "JPEG", dpi=(72, 72), exif=exif)
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        assert im.info["jfif_density"] == (72, 72) and im.info["jfif_unit"] == 1
    (only,) = inputs.iter_image_pages(io.BytesIO(buf.getvalue()), max_pixels=60_000_000)
    assert only.dpi is None


def test_perspective_photo_on_a_table(engine, dense):
    # Without the fixes (measured): CER 0.415, a false skew of -6.34 degrees
    # measured on the table's edge, and the page upscaled 4x as if at 72 DPI.
    data = snap(sim.perspective(dense, np.random.default_rng(7)), 7)
    result = read(data, engine)
    assert result.photo["page_detected"] and result.photo["perspective"]
    assert result.photo["flattened"]
    assert abs(result.skew) < 0.3
    assert cer("\n".join(DENSE), result.text) < 0.05, result.text
    assert result.dpi is None
    # The page was squared: the words sit where they were drawn, relative to the
    # page (within 2 % of its size). (Its aspect is the edges' lengths', not the
    # page's: a photo alone does not tell it.)
    quick = next(w for w in result.words() if w.text == "quick")
    drawn = ImageDraw.Draw(dense).textbbox((90, 90), "The quick", font=FONT)
    left = drawn[2] - ImageDraw.Draw(dense).textlength("quick", font=FONT)
    assert abs(quick.bbox[0] / result.width - left / dense.width) < 0.02, quick.bbox
    assert abs(quick.bbox[1] / result.height - drawn[1] / dense.height) < 0.02, quick.bbox
    # The page image shown with the boxes is the same geometry.
    with Image.open(io.BytesIO(data)) as im:
        shown = apply_geometry(
            im,
            rotation=result.rotation,
            skew=result.skew,
            size=(result.width, result.height),
            corners=result.photo["corners"],
        )
    assert shown.size == (result.width, result.height)


def test_shaded_page_is_flattened(engine, dense):
    # Without the fixes (measured): CER 1.0 (no words), a false skew of 4.76
    # degrees measured on the shadow.
    data = snap(sim.shaded(dense, np.random.default_rng(3)), 3)
    result = read(data, engine)
    assert result.photo == {"page_detected": False, "perspective": False, "flattened": True}
    assert abs(result.skew) < 0.3
    assert cer("\n".join(DENSE), result.text) < 0.05, result.text


def test_dim_page_with_bleed_through(engine, page, dense):
    # Tesseract reads this simulated page without the fixes too (CER 0.0, measured);
    # what they change is the light: the paper handed to the engine is white.
    data = snap(sim.dim_bleed(page, dense, np.random.default_rng(5)), 5, noise=5.0)
    with Image.open(io.BytesIO(data)) as im:
        assert np.median(np.asarray(im.convert("L"))) < 140  # dim paper
        prepared = preprocess(im, source_dpi=None, options=PreprocessOptions(rotate="off"))
    assert np.median(np.asarray(prepared.image.convert("L"))) > 230
    result = read(data, engine)
    assert result.photo == {"page_detected": False, "perspective": False, "flattened": True}
    assert cer(EXPECTED, result.text) < 0.05, result.text


def test_skew_is_measured_on_the_text_not_the_shadow(page, dense):
    # Otsu on the raw grey page found 4.76 degrees here (the shadow's edge).
    shaded = sim.camera(sim.shaded(dense, np.random.default_rng(3)), np.random.default_rng(3))
    assert abs(detect_skew(shaded.convert("L"))) < 0.3
    tilted = page.rotate(4, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    assert abs(detect_skew(tilted) - 4) <= 0.3


def test_a_multi_picture_jpeg_is_one_photo(page):
    # Phones write MPO (a JPEG with a multi-picture index); it was refused as
    # "Unsupported image format MPO" before.
    buf = io.BytesIO()
    rgb = page.convert("RGB")
    rgb.save(buf, "MPO", save_all=True, append_images=[rgb.resize((320, 225))])
    data = buf.getvalue()
    info = inputs.inspect_document(data, max_bytes=10**8, max_pixels=10**8, max_pages=10)
    assert (info.content_type, info.page_count) == ("image/jpeg", 1)
    (only,) = inputs.iter_image_pages(io.BytesIO(data), max_pixels=10**8)
    assert only.image.size == page.size and only.dpi is None
