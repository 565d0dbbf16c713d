"""JSON export: the result schema itself.

The output is :meth:`app.pipeline.schema.Document.to_dict` (the stable public
contract of docs/result-schema.md) serialised as UTF-8 JSON, non-ASCII
characters kept as they are (not ``\\u`` escaped). ``indent`` is passed to :func:`json.dumps`
(``None`` gives the compact form).
"""

from __future__ import annotations

import json
from typing import IO

from app.pipeline.schema import Document


def export_json(document: Document, *, indent: int | None = None) -> bytes:
    """The document's ``to_dict()`` as UTF-8 JSON bytes."""
    return json.dumps(document.to_dict(), ensure_ascii=False, indent=indent).encode("utf-8")


def write(document: Document, out: IO[bytes], *, indent: int | None = None) -> None:
    """Write :func:`export_json` of ``document`` to ``out``."""
    out.write(export_json(document, indent=indent))
