"""PDF input with pypdfium2: page count, page rendering and the existing text layer.

Pure functions, no Django. Units: PDF sizes are in points (1/72 inch),
images in pixels, resolutions in DPI (pixels per inch).

* :func:`open_pdf` opens a document, telling a password-protected file
  (``encrypted_pdf``) from a broken one (``invalid_pdf``).
* :func:`render_pages` rasterises the selected pages ONE at a time: each
  page and its bitmap are closed before the next page is loaded, so memory
  stays flat whatever the page count. Huge pages get a lower DPI instead of a
  pixel bomb (``max_pixels``).
* :func:`page_text_layer` turns a page's text layer into a schema
  :class:`~app.pipeline.schema.Page` (words, lines, blocks; boxes in pixels
  of the page rendered at the same DPI), for ``pdf_text=use`` (OCRmyPDF's
  skip-text mode): pages with real text skip OCR.
"""

from __future__ import annotations

import ctypes
import math
import statistics
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from app.errors import OcrError
from app.pipeline import frames
from app.pipeline.schema import Block, Line, Page, Word

#: Default rendering resolution (what Tesseract reads best).
DEFAULT_DPI = 300
#: Default pixel budget of one rendered page (about A4 at 600 DPI is 35 MP).
DEFAULT_MAX_PIXELS = 40_000_000

#: A PDF file path, its bytes, a seekable binary file object, or an open document.
PdfInput = str | Path | bytes | IO[bytes]
PdfSource = PdfInput | pdfium.PdfDocument


def open_pdf(path: PdfInput) -> pdfium.PdfDocument:
    """Open a PDF (path, bytes or binary file); the caller closes it
    (``with open_pdf(p) as pdf:``).

    Raises :class:`OcrError` ``encrypted_pdf`` when the document needs a
    password to open (a PDF encrypted with an empty user password, i.e. with
    owner restrictions only, opens normally), and ``invalid_pdf`` when the
    file is not a PDF, is truncated beyond repair, or has no pages.
    """
    try:
        pdf = pdfium.PdfDocument(str(path) if isinstance(path, Path) else path)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise OcrError(
                "encrypted_pdf",
                "The PDF is password-protected; remove the password and upload it again.",
                field="file",
            ) from exc
        raise OcrError(
            "invalid_pdf", f"The file is not a readable PDF ({exc}).", field="file"
        ) from exc
    except (OSError, ValueError) as exc:
        raise OcrError("invalid_pdf", f"Cannot read the PDF: {exc}", field="file") from exc
    if len(pdf) < 1:
        pdf.close()
        raise OcrError("invalid_pdf", "The PDF has no pages.", field="file")
    return pdf


@contextmanager
def _document(source: PdfSource) -> Iterator[pdfium.PdfDocument]:
    """Yield an open document; close it afterwards only if we opened it here."""
    if isinstance(source, pdfium.PdfDocument):
        yield source
        return
    pdf = open_pdf(source)
    try:
        yield pdf
    finally:
        pdf.close()


def pdf_page_count(path: PdfSource) -> int:
    """Number of pages of the PDF. Raises ``encrypted_pdf`` / ``invalid_pdf``."""
    with _document(path) as pdf:
        return len(pdf)


