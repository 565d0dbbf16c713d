"""Hand-written PDF bytes for hostile inputs (huge boxes, a lying /Count, missing pages)."""

from __future__ import annotations


def pdf_bytes(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (object 1 is the catalog) with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pages_pdf(pages: list[bytes], *, count: int | None = None, text: bytes = b"") -> bytes:
    """A PDF whose pages carry the given extra page-dictionary entries (e.g.
    ``b"/MediaBox [0 0 1600000 1600000]"``); ``count`` is the page tree's
    declared ``/Count`` (default: the truth). ``text``: a content stream for
    every page, with Helvetica as ``/F1``."""
    n = len(pages)
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n if count is None else count),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
    ]
    for extra in pages:
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents 4 0 R %s >>" % extra
        )
    return pdf_bytes(objects)


def square_pdf(side_pt: float | int, *, count: int | None = None) -> bytes:
    """A one-page PDF whose MediaBox is ``side_pt`` points square."""
    return pages_pdf([b"/MediaBox [0 0 %d %d]" % (side_pt, side_pt)], count=count)


# -- embedded images that declare more pixels than the page (PDF 32000-1, 8.9) ------------

LETTER = b"/MediaBox [0 0 612 792]"
#: Draw ``/Im1`` over the whole Letter page (the image space's unit square scaled up).
DRAW_IM1 = b"q 612 0 0 792 0 0 cm /Im1 Do Q"


def _stream(entries: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries, len(data), data)


def zeros_flate(size: int) -> bytes:
    """``size`` zero bytes, Flate-compressed (about 1/1000 of ``size``)."""
    import zlib

    z = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    out = [z.compress(chunk) for _ in range(size >> 20)]
    out += [z.compress(bytes(size & ((1 << 20) - 1))), z.flush()]
    return b"".join(out)


def flate_image(width: int, height: int, *, bpc: int = 8, rows: int | None = None) -> bytes:
    """Image XObject entries + data: a DeviceGray Flate image of ``width`` x ``height``
    whose data holds ``rows`` rows of zeros (default all; fewer is a truncated stream)."""
    row = (width * bpc + 7) // 8
    entries = (
        b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent %d /Filter /FlateDecode" % (width, height, bpc)
    )
    return _stream(entries, zeros_flate(row * (height if rows is None else rows)))


def dct_image(
    width: int, height: int, *, sof: tuple[int, int] | None = None, progressive: bool = False
) -> bytes:
    """A DCT image: a real 16x16 grey JPEG whose SOF header is patched to declare
    ``sof`` (default ``(width, height)``) pixels; the dictionary says ``width`` x ``height``."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (16, 16), 200).save(buf, "JPEG", progressive=progressive)
    jpeg = bytearray(buf.getvalue())
    marker = b"\xff\xc2" if progressive else b"\xff\xc0"
    at = jpeg.index(marker)
    sw, sh = sof or (width, height)
    jpeg[at + 5 : at + 9] = sh.to_bytes(2, "big") + sw.to_bytes(2, "big")
    entries = (
        b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /DCTDecode" % (width, height)
    )
    return _stream(entries, bytes(jpeg))


def jbig2_image(width: int, height: int) -> bytes:
    """A JBIG2 image (embedded organisation, ISO 14492 7.4.8): a page information
    segment declaring ``width`` x ``height`` and an end-of-page segment, no region."""

    def segment(number: int, kind: int, data: bytes) -> bytes:
        return number.to_bytes(4, "big") + bytes([kind, 0, 1]) + len(data).to_bytes(4, "big") + data

    info = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes(8) + b"\x00\x00\x00"
    data = segment(0, 48, info) + segment(1, 49, b"")
    entries = (
        b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 1 /Filter /JBIG2Decode" % (width, height)
    )
    return _stream(entries, data)


def ccitt_image(width: int, height: int) -> bytes:
    """A CCITT Group 4 image of ``width`` x ``height``: every row coded as V0 (all white)."""
    data = b"\xff" * ((height + 7) // 8)
    entries = (
        b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 1 /Filter /CCITTFaxDecode "
        b"/DecodeParms << /K -1 /Columns %d /Rows %d >>" % (width, height, width, height)
    )
    return _stream(entries, data)


def image_pdf(image: bytes, *, via: str = "page", pages: int = 1) -> bytes:
    """A Letter PDF of ``pages`` pages each drawing the image XObject ``image`` (a
    stream object, e.g. :func:`flate_image`) over the page: directly (``via="page"``),
    inside a Form XObject (``"form"``), or as the cell of a tiling pattern (``"pattern"``)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (6 + i) for i in range(pages)), pages),
        image,
    ]
    if via == "page":
        objects += [_stream(b"", DRAW_IM1), b"<< >>"]
        resources = b"<< /XObject << /Im1 3 0 R >> >>"
    elif via == "form":
        objects.append(_stream(b"", b"/Fm1 Do"))
        objects.append(
            _stream(
                b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] "
                b"/Resources << /XObject << /Im1 3 0 R >> >>",
                DRAW_IM1,
            )
        )
        resources = b"<< /XObject << /Fm1 5 0 R >> >>"
    elif via == "pattern":
        objects.append(_stream(b"", b"/Pattern cs /P1 scn 0 0 612 792 re f"))
        objects.append(
            _stream(
                b"/Type /Pattern /PatternType 1 /PaintType 1 /TilingType 1 "
                b"/BBox [0 0 612 792] /XStep 612 /YStep 792 "
                b"/Resources << /XObject << /Im1 3 0 R >> >>",
                DRAW_IM1,
            )
        )
        resources = b"<< /Pattern << /P1 5 0 R >> >>"
    else:
        raise ValueError(via)
    for _ in range(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R %s /Resources %s /Contents 4 0 R >>"
            % (LETTER, resources)
        )
    return pdf_bytes(objects)


def inline_image_pdf(width: int, height: int, *, rows: int | None = None) -> bytes:
    """A Letter page with an INLINE Flate DeviceGray image (``BI ... ID ... EI``)
    of ``width`` x ``height`` (``rows`` rows of data; default all)."""
    data = zeros_flate(width * (height if rows is None else rows))
    content = b"q 612 0 0 792 0 0 cm BI /W %d /H %d /CS /G /BPC 8 /F /Fl ID\n%s\nEI Q" % (
        width,
        height,
        data,
    )
    return pdf_bytes(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            _stream(b"", content),
            b"<< /Type /Page /Parent 2 0 R %s /Resources << >> /Contents 3 0 R >>" % LETTER,
        ]
    )
