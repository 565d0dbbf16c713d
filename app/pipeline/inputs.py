"""Inputs: bytes from an upload, base64 or a URL -> a checked document -> page images.

Everything here is pure (no ORM): it checks a document by its content (magic
bytes, never the file name), refuses what it cannot safely decode, and yields
page images one at a time.

Errors (``OcrError`` codes, docs/errors.md): ``invalid_image`` (empty, truncated,
undecodable, bad base64), ``unsupported_format``, ``file_too_large``,
``too_many_pixels`` (over ``max_pixels``, or a side over
:data:`frames.MAX_SIDE` pixels), ``too_many_pages``, ``invalid_pdf``, ``encrypted_pdf``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import OcrError
from app.pipeline import frames

#: Content types accepted, detected from the first bytes of the file.
IMAGE_TYPES: dict[str, str] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/apng": "PNG",
    "image/tiff": "TIFF",
    "image/bmp": "BMP",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}
PDF_TYPE = "application/pdf"
#: Pillow's names of a JPEG file: ``MPO`` is a JPEG with a CIPA DC-007 multi-picture
#: index (phones add one for a depth or HDR gain map); its first picture is the
#: photo, read as a JPEG (one page: :func:`app.pipeline.frames.frame_count`).
_JPEG_FORMATS = frozenset({"JPEG", "MPO"})

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(;[\w-]+=[^;,]*)*;base64,", re.I)

# Pillow's own bomb guard; we check our (lower) limit before decoding anyway.
Image.MAX_IMAGE_PIXELS = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What a checked document is: ``content_type``, ``page_count``, first page size (px)."""

    content_type: str
    page_count: int
    width: int
    height: int


def decode_base64(value: str, *, field: str = "image_base64") -> bytes:
    """Decode a bare base64 string or a ``data:<mime>;base64,...`` URI.

    White space is ignored; URL-safe alphabet is accepted. Raises
    ``OcrError("invalid_image")`` for anything that is not base64.
    """
    text = value.strip()
    match = _DATA_URI.match(text)
    if match:
        text = text[match.end() :]
    elif text.lower().startswith("data:"):
        raise OcrError("invalid_image", "The data: URI must be base64-encoded.", field=field)
    text = re.sub(r"\s+", "", text)
    if "-" in text or "_" in text:
        text = text.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise OcrError("invalid_image", f"{field} is not valid base64.", field=field) from None
    if not data:
        raise OcrError("invalid_image", f"{field} is empty.", field=field)
    return data


def sniff_content_type(head: bytes) -> str | None:
    """The content type from a file's first bytes (at least 262), or None if unknown."""
    if head[:5] == b"%PDF-" or (b"%PDF-" in head[:1024]):
        return PDF_TYPE
    kind = filetype.guess(head)
    return kind.mime if kind else None


def _open_image(source: bytes | str | Path | IO[bytes], field: str) -> Image.Image:
    fp = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(fp)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise OcrError(
            "invalid_image", f"The image cannot be read: {exc.__class__.__name__}.", field=field
        ) from None


def _check_pixels(im: Image.Image, max_pixels: int, field: str) -> None:
    """Refuse the current frame, from its declared size (nothing decoded), when it
    has no pixels (``invalid_image``), more than ``max_pixels`` pixels, or a side
    over :data:`frames.MAX_SIDE` pixels (``too_many_pixels``, 413)."""
    width, height = im.size
    if width <= 0 or height <= 0:
        raise OcrError("invalid_image", "The image has no pixels.", field=field)
    if width * height > max_pixels:
        raise OcrError(
            "too_many_pixels",
            f"The image is {width}x{height} = {width * height:,} pixels; "
            f"the limit is {max_pixels:,}.",
            field=field,
        )
    frames.check_sides(width, height, field=field)


