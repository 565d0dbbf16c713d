"""Plain text export.

The output is the document's ``text`` (docs/result-schema.md, "Conventions"): in a
page, lines are joined with ``\\n`` and blocks with a blank line; pages are
joined with a form feed ``\\f`` (U+000C). Encoded as UTF-8 without a BOM.
"""

from __future__ import annotations

from typing import IO

from app.pipeline.schema import PAGE_SEPARATOR, Document


def write(document: Document, out: IO[bytes]) -> None:
    """Write the document's text to ``out`` as UTF-8, one page at a time."""
    for i, page in enumerate(document.pages):
        if i:
            out.write(PAGE_SEPARATOR.encode("utf-8"))
        out.write(page.text.encode("utf-8"))


def export_txt(document: Document) -> bytes:
    """The document's text as UTF-8 bytes (pages separated by ``\\f``)."""
    return document.text.encode("utf-8")
