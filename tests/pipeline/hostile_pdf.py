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
