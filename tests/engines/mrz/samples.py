"""Synthetic travel documents for the MRZ engine tests.

MRZ lines are rendered in the OCR-B font (Debian ``fonts-ocr-b``) at the ICAO
pitch of 10 characters per inch (Doc 9303 part 3: 2.54 mm), so a card at
300 dpi is 1011 x 638 px with a 30 px character pitch.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

OCRB_CANDIDATES = (
    "/usr/share/fonts/opentype/ocr-b/OCRB.otf",
    "/usr/share/fonts/truetype/ocr-b/OCRB.ttf",
)
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

# ICAO Doc 9303 specimens (part 4 TD3, part 5 TD1, part 6 TD2, part 7 MRV-A/B).
TD3 = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
TD1 = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
]
TD2 = [
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "D231458907UTO7408122F1204159<<<<<<<6",
]
MRVA = [
    "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
]
MRVB = [
    "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "L8988901C4XXX4009078F9612109<<<<<<<<",
]


def ocrb_path() -> str:
    for path in OCRB_CANDIDATES:
        if Path(path).exists():
            return path
    raise FileNotFoundError("OCR-B font missing: apt-get install fonts-ocr-b")


def render_document(
    lines: list[str],
    *,
    dpi: int = 300,
    size_mm: tuple[float, float] | None = None,
    header: bool = True,
) -> Image.Image:
    """A white document (card or passport page) with ``lines`` as its MRZ.

    ``size_mm`` defaults to ID-1 (85.6 x 54 mm) for 30-character lines, ID-2
    (105 x 74 mm) for 36 and ID-3 (125 x 88 mm) for 44. A photo box and some
    printed text sit above the MRZ when ``header`` is set.
    """
    if size_mm is None:
        size_mm = {30: (85.6, 54.0), 36: (105.0, 74.0), 44: (125.0, 88.0)}[len(lines[0])]
    px = dpi / 25.4
    width, height = round(size_mm[0] * px), round(size_mm[1] * px)
    img = Image.new("L", (width, height), 245)
    draw = ImageDraw.Draw(img)
    pitch = 2.54 * px
    font = ImageFont.truetype(ocrb_path(), round(pitch / 0.723))
    line_gap = 4.2 * px
    bottom_margin = 4.0 * px
    left = (width - pitch * len(lines[0])) / 2
    top0 = height - bottom_margin - line_gap * len(lines)
    for i, text in enumerate(lines):
        draw.text((left, top0 + i * line_gap), text, fill=20, font=font)
    if header:
        small = ImageFont.truetype(DEJAVU, round(2.2 * px))
        big = ImageFont.truetype(DEJAVU, round(3.2 * px))
        draw.text((4 * px, 3 * px), "UTOPIA  REPUBLIC OF UTOPIA  PASSPORT", fill=40, font=big)
        photo = (4 * px, 9 * px, 4 * px + 0.28 * width, min(top0 - 2 * px, 9 * px + 0.5 * height))
        draw.rectangle(photo, fill=150, outline=60, width=3)
        draw.ellipse(
            (photo[0] + 0.2 * (photo[2] - photo[0]), photo[1] + 0.15 * (photo[3] - photo[1]),
             photo[2] - 0.2 * (photo[2] - photo[0]), photo[1] + 0.6 * (photo[3] - photo[1])),
            fill=90,
        )  # fmt: skip
        x = photo[2] + 4 * px
        y = 9 * px
        for label in ("Surname / Nom", "ERIKSSON", "Given names / Prenoms", "ANNA MARIA",
                      "Date of birth  12 AUG 1974", "Sex F   Nationality UTOPIAN"):  # fmt: skip
            if y + 3 * px > top0 - 1 * px:
                break
            draw.text((x, y), label, fill=50, font=small)
            y += 3.4 * px
    return img


def photographed(img: Image.Image, *, seed: int = 1, blur: float = 1.2, noise: float = 10.0,
                 quality: int = 60) -> Image.Image:  # fmt: skip
    """``img`` as a phone photo: Gaussian blur, sensor noise, uneven light, JPEG."""
    rng = np.random.default_rng(seed)
    img = img.filter(ImageFilter.GaussianBlur(blur))
    arr = np.asarray(img, dtype=np.float32)
    h, w = arr.shape
    light = np.linspace(0.8, 1.0, w)[None, :] * np.linspace(1.0, 0.9, h)[:, None]
    arr = arr * light + rng.normal(0, noise, arr.shape)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    out.convert("RGB").save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def on_background(img: Image.Image, *, pad: int = 120, angle: float = 0.0,
                  seed: int = 2) -> Image.Image:  # fmt: skip
    """``img`` on a darker table, rotated by ``angle`` degrees (counter-clockwise)."""
    rnd = random.Random(seed)
    bg = Image.new("L", (img.width + 2 * pad, img.height + 2 * pad), 90 + rnd.randint(0, 30))
    bg.paste(img.convert("L"), (pad, pad))
    if angle:
        bg = bg.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=100)
    return bg