@contextlib.contextmanager
def _unreadable_is_invalid(field: str) -> Iterator[None]:
    """Turn Pillow's errors on a broken frame into ``OcrError("invalid_image")``."""
    try:
        yield
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise OcrError(
            "invalid_image",
            f"The image is truncated or corrupt ({exc.__class__.__name__}).",
            field=field,
        ) from None


def _decode_fully(im: Image.Image, field: str) -> None:
    """Decode the current frame's pixels; ``invalid_image`` when that fails."""
    with _unreadable_is_invalid(field):
        im.load()


def _check_complete(im: Image.Image, field: str) -> None:
    """Refuse a truncated or corrupt frame, as cheaply as its format allows.

    PNG: every chunk is read and its CRC checked up to ``IEND`` (Pillow's
    ``verify``), without inflating the pixels (measured 0.3 s -> 8 ms for the
    15 bench pages). JPEG: decoded at 1/8 scale (libjpeg's DCT scaling still
    reads every entropy-coded byte, so truncation is caught; 3x faster).
    Other formats: decoded fully. A PNG whose compressed data is corrupt under
    valid CRCs passes here and fails its job with ``invalid_image``.
    """
    with _unreadable_is_invalid(field):
        if im.format == "PNG":
            im.verify()
            return
        if im.format == "JPEG":
            im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
        im.load()


def inspect_document(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    max_pages: int,
    field: str = "image",
    pdf_dpi: int = 300,
    pdf_min_dpi: int = 72,
) -> DocumentInfo:
    """Check a submitted document without OCR and describe it.

    Images are checked for completeness (:func:`_check_complete`: truncated
    files are refused at submission) after their declared size was checked
    against ``max_pixels`` and its sides against :data:`frames.MAX_SIDE`
    pixels, the longest Tesseract reads (so a 30000x30000 PNG of a few KB,
    or a 60000x30 one, is refused before any pixel is decoded).
    Each frame of a multi-page TIFF is checked the same way. ``max_bytes``
    bounds the file size in bytes, ``max_pages`` the number of pages.

    PDFs: ``page_count`` is the number of pages pdfium can really read, not
    the declared ``/Count`` (:func:`app.pipeline.pdf.page_sizes`), and every
    page's size (points, read without rendering) must fit ``max_pixels``
    pixels and :data:`frames.MAX_SIDE` pixels a side when rendered at
    ``pdf_dpi`` lowered as far as ``pdf_min_dpi``
    (``OCR_PDF_DPI`` / ``OCR_PDF_MIN_DPI``), else ``too_many_pixels`` (413)
    naming the page. ``width``/``height`` are page 1's pixels as rendered.
    """
    if not data:
        raise OcrError("invalid_image", "The file is empty.", field=field)
    if len(data) > max_bytes:
        raise OcrError(
            "file_too_large",
            f"The file is {len(data):,} bytes; the limit is {max_bytes:,}.",
            field=field,
        )
    content_type = sniff_content_type(data[:2048])
    if content_type == PDF_TYPE:
        return _inspect_pdf(
            data,
            max_pixels=max_pixels,
            max_pages=max_pages,
            field=field,
            dpi=pdf_dpi,
            min_dpi=pdf_min_dpi,
        )
    if content_type not in IMAGE_TYPES:
        raise OcrError(
            "unsupported_format",
            "Unsupported file type"
            + (f" ({content_type})" if content_type else "")
            + ". Send JPEG, PNG, TIFF, BMP, GIF, WebP or PDF.",
            field=field,
        )
    im = _open_image(data, field)
    with im:
        if im.format not in IMAGE_TYPES.values() and im.format not in _JPEG_FORMATS:
            raise OcrError(
                "unsupported_format", f"Unsupported image format {im.format}.", field=field
            )
        count = frames.frame_count(im)
        if count > max_pages:
            raise OcrError(
                "too_many_pages",
                f"The file has {count} pages; the limit is {max_pages}.",
                field=field,
            )
        first = im.size
        for index in range(count):
            if count > 1:
                im.seek(index)
            _check_pixels(im, max_pixels, field)
            _check_complete(im, field)
    return DocumentInfo(
        content_type=_canonical(content_type), page_count=count, width=first[0], height=first[1]
    )


