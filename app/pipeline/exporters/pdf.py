"""Searchable PDF export: each page image with an invisible, selectable text layer.

Built with ReportLab (``reportlab``), which writes the PDF objects, embeds a
subset of a TrueType font with a ``ToUnicode`` map (so text extracts as
Unicode) and passes JPEG data through untouched (``DCTDecode``).

Per page of the document (ISO 32000-1 references in brackets):

* The page size in points is the image size in pixels ``/ dpi * 72`` with the
  page's ``dpi`` (300 when unknown): a 2480 x 3508 px page at 300 dpi is
  595.2 x 841.92 pt (A4).
* The image from ``page_image(page.number)`` is drawn over the whole page.
  Colour and greyscale images are JPEG-encoded (quality :data:`JPEG_QUALITY`);
  bilevel (mode ``"1"``) images are kept lossless (Flate), where JPEG would
  be both larger and blurred. Each image is released once drawn, so only one
  decoded page image is in memory at a time (ReportLab keeps the encoded
  pages until the file is written).
* Every word is drawn in text render mode 3, "neither fill nor stroke"
  [9.3.6, ``3 Tr``], so it is invisible but selectable and searchable. The
  font size is chosen so the font's ascent-to-descent height equals the
  line's bbox height; the baseline sits the font's descent above the line's
  bbox bottom, and each word is horizontally scaled [9.3.4, ``Tz``] so its
  advance width equals its bbox width. A space follows each word but the last
  of its line, stretched to the next word, so extracted text has spaces
  between words and a line break between lines.

The font is DejaVu Sans (Debian ``fonts-dejavu-core``: Latin, Greek, Cyrillic
and more), embedded as a subset, when installed, else ReportLab's bundled
Bitstream Vera. A word with characters that font lacks is drawn, if it is
Korean, Japanese or Chinese, with one of the standard CJK CID fonts (Adobe
Korea1/Japan1/GB1 collections with the ``Uni*-UCS2-H`` CMaps, not embedded:
the text is invisible, and viewers map it to Unicode through the predefined
CMaps). Other scripts DejaVu lacks (e.g. Devanagari, Thai) lose those
characters in the text layer.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from typing import IO

from PIL import Image

from app.pipeline.schema import Document, PageResult, Word

#: Resolution assumed for pages whose ``dpi`` is unknown.
DEFAULT_DPI = 300
#: JPEG quality for colour and greyscale page images (Pillow scale 1-95).
JPEG_QUALITY = 75
#: Fonts tried in order for the text layer (the first that exists is embedded).
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)

PageImage = Callable[[int], Image.Image]

#: Standard (non-embedded) CID fonts for CJK words DejaVu cannot encode, by script.
CJK_FONTS = {
    "hangul": "HYSMyeongJo-Medium",
    "kana": "HeiseiMin-W3",
    "han": "STSong-Light",
}

_font_name: str | None = None
_font_chars: frozenset[int] = frozenset()
_cjk_registered = False


def _font() -> str:
    """Register (once per process) and return the name of the text-layer font."""
    global _font_name, _font_chars
    if _font_name is None:
        from reportlab import rl_config
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        path = next((p for p in FONT_CANDIDATES if os.path.exists(p)), None)
        if path is None:  # ReportLab ships Bitstream Vera in its fonts folder
            for folder in rl_config.TTFSearchPath:
                candidate = os.path.join(folder, "Vera.ttf")
                if os.path.exists(candidate):
                    path = candidate
                    break
        if path is None:
            raise RuntimeError("no TrueType font found for the PDF text layer")
        name = "OcrTextLayer-" + os.path.splitext(os.path.basename(path))[0]
        font = TTFont(name, path)
        pdfmetrics.registerFont(font)
        _font_chars = frozenset(font.face.charToGlyph)
        _font_name = name
    return _font_name


def _script(text: str) -> str | None:
    """``hangul``, ``kana`` or ``han`` for the first CJK character of ``text``, else None."""
    found = None
    for ch in text:
        cp = ord(ch)
        if 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F:
            return "hangul"
        if 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF:
            return "kana"
        if 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF:
            found = "han"
    return found


def _word_font(text: str, default: str) -> str:
    """``default`` when it has every character of ``text``, else a CJK CID font if one fits."""
    global _cjk_registered
    if all(ord(ch) in _font_chars for ch in text):
        return default
    script = _script(text)
    if script is None:
        return default
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if not _cjk_registered:
        for name in CJK_FONTS.values():
            pdfmetrics.registerFont(UnicodeCIDFont(name))
        _cjk_registered = True
    return CJK_FONTS[script]


class _JpegImage:
    """JPEG bytes in the shape ReportLab's ``drawImage`` accepts without decoding them.

    ``Canvas.drawImage`` names an image that is not an ``ImageReader`` by its
    ``str()`` (here the data's SHA-256, so identical pages are stored once),
    and ``PDFImageXObject`` copies the data of anything with ``jpeg_fh()``
    straight into a ``DCTDecode`` stream. An ``ImageReader`` would instead
    decode the JPEG to raw RGB just to hash it.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.key = "jpeg-" + hashlib.sha256(data).hexdigest()

    def jpeg_fh(self) -> io.BytesIO:
        return io.BytesIO(self.data)

    def __str__(self) -> str:
        return self.key


def _pdf_image(image: Image.Image) -> object:
    """What to hand ``Canvas.drawImage`` for ``image``: JPEG data, or a lossless bilevel image."""
    from reportlab.lib.utils import ImageReader

    if image.mode == "1":  # lossless, 8-bit grey + Flate (ReportLab has no 1-bit path)
        return ImageReader(image.convert("L"))
    if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, (255, 255, 255))
        image.paste(rgba, mask=rgba.getchannel("A"))
    elif image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=JPEG_QUALITY)
    return _JpegImage(buf.getvalue())


