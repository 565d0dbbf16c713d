"""A corpus of hostile documents, every one built in code (nothing big is committed).

Each builder returns the bytes of a real file (hand-written headers, or Pillow,
reportlab and pypdf output) shaped to attack one check of the upload path:
decompression bombs in every accepted format (a declared size far over the
pixel limit behind a few hundred bytes of data), images and PDF pages with a
side longer than Tesseract reads (32,767 px), PDFs that lie about their
pages or their page size, truncated files, polyglots, encrypted PDFs, and
bodies that are not what they claim to be. Used by
``tests/api/test_bad_input_corpus.py``.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Sequence

from PIL import Image

from tests.imaging import render_text

# ---------------------------------------------------------------------------
# Images


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose IHDR declares ``width`` x ``height`` (1-bit grey) over a tiny IDAT.

    Every chunk has a valid CRC; the IDAT holds only the first few rows, so
    the file is a few hundred bytes whatever it declares.
    """
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(row * 4, 9))
        + _png_chunk(b"IEND", b"")
    )


def png_corrupt_idat() -> bytes:
    """A small text PNG whose compressed pixels are damaged under VALID chunk CRCs.

    Passes the submission checks (CRCs up to IEND) and can only fail when the
    worker decodes it: a hostile input that reaches the worker.
    """
    data = render_text(["Corrupt pixels"]).png()
    out, pos = [data[:8]], 8
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IDAT":
            body = body[:2] + bytes(b ^ 0x5A for b in body[2:])  # keep the zlib header
        out.append(_png_chunk(kind, body))
        pos += 12 + length
    return b"".join(out)


def jpeg_sof_bomb(width: int = 65_500, height: int = 65_500) -> bytes:
    """A real small JPEG whose SOF0 frame header is patched to ``width`` x ``height``."""
    data = bytearray(render_text(["Bomb"]).encoded("JPEG", quality=50))
    sof = data.find(b"\xff\xc0")
    assert sof > 0, "no baseline SOF0 marker"
    # FFC0, length (2), precision (1), height (2), width (2)
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def gif_bomb(width: int = 65_535, height: int = 65_535) -> bytes:
    """A GIF89a whose logical screen and only frame declare ``width`` x ``height``.

    The LZW data codes a single pixel and ends: a few dozen bytes.
    """
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # 2-colour table
    palette = b"\x00\x00\x00\xff\xff\xff"
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
    lzw = b"\x02" + b"\x02\x44\x01\x00"  # min code size 2; clear, 1, end; block terminator
    return header + palette + descriptor + lzw + b"\x3b"


def bmp_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A 1-bit BMP (BITMAPINFOHEADER) declaring ``width`` x ``height`` with 64 bytes of pixels."""
    pixels = b"\xff" * 64
    palette = b"\x00\x00\x00\x00\xff\xff\xff\x00"
    offset = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 1, 0, 0, 2835, 2835, 2, 0)
    header = b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset)
    return header + info + palette + pixels


def _tiff(pages: Sequence[tuple[int, int]]) -> bytes:
    """A little-endian bilevel TIFF with one IFD per ``(width, height)``; all share one strip.

    The strip holds 16 bytes (uncompressed); what a page declares beyond it is
    never there, as in a real decompression bomb.
    """
    strip = b"\xff" * 16
    strip_offset = 8
    out = bytearray(b"II*\x00" + struct.pack("<I", 0) + strip)
    previous_next = 4  # where the offset of the next IFD is written
    for width, height in pages:
        if len(out) % 2:
            out += b"\x00"
        ifd_offset = len(out)
        struct.pack_into("<I", out, previous_next, ifd_offset)
        entries = [
            (256, 4, width),  # ImageWidth (LONG)
            (257, 4, height),  # ImageLength
            (258, 3, 1),  # BitsPerSample
            (259, 3, 1),  # Compression: none
            (262, 3, 0),  # Photometric: white is zero
            (273, 4, strip_offset),  # StripOffsets
            (277, 3, 1),  # SamplesPerPixel
            (278, 4, height),  # RowsPerStrip
            (279, 4, len(strip)),  # StripByteCounts
        ]
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, 1) + packed
        previous_next = len(out)
        out += struct.pack("<I", 0)
    return bytes(out)


def tiff_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A one-page TIFF declaring ``width`` x ``height`` over 16 bytes of pixels."""
    return _tiff([(width, height)])


def tiff_bomb_on_a_later_page() -> bytes:
    """A TIFF whose first page is tiny and whose third page is a 100000 x 100000 bomb."""
    return _tiff([(8, 8), (8, 8), (100_000, 100_000)])


def tiff_many_frames(count: int) -> bytes:
    """A TIFF of ``count`` 8 x 8 pages (every IFD shares the same 16-byte strip)."""
    return _tiff([(8, 8)] * count)


def webp_bomb(width: int = 16_384, height: int = 16_384) -> bytes:
    """A lossless WebP whose VP8L header declares ``width`` x ``height`` (at most 16384)."""
    bits = (width - 1) | ((height - 1) << 14)  # alpha hint 0, version 0
    payload = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 27
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def long_png(width: int = 60_000, height: int = 30) -> bytes:
    """A real blank grey PNG of ``width`` x ``height`` px (Pillow; ~2 KB).

    1.8 MP by default, far within the pixel limit, but a side over the 32,767 px
    Tesseract reads (``app.pipeline.frames.MAX_SIDE``).
    """
    buf = io.BytesIO()
    Image.new("L", (width, height), 255).save(buf, "PNG")
    return buf.getvalue()


