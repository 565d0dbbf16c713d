"""The photo set's camera simulation (bench/photos.py) on a page rendered here.

Checks what the benchmark relies on: a photo is the same pixels on every run
(seeded), the sideways-by-EXIF JPEG shows the page upright once EXIF-transposed
(as viewers and the service do) while its stored pixels are turned, and the
phone-like 72 DPI is what Pillow reports for it.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from tests.imaging import render_text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import photos  # noqa: E402


def _page() -> Image.Image:
    return render_text(size=40).image


def test_perspective_is_deterministic_and_keeps_the_background() -> None:
    one = photos.perspective(_page(), np.random.default_rng(7))
    two = photos.perspective(_page(), np.random.default_rng(7))
    assert np.array_equal(one, two)
    # The frame's corner is table, not paper: darker than the paper by far.
    assert one[5, 5].mean() < 0.6 * photos.PAPER.mean()
    assert one.shape == (photos.FRAME[1], photos.FRAME[0], 3)


def test_exif_sideways_jpeg_is_upright_once_transposed() -> None:
    upright = photos.camera(photos.paper_rgb(photos.flat(_page())), np.random.default_rng(1))
    data = photos.jpeg(upright.transpose(Image.Transpose.ROTATE_90), orientation=6)
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.size == (upright.height, upright.width)
        assert stored.getexif()[photos.ORIENTATION] == 6
        assert stored.info["dpi"] == (72, 72)
        shown = ImageOps.exif_transpose(stored)
    assert shown.size == upright.size
    diff = np.abs(np.asarray(shown, np.int16) - np.asarray(upright, np.int16)).mean()
    assert diff < 4  # JPEG noise only; turned the wrong way it would be tens of levels


def test_word_recall_counts_a_multiset() -> None:
    import accuracy

    assert accuracy.word_recall("the cat, the hat", "the hat cat") == 0.75
    assert accuracy.word_recall("Über alles.", "tiber alles") == 0.5
