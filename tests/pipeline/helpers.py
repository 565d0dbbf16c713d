"""Test helpers for the pipeline: rendered text pages and a character error rate."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

# One implementation of the error rate for the whole suite.
from tests.imaging import cer, levenshtein, normalise

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

PANGRAMS = [
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs.",
    "Sphinx of black quartz, judge my vow today.",
    "How vexingly quick daft zebras jump at noon.",
    "Bright vixens jump; dozy fowl quack loudly.",
    "Waltz, nymph, for quick jigs vex Bud often.",
    "Jackdaws love my big sphinx of quartz stone.",
    "The five boxing wizards jump quickly again.",
]


def render_text_page(
    lines: list[str] = PANGRAMS,
    *,
    size: tuple[int, int] = (1275, 900),
    font_px: int = 28,
    margin: int = 90,
    pitch: float = 3.2,
) -> Image.Image:
    """A white ``L`` page with ``lines`` in DejaVuSans at ``font_px`` pixels."""
    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, font_px)
    for i, text in enumerate(lines):
        draw.text((margin, margin + i * font_px * pitch), text, font=font, fill=0)
    return img


__all__ = ["PANGRAMS", "cer", "levenshtein", "normalise", "render_text_page"]