def inspect_pdf(
    data: PdfSource, dpi: int = DEFAULT_DPI, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> tuple[int, int, int]:
    """``(page_count, width, height)``: the first page's size in pixels as
    :func:`render_pages` would render it at ``dpi`` under ``max_pixels``.

    ``data`` is the PDF's bytes (or a path/file). Raises ``encrypted_pdf`` /
    ``invalid_pdf`` (also when the first page cannot be loaded).
    """
    with _document(data) as pdf:
        page = _load_page(pdf, 1)
        try:
            w_pt, h_pt = page.get_size()
        finally:
            page.close()
        width, height = _render_size(w_pt, h_pt, effective_dpi(w_pt, h_pt, dpi, max_pixels))
        return len(pdf), width, height


def effective_dpi(
    width_pt: float, height_pt: float, dpi: int, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> int:
    """The DPI to render a ``width_pt`` x ``height_pt`` page at, at most ``dpi``.

    Lowered (never below 1) so that the image has at most ``max_pixels``
    pixels; ``max_pixels`` None or 0 means no limit.
    """
    dpi = max(1, int(dpi))
    if not max_pixels:
        return dpi
    area_in2 = max(width_pt, 1e-3) * max(height_pt, 1e-3) / (72.0 * 72.0)
    while dpi > 1 and _pixels(width_pt, height_pt, dpi) > max_pixels:
        dpi = min(dpi - 1, max(1, int(math.sqrt(max_pixels / area_in2))))
    return dpi


def _pixels(width_pt: float, height_pt: float, dpi: int) -> int:
    w, h = _render_size(width_pt, height_pt, dpi)
    return w * h


def _render_size(width_pt: float, height_pt: float, dpi: int) -> tuple[int, int]:
    """Bitmap size pypdfium2's ``render(scale=dpi/72)`` produces (it rounds up)."""
    scale = dpi / 72.0
    return math.ceil(width_pt * scale), math.ceil(height_pt * scale)


def _check_numbers(page_numbers: Iterable[int] | None, count: int) -> list[int]:
    if page_numbers is None:
        return list(range(1, count + 1))
    wanted = sorted(set(page_numbers))
    for n in wanted:
        if n < 1 or n > count:
            raise OcrError(
                "invalid_pages",
                f"Page {n} is out of range: the PDF has {count} page(s).",
                field="pages",
            )
    return wanted


def render_pages(
    path: PdfSource,
    page_numbers: Iterable[int] | None = None,
    dpi: int = DEFAULT_DPI,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    grayscale: bool = False,
) -> Iterator[tuple[int, Image.Image, int]]:
    """Yield ``(page_number, image, dpi_used)`` for the selected 1-based pages.

    ``page_numbers`` None means every page; pages come in ascending order.
    Each image is an independent ``RGB`` (``L`` with ``grayscale``, or when
    the rendered page is all grey: :func:`frames.grey_if_grey`) Pillow image
    on a white background, form fields drawn, of
    ``ceil(page_size_pt * dpi_used / 72)`` pixels; ``dpi_used`` is ``dpi``
    or less for a page that would exceed ``max_pixels`` pixels. Only one page
    is held by pdfium at a time.

    Raises ``encrypted_pdf`` / ``invalid_pdf`` (see :func:`open_pdf`),
    ``invalid_pages`` for a page out of range, and ``invalid_pdf`` when a page
    cannot be loaded.
    """
    with _document(path) as pdf:
        wanted = _check_numbers(page_numbers, len(pdf))
        with suppress(pdfium.PdfiumError):  # forms are optional
            pdf.init_forms()
        for number in wanted:
            page = _load_page(pdf, number)
            try:
                w_pt, h_pt = page.get_size()
                used = effective_dpi(w_pt, h_pt, dpi, max_pixels)
                bitmap = page.render(scale=used / 72.0, grayscale=grayscale, may_draw_forms=True)
                try:
                    image = bitmap.to_pil()
                    # L bitmaps share pdfium's buffer: copy before it is freed.
                    image = image.copy() if image.mode == "L" else image.convert("RGB")
                    image = frames.grey_if_grey(image)
                finally:
                    bitmap.close()
            finally:
                page.close()
            image.info["dpi"] = (used, used)
            yield number, image, used


def _load_page(pdf: pdfium.PdfDocument, number: int) -> pdfium.PdfPage:
    try:
        return pdf[number - 1]
    except (pdfium.PdfiumError, IndexError) as exc:
        raise OcrError(
            "invalid_pdf", f"Page {number} of the PDF cannot be read ({exc}).", field="file"
        ) from exc


# -- text layer -----------------------------------------------------------------

_SPACES = frozenset({0x20, 0x09, 0xA0, 0x2002, 0x2003, 0x2009, 0x200B, 0x3000})
_BREAKS = frozenset({0x0A, 0x0D, 0x0C, 0x2028, 0x2029})
_JUNK = frozenset({0xFFFD, 0xFFFE, 0xFFFF})


@dataclass(slots=True)
class _Char:
    text: str
    box: tuple[int, int, int, int]  # left, top, right, bottom in device pixels
    #: left, bottom, right, top in page space (points, y up): text runs along x
    #: here even on a /Rotate'd page, so word and line heuristics use this box.
    pt: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


def page_text_layer(
    path: PdfSource,
    page_number: int,
    dpi: int = DEFAULT_DPI,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    min_chars: int = 3,
) -> Page | None:
    """The page's existing text layer as a schema Page, or None when it has none.

    Word boxes are in pixels of the page as :func:`render_pages` renders it
    with the same ``dpi`` and ``max_pixels`` (page rotation and crop box are
    taken into account by pdfium's page-to-device transform). Words split on
    spaces, lines on pdfium's line breaks (or a jump backwards/downwards),
    blocks on a vertical gap larger than the median line height. Confidence
    is None (the text is not recognised, it is read).

    "Meaningful" text means at least ``min_chars`` letters or digits and
    mostly decodable characters (fonts without a Unicode map give U+FFFD).
    Raises ``encrypted_pdf`` / ``invalid_pdf`` / ``invalid_pages``.
    """
    with _document(path) as pdf:
        _check_numbers([page_number], len(pdf))
        page = _load_page(pdf, page_number)
        try:
            w_pt, h_pt = page.get_size()
            used = effective_dpi(w_pt, h_pt, dpi, max_pixels)
            width, height = _render_size(w_pt, h_pt, used)
            textpage = page.get_textpage()
            try:
                chars = _read_chars(page, textpage, width, height)
            finally:
                textpage.close()
        finally:
            page.close()
    alnum = sum(1 for c in chars if c is not None and c.text.isalnum())
    junk = sum(1 for c in chars if c is not None and ord(c.text[0]) in _JUNK)
    if alnum < min_chars or junk * 2 > alnum + junk:
        return None
    lines = _group_lines(chars)
    if not lines:
        return None
    return Page.from_blocks(
        number=page_number, width=width, height=height, blocks=_group_blocks(lines), dpi=used
    )


def _read_chars(
    page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, width: int, height: int
) -> list[_Char | None]:
    """Characters with pixel boxes; None marks a word break, ``"\\n"`` a line break."""
    out: list[_Char | None] = []
    count = textpage.count_chars()
    dx, dy = ctypes.c_int(), ctypes.c_int()

    def to_device(x: float, y: float) -> tuple[int, int]:
        pdfium_c.FPDF_PageToDevice(page, 0, 0, width, height, 0, x, y, dx, dy)
        return dx.value, dy.value

    i = 0
    while i < count:
        cp = pdfium_c.FPDFText_GetUnicode(textpage, i)
        index = i
        i += 1
        if 0xD800 <= cp < 0xDC00 and i < count:  # UTF-16 surrogate pair
            low = pdfium_c.FPDFText_GetUnicode(textpage, i)
            if 0xDC00 <= low < 0xE000:
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
                i += 1
        if cp in _BREAKS:
            out.append(_Char("\n", (0, 0, 0, 0)))
            continue
        if cp in _SPACES or cp < 0x20 or cp == 0xAD:
            out.append(None)
            continue
        left, bottom, right, top = textpage.get_charbox(index)
        if right - left <= 0 or top - bottom <= 0:
            left, bottom, right, top = textpage.get_charbox(index, loose=True)
        x0, y0 = to_device(left, top)
        x1, y1 = to_device(right, bottom)
        box = (
            max(0, min(x0, x1)),
            max(0, min(y0, y1)),
            min(width, max(x0, x1, min(x0, x1) + 1)),
            min(height, max(y0, y1, min(y0, y1) + 1)),
        )
        out.append(_Char(chr(cp), box, (left, bottom, right, top)))
    return out


def _group_lines(chars: list[_Char | None]) -> list[tuple[list[Word], tuple[float, float]]]:
    """Words per line, with each line's page-space (bottom, top) in points."""
    lines: list[tuple[list[Word], tuple[float, float]]] = []
    line: list[Word] = []
    span: list[float] = []  # bottoms and tops of the line's chars, page space
    word: list[_Char] = []

    def flush_word() -> None:
        if word:
            line.append(
                Word(
                    bbox=[
                        min(c.box[0] for c in word),
                        min(c.box[1] for c in word),
                        max(c.box[2] for c in word),
                        max(c.box[3] for c in word),
                    ],
                    text="".join(c.text for c in word),
                    confidence=None,
                )
            )
            span.extend(v for c in word for v in (c.pt[1], c.pt[3]))
            word.clear()

    def flush_line() -> None:
        flush_word()
        if line:
            lines.append((list(line), (min(span), max(span))))
            line.clear()
            span.clear()

    for ch in chars:
        if ch is None:
            flush_word()
            continue
        if ch.text == "\n":
            flush_line()
            continue
        prev = word[-1] if word else None
        if prev is not None:
            (pl, pb, pr, pt), (cl, cb, _, ct) = prev.pt, ch.pt
            h = max(pt - pb, ct - cb, 1e-3)
            mid = (cb + ct) / 2
            if cl < pl - h or not (pb - h / 2 <= mid <= pt + h / 2):
                flush_line()  # no line break char, but the text jumped to a new line
            elif cl - pr > 0.6 * h:
                flush_word()  # a wide gap without a space char
        word.append(ch)
    flush_line()
    return lines


def _group_blocks(lines: list[tuple[list[Word], tuple[float, float]]]) -> list[Block]:
    """Start a new block at a gap taller than the median line, or when text goes up.

    Decided in page space (points, y up), so a /Rotate'd page groups the same.
    """
    heights = [max(top - bottom, 1e-3) for _, (bottom, top) in lines]
    gap_limit = statistics.median(heights) if heights else 0.0
    blocks: list[list[Line]] = []
    prev_span: tuple[float, float] | None = None
    for words, (bottom, top) in lines:
        line = Line.from_words(words)
        if blocks and prev_span is not None:
            gap = prev_span[0] - top
            if gap <= gap_limit and top <= prev_span[1]:
                blocks[-1].append(line)
                prev_span = (bottom, top)
                continue
        blocks.append([line])
        prev_span = (bottom, top)
    return [Block.from_lines(b) for b in blocks]