def page_size_points(page: PageResult) -> tuple[float, float]:
    """``(width, height)`` of ``page`` in PDF points: pixels / dpi * 72."""
    dpi = page.dpi or DEFAULT_DPI
    return page.width * 72.0 / dpi, page.height * 72.0 / dpi


def _draw_text_layer(canvas, page: PageResult, font: str) -> None:  # noqa: ANN001
    from reportlab.pdfbase import pdfmetrics

    face = pdfmetrics.getFont(font).face
    ascent, descent = face.ascent / 1000.0, -abs(face.descent) / 1000.0
    em_height = ascent - descent  # in font size units
    scale = 72.0 / (page.dpi or DEFAULT_DPI)
    page_h = page.height * scale

    text = canvas.beginText()
    text.setTextRenderMode(3)
    for block in page.blocks:
        for line in block.lines:
            words = [w for w in line.words if w.text.strip()]
            if not words and line.text.strip():
                words = [Word(bbox=line.bbox, text=line.text)]
            if not words:
                continue
            lbox = line.bbox
            line_h = (lbox[3] - lbox[1]) * scale
            if line_h <= 0:
                line_h = max((w.bbox[3] - w.bbox[1]) * scale for w in words)
            size = max(line_h / em_height, 1.0)
            baseline = page_h - lbox[3] * scale - descent * size
            for i, word in enumerate(words):
                content = " ".join(word.text.split())
                word_font = _word_font(content, font)
                text.setFont(word_font, size)
                left = word.bbox[0] * scale
                width = max((word.bbox[2] - word.bbox[0]) * scale, 0.1)
                natural = pdfmetrics.stringWidth(content, word_font, size) or width
                text.setTextOrigin(left, baseline)
                text.setHorizScale(100.0 * width / natural)
                text.textOut(content)
                if i + 1 < len(words):
                    gap = max((words[i + 1].bbox[0] - word.bbox[2]) * scale, 0.1)
                    space = pdfmetrics.stringWidth(" ", font, size) or gap
                    text.setHorizScale(100.0 * gap / space)
                    text.textOut(" ")
    canvas.drawText(text)


def write(
    document: Document,
    out: IO[bytes],
    *,
    page_image: PageImage,
    title: str | None = None,
) -> None:
    """Write ``document`` as a searchable PDF to ``out``.

    ``page_image(number)`` returns the Pillow image OCRed as page ``number``
    (the image whose pixels the boxes refer to); it is called once per page,
    in order, and the image is dropped after it is drawn.
    """
    from reportlab import rl_config

    use_a85 = rl_config.useA85
    rl_config.useA85 = 0  # binary streams: ASCII85 would make images 25 % larger
    try:
        _write(document, out, page_image=page_image, title=title)
    finally:
        rl_config.useA85 = use_a85


def _write(document: Document, out: IO[bytes], *, page_image: PageImage, title: str | None) -> None:
    from reportlab.pdfgen.canvas import Canvas

    font = _font()
    canvas = Canvas(out, pageCompression=1, initialFontName=font)
    system = " ".join(p for p in (document.engine, document.engine_version) if p)
    canvas.setCreator(f"onlineocr ({system})" if system else "onlineocr")
    if title:
        canvas.setTitle(title)
    for page in document.pages:
        width, height = page_size_points(page)
        canvas.setPageSize((width, height))
        reader = _pdf_image(page_image(page.number))
        canvas.drawImage(reader, 0, 0, width=width, height=height)
        del reader  # the page's decoded image is not kept (the caller may keep its own)
        _draw_text_layer(canvas, page, font)
        canvas.showPage()
    canvas.save()


def export_pdf(document: Document, *, page_image: PageImage, title: str | None = None) -> bytes:
    """``document`` as searchable PDF bytes (see :func:`write`)."""
    buf = io.BytesIO()
    write(document, buf, page_image=page_image, title=title)
    return buf.getvalue()