def _canonical(content_type: str) -> str:
    return "image/png" if content_type == "image/apng" else content_type


#: File name extensions that fit each accepted content type; the first is the one given.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF_TYPE: ("pdf",),
    "image/jpeg": ("jpg", "jpeg", "jpe", "jfif"),
    "image/png": ("png", "apng"),
    "image/apng": ("png", "apng"),
    "image/tiff": ("tif", "tiff"),
    "image/bmp": ("bmp", "dib"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
}


def fitting_filename(name: str, content_type: str, *, max_length: int = 255) -> str:
    """``name`` with an extension that fits ``content_type`` (the detected type).

    A name whose extension already fits is kept as is (case-insensitive:
    ``scan.JPEG`` for JPEG, ``page.tif`` for TIFF); another extension is
    replaced (``report.html`` detected as PDF -> ``report.pdf``, ``scan.txt``
    as PNG -> ``scan.png``); a name without one gets one (``upload`` ->
    ``upload.pdf``). So a file served back under its name opens as what it
    is (an HTML/PDF polyglot is not saved as ``.html``). An empty name
    becomes ``upload.<ext>``; an unknown ``content_type`` keeps the name. The
    result has at most ``max_length`` characters (the stem is shortened).
    """
    fits = EXTENSIONS.get(content_type)
    name = name.strip() or "upload"
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:  # no extension ("upload"), or a dot file (".html")
        stem, ext = name, ""
    if fits is None:
        return name[:max_length]
    suffix = "." + (ext if ext.lower() in fits else fits[0])
    return stem[: max_length - len(suffix)] + suffix


def _inspect_pdf(
    data: bytes, *, max_pixels: int, max_pages: int, field: str, dpi: int, min_dpi: int
) -> DocumentInfo:
    try:
        from app.pipeline import pdf
    except ImportError:  # the PDF module is optional
        raise OcrError(
            "unsupported_format", "PDF input is not supported here.", field=field
        ) from None
    count, width, height = pdf.inspect_pdf(
        data, dpi, max_pixels, min_dpi=min_dpi, max_pages=max_pages, field=field
    )
    return DocumentInfo(content_type=PDF_TYPE, page_count=count, width=width, height=height)


@dataclass(slots=True)
class PageImage:
    """One page to OCR: 1-based ``number``, the Pillow ``image``, its ``dpi`` if known."""

    number: int
    image: Image.Image
    dpi: int | None


#: EXIF tags 271 and 272 (TIFF/EXIF 2.32): the maker and model of the camera.
_EXIF_MAKE, _EXIF_MODEL = 0x010F, 0x0110


def camera_made(im: Image.Image) -> bool:
    """Whether ``im``'s EXIF names the camera that took it (``Make`` or ``Model``, tags
    271/272 of EXIF 2.32), as phones and cameras write them and scanners do not.

    The EXIF is Pillow's (``im.getexif()``), which :func:`iter_image_pages` keeps on the
    pages it yields; an image without EXIF (a PNG, a PDF page, a photo sent through a
    messenger that strips it) is not known to be camera-made.
    """
    try:
        exif = im.getexif()
    except Exception:  # a broken EXIF block says nothing
        return False
    return bool(exif.get(_EXIF_MAKE) or exif.get(_EXIF_MODEL))


