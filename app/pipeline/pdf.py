"""PDF input with pypdfium2: page count, page rendering and the existing text layer.

Pure functions, no Django. Units: PDF sizes are in points (1/72 inch),
images in pixels, resolutions in DPI (pixels per inch).

* :func:`open_pdf` opens a document, telling a password-protected file
  (``encrypted_pdf``) from a broken one (``invalid_pdf``).
* :func:`page_sizes` sizes the pages pdfium can really read (a PDF's
  ``/Count`` is a claim, not a fact) without loading or rendering them;
  :func:`inspect_pdf` refuses at submission a page that would not fit
  ``max_pixels``, or :data:`frames.MAX_SIDE` pixels a side, even at
  ``min_dpi`` (``too_many_pixels``).
* :func:`render_pages` rasterises the selected pages ONE at a time: each
  page and its bitmap are closed before the next page is loaded, so memory
  stays flat whatever the page count. Huge pages get a lower DPI instead of a
  pixel bomb (``max_pixels``), long ones instead of a side Tesseract refuses
  (:data:`frames.MAX_SIDE`), and no page is ever rendered over either,
  whatever size the PDF declares: peak memory per page is
  about 7 bytes per pixel (pdfium's 3-byte RGB bitmap, then Pillow's 4-byte
  copy), ~420 MB at 60 MP. Nor does a page whose embedded images declare
  more than ``max_pixels`` pixels each (:func:`check_page_images`): pdfium
  decodes some images at their full size whatever size they are drawn at.

Page size: what pdfium renders is the page's CropBox intersected with its
MediaBox, turned by ``/Rotate`` (PDF 32000-1:2008, 14.11.2 "Page
Boundaries" and 7.7.3.3 "Page Objects", Table 30). pdfium ignores
``/UserUnit`` (PDF 32000-1, Table 30; pypdfium2 documents that it is not
taken into account), so sizes here are in default user-space units of
1/72 inch ("points") as pdfium renders them, and the DPI given is per such
unit.
* :func:`page_text_layer` turns a page's text layer into a schema
  :class:`~app.pipeline.schema.PageResult` (words, lines, blocks; boxes in pixels
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
from app.pipeline.schema import Block, Line, PageResult, Word

#: Default rendering resolution (what Tesseract reads best).
DEFAULT_DPI = 300
#: Default pixel budget of one rendered page (about A4 at 600 DPI is 35 MP).
DEFAULT_MAX_PIXELS = 40_000_000
#: Default lowest useful DPI (``OCR_PDF_MIN_DPI``): 72 DPI is one pixel per
#: PDF point, so 10 pt body text is ~10 px tall, already below what Tesseract
#: reads (it wants 20+ px capitals; accuracy "drops off below 10pt x 300dpi",
#: tessdoc ImproveQuality), and only poster-size text (>= 24 pt) stays
#: readable. A page that fits the pixel budget only below this is refused
#: (``too_many_pixels``) rather than OCRed into nothing. At 60 MP it still
#: admits pages up to ~107 x 107 in (e.g. A0 posters at 2x).
DEFAULT_MIN_DPI = 72

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


def _page_size(pdf: pdfium.PdfDocument, index: int) -> tuple[float, float] | None:
    """Page ``index`` (0-based) size in points as pdfium renders it, or None when
    pdfium cannot read that page. Reads the page dictionary only
    (``FPDF_GetPageSizeByIndexF``): no content stream is parsed, nothing rendered."""
    try:
        return pdf.get_page_size(index)
    except pdfium.PdfiumError:
        return None


def page_sizes(
    source: PdfSource, *, max_pages: int | None = None, scan: int = 0, field: str = "image"
) -> list[tuple[float, float]]:
    """``[(width_pt, height_pt), ...]`` of the PDF's real pages, page 1 first.

    A PDF's page count is what its page tree's ``/Count`` claims (pdfium trusts
    it), so a 200-byte file can declare 400 (or a million) pages it does not
    have. The real pages are the leading run of pages pdfium can size: counting
    stops at the first page it cannot read, and the pages after it are never
    rendered. Sizes are CropBox-within-MediaBox, ``/Rotate`` applied, in
    points (see the module docstring); each lookup costs microseconds (a
    genuine 500-page PDF is sized in ~3 ms), nothing is loaded or rendered.

    ``max_pages``: raise ``too_many_pages`` as soon as more real pages than
    that are found (so a huge document is not sized to the end). ``scan``:
    after the first unreadable page, also look up to that many further
    declared pages, and raise ``invalid_pdf`` naming the unreadable page if a
    readable one follows (a hole in the middle of the document, which would
    otherwise silently lose the pages after it); submission checks pass
    ``OCR_MAX_PAGES``, so the cost stays bounded by it whatever ``/Count``
    says. Raises ``encrypted_pdf`` / ``invalid_pdf`` (see :func:`open_pdf`;
    also when not even page 1 can be read).
    """
    with _document(source) as pdf:
        declared = len(pdf)
        sizes: list[tuple[float, float]] = []
        for index in range(declared):
            size = _page_size(pdf, index)
            if size is None:
                break
            sizes.append(size)
            if max_pages is not None and len(sizes) > max_pages:
                raise OcrError(
                    "too_many_pages",
                    f"The PDF has more than {max_pages} pages; the limit is {max_pages}.",
                    field=field,
                )
        bad = len(sizes)
        for index in range(bad + 1, min(declared, bad + 1 + max(0, scan))):
            if _page_size(pdf, index) is not None:
                raise OcrError(
                    "invalid_pdf",
                    f"Page {bad + 1} of the PDF cannot be read, but page {index + 1} can.",
                    field="file",
                )
    if not sizes:
        raise OcrError("invalid_pdf", "Page 1 of the PDF cannot be read.", field="file")
    return sizes


def pdf_page_count(path: PdfSource) -> int:
    """Number of real pages of the PDF (:func:`page_sizes`, not the declared ``/Count``).

    Raises ``encrypted_pdf`` / ``invalid_pdf``.
    """
    return len(page_sizes(path))


def inspect_pdf(
    data: PdfSource,
    dpi: int = DEFAULT_DPI,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    *,
    min_dpi: int = DEFAULT_MIN_DPI,
    max_pages: int | None = None,
    field: str = "image",
) -> tuple[int, int, int]:
    """``(page_count, width, height)``: the number of real pages
    (:func:`page_sizes`) and the first page's size in pixels as
    :func:`render_pages` would render it at ``dpi`` under ``max_pixels``.

    EVERY page is checked, from its size in points (nothing is rendered): a
    page that exceeds ``max_pixels``, or :data:`frames.MAX_SIDE` pixels a
    side, even at ``min_dpi`` (:func:`effective_dpi`) raises
    ``too_many_pixels`` (413, ``field``) naming it. ``max_pages`` bounds the
    real page count (``too_many_pages``). ``data`` is the PDF's bytes (or a
    path/file). Raises ``encrypted_pdf`` / ``invalid_pdf`` too.
    """
    sizes = page_sizes(data, max_pages=max_pages, scan=max_pages or 0, field=field)
    for number, (w_pt, h_pt) in enumerate(sizes, 1):
        try:
            effective_dpi(w_pt, h_pt, dpi, max_pixels, min_dpi=min_dpi)
        except OcrError as exc:
            message = exc.message[:1].lower() + exc.message[1:]
            refused = OcrError(exc.code, f"Page {number}: {message}", field=field)
            refused.page = number
            raise refused from None
    w_pt, h_pt = sizes[0]
    width, height = _render_size(w_pt, h_pt, effective_dpi(w_pt, h_pt, dpi, max_pixels))
    return len(sizes), width, height


def effective_dpi(
    width_pt: float,
    height_pt: float,
    dpi: int,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    *,
    min_dpi: int = 1,
) -> int:
    """The DPI to render a ``width_pt`` x ``height_pt`` page (points) at: the
    highest DPI from ``min_dpi`` to ``dpi`` at which the bitmap pdfium renders
    (:func:`_render_size`) has at most ``max_pixels`` pixels and no side over
    :data:`frames.MAX_SIDE` pixels (32,767: the longest Tesseract reads, see
    there). A 14400 x 1 pt strip (200 in long) is 60000 x 5 px at 300 DPI,
    only 0.3 MP, so it is the side, not the pixel budget, that brings it down
    to 163 DPI (32600 x 3 px).

    ``max_pixels`` None or 0 means no pixel limit (the side limit still
    holds). ``min_dpi`` is capped at ``dpi``. Raises
    ``OcrError("too_many_pixels")`` (413) when the page exceeds either limit
    even at ``min_dpi``: the render paths use ``min_dpi=1`` (a last guard: no
    bitmap over ``max_pixels`` or :data:`frames.MAX_SIDE` is ever allocated),
    the submission check the lowest useful DPI (``OCR_PDF_MIN_DPI``).
    """
    dpi = max(1, int(dpi))
    floor = max(1, min(int(min_dpi), dpi))
    width_pt, height_pt = abs(width_pt), abs(height_pt)
    # Highest DPI whose longest side fits: ceil(side_pt * dpi / 72) <= MAX_SIDE.
    side_dpi = int(frames.MAX_SIDE * 72.0 / max(width_pt, height_pt, 1e-3))
    dpi = max(floor, min(dpi, side_dpi))
    while dpi > floor and _longest(width_pt, height_pt, dpi) > frames.MAX_SIDE:
        dpi -= 1  # float rounding only: at most a step or two
    if max_pixels:
        area_in2 = max(width_pt, 1e-3) * max(height_pt, 1e-3) / (72.0 * 72.0)
        while dpi > floor and _pixels(width_pt, height_pt, dpi) > max_pixels:
            dpi = max(floor, min(dpi - 1, int(math.sqrt(max_pixels / area_in2))))
    w, h = _render_size(width_pt, height_pt, dpi)
    if max_pixels and w * h > max_pixels:
        raise OcrError(
            "too_many_pixels",
            f"The page is {width_pt:,.0f} x {height_pt:,.0f} pt, {w:,} x {h:,} = {w * h:,} "
            f"pixels even at {dpi} DPI; the limit is {max_pixels:,} pixels.",
            field="image",
        )
    if max(w, h) > frames.MAX_SIDE:
        raise OcrError(
            "too_many_pixels",
            f"The page is {width_pt:,.0f} x {height_pt:,.0f} pt, {w:,} x {h:,} px even at "
            f"{dpi} DPI; the longest side OCR can read is {frames.MAX_SIDE:,} px.",
            field="image",
        )
    return dpi


def _longest(width_pt: float, height_pt: float, dpi: int) -> int:
    return max(_render_size(width_pt, height_pt, dpi))


def _pixels(width_pt: float, height_pt: float, dpi: int) -> int:
    w, h = _render_size(width_pt, height_pt, dpi)
    return w * h


def _render_size(width_pt: float, height_pt: float, dpi: int) -> tuple[int, int]:
    """Bitmap size pypdfium2's ``render(scale=dpi/72)`` produces (it rounds up)."""
    scale = dpi / 72.0
    return math.ceil(width_pt * scale), math.ceil(height_pt * scale)