def long_tiff_on_page_2(width: int = 40_000, height: int = 20) -> bytes:
    """A real two-page TIFF (Pillow, Deflate): a small text page, then a blank
    ``width`` x ``height`` px strip (a side over 32,767 px, 0.8 MP)."""
    first = render_text(["First page"]).image.convert("L")
    buf = io.BytesIO()
    first.save(
        buf,
        "TIFF",
        save_all=True,
        append_images=[Image.new("L", (width, height), 255)],
        compression="tiff_adobe_deflate",
    )
    return buf.getvalue()


# ---------------------------------------------------------------------------
# PDFs


def _num(value: float) -> str:
    """A PDF number: no exponent (``1e7`` is not PDF syntax), no needless decimals."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.4f}"


def hand_pdf(
    pages: Sequence[tuple[float, float]],
    *,
    declared_count: int | None = None,
    content: bytes = b"",
) -> bytes:
    """A hand-written PDF with one page per ``(width_pt, height_pt)`` MediaBox.

    ``declared_count`` is written as the page tree's ``/Count`` (the real page
    count when None); every page shares one ``content`` stream, with Helvetica as
    font ``/F1``. The xref
    table is exact, so PDF readers need no repair.
    """
    count = len(pages)
    first_page = 4
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{first_page + i} 0 R".encode() for i in range(count))
        + f"] /Count {declared_count if declared_count is not None else count} >>".encode(),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    for width, height in pages:
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_num(width)} {_num(height)}] "
            "/Contents 3 0 R /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 "
            "/BaseFont /Helvetica >> >> >> >>".encode()
        )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def pdf_huge_mediabox(side_pt: float) -> bytes:
    """A one-page PDF whose page is ``side_pt`` points square (1e7 pt is 2.2 miles)."""
    return hand_pdf([(side_pt, side_pt)])


def pdf_count_lie(declared: int = 400, text: str = "Counted pages") -> bytes:
    """A one-page PDF (``text`` drawn in Helvetica) whose page tree declares ``/Count declared``."""
    content = b"BT /F1 36 Tf 72 600 Td (" + text.encode("latin-1") + b") Tj ET"
    return hand_pdf([(612, 792)], declared_count=declared, content=content)


def pdf_pages(count: int) -> bytes:
    """A PDF of ``count`` blank Letter pages (each page object is ~100 bytes)."""
    return hand_pdf([(612, 792)] * count)


def text_pdf(lines: Sequence[str], *, size: tuple[float, float] = (612, 792), font_size=24):
    """A reportlab PDF drawing ``lines`` (Helvetica) on one page of ``size`` points."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=size)
    pdf.setFont("Helvetica", font_size)
    y = size[1] / 2
    for line in lines:
        pdf.drawString(72, y, line)
        y -= font_size * 1.6
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def encrypted_pdf(password: str = "s3cret") -> bytes:  # noqa: S107 (a test file's password)
    """A PDF that needs ``password`` to open (pypdf, AES-128)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(text_pdf(["Secret"]))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def html_pdf_polyglot() -> bytes:
    """An HTML page that is also a PDF: ``%PDF-`` inside an HTML comment in the first KB."""
    return (
        b"<!DOCTYPE html><html><head><title>hello</title></head><body>\n"
        b"<script>alert(document.domain)</script>\n<!--\n"
        + text_pdf(["Polyglot"])
        + b"\n--></body></html>\n"
    )


# ---------------------------------------------------------------------------
# Not documents at all, and broken ones


def truncated(data: bytes, fraction: float = 0.5) -> bytes:
    """The first ``fraction`` of ``data``."""
    return data[: max(1, int(len(data) * fraction))]


def random_bytes(size: int = 4096, seed: int = 11) -> bytes:
    """``size`` reproducible random bytes (no known magic number at the start)."""
    rng = random.Random(seed)
    data = bytearray(rng.getrandbits(8) for _ in range(size))
    data[:4] = b"\x13\x37\x00\x01"
    return bytes(data)


def zip_archive() -> bytes:
    """A ZIP holding a PNG (an archive is not a document, whatever it holds)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("page.png", render_text(["Zipped"]).png())
    return buf.getvalue()


def html_page() -> bytes:
    return b"<!DOCTYPE html><html><body><h1>Not an image</h1></body></html>\n" * 20


def text_file() -> bytes:
    return b"Just some plain text, no image here.\n" * 40


def deep_json(depth: int = 1000, kind: str = "array") -> bytes:
    """A JSON body nested ``depth`` levels deep (arrays, or objects ``{"a": ...}``)."""
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def big_png(size: int) -> bytes:
    """A valid grey PNG of about ``size`` bytes (incompressible noise, stored uncompressed)."""
    side = int(size**0.5)
    rng = random.Random(5)
    noise = rng.randbytes(side * side)
    buf = io.BytesIO()
    Image.frombytes("L", (side, side), noise).save(buf, "PNG", compress_level=0)
    return buf.getvalue()