def _image_dpi(im: Image.Image) -> int | None:
    """The resolution (DPI) a page image declares, or None when unknown.

    PNG ``pHYs``, TIFF and BMP resolutions are taken as Pillow reports them
    (``info["dpi"]``). A JPEG's only when it comes from a JFIF density with real
    units (``info["jfif_unit"]`` 1 = dots per inch, 2 = per cm), which is what
    Leptonica, so the Tesseract CLI, reads: Pillow also fills ``info["dpi"]``
    from an EXIF ``XResolution`` (or 72 when the EXIF has none), and that is a
    camera's nominal value (phones store 72), not the page's resolution. Taken
    as one it made a phone photo upscaled 2.84x and Tesseract told 72 DPI
    (docs/photos-bench.md, cause 1). A JPEG whose EXIF names the camera that took
    it (``Make`` or ``Model``) has no page resolution either, whatever its JFIF
    density says: a Canon EOS 600D writes JFIF 72 DPI too (``book_de_maker`` of
    the real-photo set, upscaled 3.3x to 8861 x 6624 px for it). Values outside
    50-2400 are unknown too.
    """
    if im.format in _JPEG_FORMATS:
        if im.info.get("jfif_unit") not in (1, 2):
            return None
        if camera_made(im):
            return None
    dpi = im.info.get("dpi")
    try:
        value = int(round(float(dpi[0]))) if dpi else None
    except (TypeError, ValueError, IndexError):
        return None
    return value if value and 50 <= value <= 2400 else None


def iter_image_pages(
    path: str | Path | IO[bytes], *, max_pixels: int, page_numbers: list[int] | None = None
) -> Iterator[PageImage]:
    """Yield the pages of an image file one at a time, EXIF orientation applied.

    Multi-page TIFFs yield every frame (or ``page_numbers``, 1-based); other
    formats their first frame. Images come in RGB or L mode.
    """
    im = _open_image(path, "image")
    with im:
        wanted = page_numbers or list(range(1, frames.frame_count(im) + 1))
        for number in wanted:
            try:
                if number > 1:
                    im.seek(number - 1)
                _check_pixels(im, max_pixels, "image")
                _decode_fully(im, "image")
            except OcrError as exc:
                exc.page = number
                raise
            except EOFError:
                raise OcrError(
                    "invalid_pages", f"The file has no page {number}.", field="pages"
                ) from None
            dpi = _image_dpi(im)
            page = ImageOps.exif_transpose(im) if number == 1 else im.copy()
            yield PageImage(number=number, image=frames.to_ocr_mode(page), dpi=dpi)


def iter_pages(
    path: str | Path | IO[bytes],
    content_type: str,
    *,
    max_pixels: int,
    page_numbers: list[int] | None = None,
    pdf_dpi: int = 300,
) -> Iterator[PageImage]:
    """Yield a document's pages one at a time, whatever its type (images or PDF).

    PDF pages are rasterised at ``pdf_dpi`` dots per inch (lowered for pages
    that would exceed ``max_pixels``).
    """
    if content_type == PDF_TYPE:
        from app.pipeline import pdf

        last = 0
        try:
            for number, image, dpi in pdf.render_pages(
                path, page_numbers, pdf_dpi, max_pixels=max_pixels
            ):
                last = number
                yield PageImage(number=number, image=image, dpi=dpi)
        except OcrError as exc:
            later = [n for n in (page_numbers or []) if n > last]
            exc.page = later[0] if later else last + 1
            raise
        return
    yield from iter_image_pages(path, max_pixels=max_pixels, page_numbers=page_numbers)


def count_pages(source: str | Path | IO[bytes], content_type: str) -> int:
    """Number of pages of a stored document (PDF pages or TIFF frames; 1 otherwise)."""
    if content_type == PDF_TYPE:
        from app.pipeline import pdf

        return pdf.pdf_page_count(source)
    with _open_image(source, "image") as im:
        return frames.frame_count(im)


def load_page(
    source: bytes,
    content_type: str,
    number: int,
    *,
    max_pixels: int,
    pdf_dpi: int = 300,
) -> PageImage:
    """Page ``number`` (1-based) of a stored document, rendered as a job renders it."""
    pages = iter_pages(
        io.BytesIO(source),
        content_type,
        max_pixels=max_pixels,
        page_numbers=[number],
        pdf_dpi=pdf_dpi,
    )
    try:
        return next(pages)
    finally:
        pages.close()
