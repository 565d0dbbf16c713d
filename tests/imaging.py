"""Render real text images with Pillow and DejaVu fonts, and measure OCR error rates."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = FONT_DIR / "DejaVuSans.ttf"
SERIF = FONT_DIR / "DejaVuSerif.ttf"

PARAGRAPH = [
    "Optical character recognition turns images",
    "of typed or printed text into machine text.",
    "Scanned letters, invoices and old books are",
    "read by the engine line by line and word by word.",
]


@dataclass
class Rendered:
    """A rendered page: the image, its lines, and each word's drawn box (pixels)."""

    image: Image.Image
    lines: list[str]
    word_boxes: list[tuple[str, tuple[int, int, int, int]]]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.image.save(buf, "PNG")
        return buf.getvalue()

    def encoded(self, fmt: str, **kwargs) -> bytes:
        buf = io.BytesIO()
        image = self.image.convert("RGB") if fmt in ("JPEG", "BMP", "WEBP") else self.image
        image.save(buf, fmt, **kwargs)
        return buf.getvalue()


def render_text(
    lines: list[str] | None = None,
    *,
    size: int = 32,
    margin: int = 60,
    line_gap: float = 1.6,
    font: Path = FONT,
    width: int | None = None,
) -> Rendered:
    """Draw ``lines`` black on white (mode L) and record every word's ink box."""
    lines = lines or PARAGRAPH
    face = ImageFont.truetype(str(font), size)
    line_height = int(size * line_gap)
    text_width = max(int(face.getlength(line)) for line in lines)
    w = width or text_width + 2 * margin
    h = line_height * len(lines) + 2 * margin
    image = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(image)
    boxes: list[tuple[str, tuple[int, int, int, int]]] = []
    for i, line in enumerate(lines):
        y = margin + i * line_height
        x = margin
        for word in line.split(" "):
            draw.text((x, y), word, font=face, fill=0)
            left, top, right, bottom = draw.textbbox((x, y), word, font=face)
            boxes.append((word, (left, top, right, bottom)))
            x += int(face.getlength(word + " "))
    return Rendered(image=image, lines=lines, word_boxes=boxes)


def degrade(
    image: Image.Image, *, blur: float = 0.8, noise: int = 12, seed: int = 1
) -> Image.Image:
    """Blur and add salt-and-pepper-like Gaussian noise, as a scan or photo would."""
    rng = random.Random(seed)
    out = image.filter(ImageFilter.GaussianBlur(blur)).convert("L")
    px = out.load()
    for _ in range(out.width * out.height // 50):
        x, y = rng.randrange(out.width), rng.randrange(out.height)
        px[x, y] = max(0, min(255, px[x, y] + rng.randint(-noise * 4, noise * 4)))
    return out


def levenshtein(a: str, b: str) -> int:
    """Edit distance between two strings (insertions, deletions, substitutions)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def normalise(text: str) -> str:
    return " ".join(text.split())


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: edit distance / reference length (white space folded)."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    return levenshtein(ref, hyp) / max(1, len(ref))


def text_pdf(pages: int, line: str = "read page by page.") -> bytes:
    """A PDF of ``pages`` rendered text pages ("Page N of a document" and ``line``),
    100 DPI, made with Pillow: a multi-page job for the worker tests."""
    images = [
        render_text([f"Page {n} of a document", line]).image.convert("RGB")
        for n in range(1, pages + 1)
    ]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=100)
    return buf.getvalue()