#: How deep :func:`check_page_images` descends into nested Form XObjects (pypdfium2's
#: default is 15; a test nests 30). pdfium bounds its own form nesting below this.
_MAX_FORM_DEPTH = 64
#: Image filters whose stream carries its own pixel size (PDF 32000-1, 7.4.8
#: DCTDecode, 7.4.9 JPXDecode); pdfium decodes the size the stream says.
_SELF_SIZED = frozenset({"DCTDecode", "DCT", "JPXDecode"})


def check_page_images(page: pdfium.PdfPage, number: int, max_pixels: int | None) -> None:
    """Refuse a page with an embedded image over ``max_pixels`` pixels, before
    anything is decoded.

    An image XObject (PDF 32000-1:2008, 8.9.5 "Image Dictionaries") declares
    its ``/Width`` x ``/Height`` in pixels, independently of the size it is
    drawn at, and pdfium decodes some images whole at that size: measured at
    20000 x 20000 declared pixels drawn on a Letter page at 300 DPI, a
    progressive JPEG peaks at ~850 MB (libjpeg's coefficient buffers, 2 bytes
    a pixel), a JBIG2 image at ~160 MB (~500 MB at 60000 x 60000), while
    Flate and baseline JPEG images are streamed through pdfium's scaler
    (~110 MB). So each image is held to the limit an uploaded image has
    (``max_pixels``, ``OCR_MAX_PIXELS``), whatever its filter: that bounds
    the worst decode at ~2 bytes x ``max_pixels`` (~120 MB at 60 MP, less
    than the page bitmap itself) and the CPU time of the streamed ones.

    Sizes are what pdfium reads without decoding
    (``FPDFImageObj_GetImagePixelSize``), for the page's images, its inline
    images (8.9.7) and those of its Form XObjects (8.10) at any depth; for
    DCT and JPX images the larger of that and the size in the stream's own
    header (JPEG SOF, JPEG 2000 SIZ): a progressive JPEG whose dictionary
    says 100 x 100 but whose SOF says 20000 x 20000 was measured at ~880 MB
    (the JPX case is read the same way, not measured). Not seen (pdfium
    does not expose them): soft masks (``/SMask``, 11.6.5.3; ~540 MB at
    20000 x 20000) and images inside tiling patterns (8.7.3.1). Inline
    images are checked only once the page is parsed, and pdfium inflates
    their data while parsing (~800 MB from 380 KB, whatever size they declare).

    ``number`` (1-based) names the page in the error. ``max_pixels`` None or
    0 means no limit. Raises ``OcrError("too_many_pixels")`` (413, field
    ``image``, ``.page`` set).
    """
    if not max_pixels:
        return
    images = page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=_MAX_FORM_DEPTH)
    for image in images:
        try:
            width, height = image.get_px_size()
        except pdfium.PdfiumError:
            continue  # no image stream: pdfium draws nothing
        if width * height <= max_pixels and _SELF_SIZED.intersection(image.get_filters()):
            own = _stream_size(bytes(image.get_data(decode_simple=True)))
            if own and own[0] * own[1] > width * height:
                width, height = own
        if width * height > max_pixels:
            refused = OcrError(
                "too_many_pixels",
                f"Page {number}: an embedded image declares {width:,}x{height:,} = "
                f"{width * height:,} pixels; the limit is {max_pixels:,} per image.",
                field="image",
            )
            refused.page = number
            raise refused


#: JPEG start-of-frame markers (ITU T.81, B.1.1.3, Table B.1): all but DHT
#: (C4), JPG (C8) and DAC (CC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _stream_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a JPEG's first SOF (ITU T.81, B.2.2; found as
    pdfium does, after the first SOI anywhere in the data) or a JPEG 2000
    codestream's SIZ (ISO 15444-1, A.5.1: Xsiz - XOsiz, Ysiz - YOsiz), else None."""
    siz = data.find(b"\xff\x4f\xff\x51")
    if siz >= 0 and len(data) >= siz + 24:
        x, y, xo, yo = (int.from_bytes(data[siz + o : siz + o + 4], "big") for o in (8, 12, 16, 20))
        return max(0, x - xo), max(0, y - yo)
    at = data.find(b"\xff\xd8")
    if at < 0:
        return None
    at += 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _SOF and at + 9 <= len(data):
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            return int.from_bytes(data[at + 7 : at + 9], "big"), height
        if marker == 0xDA:  # start of scan: no frame header before it
            return None
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return None


def _check_numbers(page_numbers: Iterable[int] | None, pdf: pdfium.PdfDocument) -> list[int]:
    """The sorted pages to read: every real page (:func:`page_sizes`) for None,
    else ``page_numbers`` checked against the declared count (``invalid_pages``;
    a declared page pdfium cannot load is ``invalid_pdf`` when it is loaded)."""
    if page_numbers is None:
        return list(range(1, pdf_page_count(pdf) + 1))
    count = len(pdf)
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
    or less for a page that would exceed ``max_pixels`` pixels or
    :data:`frames.MAX_SIDE` pixels a side (:func:`effective_dpi`). Only one page
    is held by pdfium at a time.

    Raises ``encrypted_pdf`` / ``invalid_pdf`` (see :func:`open_pdf`),
    ``invalid_pages`` for a page out of range, ``invalid_pdf`` when a page
    cannot be loaded (``page_numbers`` None reads the real pages only,
    :func:`page_sizes`), and
    ``too_many_pixels`` for a page over ``max_pixels`` or
    :data:`frames.MAX_SIDE` a side even at 1 DPI (never
    rendered; submission refuses those, see :func:`inspect_pdf`) or with an
    embedded image over ``max_pixels`` (:func:`check_page_images`; checked
    here only, as loading every page at submission would parse every content
    stream in the web process).

    Memory: the page's bitmap is allocated by pypdfium2 at exactly the final
    size (checked against ``max_pixels`` first), rendered as RGB so that
    Pillow's copy needs no conversion, and pdfium's image cache is limited
    (``FPDF_RENDER_LIMITEDIMAGECACHE``).
    """
    with _document(path) as pdf:
        wanted = _check_numbers(page_numbers, pdf)
        with suppress(pdfium.PdfiumError):  # forms are optional
            pdf.init_forms()
        for number in wanted:
            page = _load_page(pdf, number)
            try:
                w_pt, h_pt, used = _checked_page_dpi(page, number, dpi, max_pixels)
                bitmap = page.render(
                    scale=used / 72.0,
                    grayscale=grayscale,
                    may_draw_forms=True,
                    rev_byteorder=True,
                    limit_image_cache=True,
                )
                try:
                    image = bitmap.to_pil()
                    # L bitmaps share pdfium's buffer: copy before it is freed.
                    if image.readonly or image.mode == "L":
                        image = image.copy()
                    if image.mode not in ("L", "RGB"):
                        image = image.convert("RGB")
                    image = frames.grey_if_grey(image)
                finally:
                    bitmap.close()
            finally:
                page.close()
            image.info["dpi"] = (used, used)
            yield number, image, used


def _checked_page_dpi(
    page: pdfium.PdfPage, number: int, dpi: int, max_pixels: int | None
) -> tuple[float, float, int]:
    """``(width_pt, height_pt, dpi_used)`` of a loaded page about to be rendered or read.

    The page's size at :func:`effective_dpi` (down to 1 DPI) and its embedded
    images (:func:`check_page_images`) must fit ``max_pixels``; otherwise
    ``too_many_pixels`` with ``page`` set to ``number``, so a job's error names it.
    """
    w_pt, h_pt = page.get_size()
    try:
        used = effective_dpi(w_pt, h_pt, dpi, max_pixels)
    except OcrError as exc:
        exc.page = number
        raise
    check_page_images(page, number, max_pixels)
    return w_pt, h_pt, used


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
) -> PageResult | None:
    """The page's existing text layer as a schema Page, or None when it has none.

    Word boxes are in pixels of the page as :func:`render_pages` renders it
    with the same ``dpi`` and ``max_pixels`` (page rotation and crop box are
    taken into account by pdfium's page-to-device transform). Words split on
    spaces, lines on pdfium's line breaks (or a jump backwards/downwards),
    blocks on a vertical gap larger than the median line height. Confidence
    is None (the text is not recognised, it is read).

    "Meaningful" text means at least ``min_chars`` letters or digits and
    mostly decodable characters (fonts without a Unicode map give U+FFFD).
    Raises ``encrypted_pdf`` / ``invalid_pdf`` / ``invalid_pages`` /
    ``too_many_pixels`` (as :func:`render_pages`).
    """
    with _document(path) as pdf:
        _check_numbers([page_number], pdf)
        page = _load_page(pdf, page_number)
        try:
            w_pt, h_pt, used = _checked_page_dpi(page, page_number, dpi, max_pixels)
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
    return PageResult.from_blocks(
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
