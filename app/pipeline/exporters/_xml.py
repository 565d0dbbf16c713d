"""Small helpers shared by the XML exporters (hOCR, ALTO).

The XML is written as text, piece by piece, so a document of hundreds of pages
streams to its output without building a tree in memory. Everything that comes
from OCR goes through :func:`text` or :func:`attr`, which escape it for XML 1.0
and drop the characters XML 1.0 cannot carry at all (C0 controls other than
tab/LF/CR, lone surrogates, U+FFFE/U+FFFF).
"""

from __future__ import annotations

import re

_INVALID_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(value: str) -> str:
    """``value`` without the characters XML 1.0 forbids."""
    return _INVALID_XML.sub("", value)


def text(value: str) -> str:
    """``value`` escaped for element content (``&``, ``<``, ``>``)."""
    return clean(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attr(value: object) -> str:
    """``value`` escaped for a double-quoted attribute (tab/LF/CR kept as references)."""
    return (
        text(str(value))
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def attrs(**values: object) -> str:
    """`` NAME="value"`` pairs for the values that are not ``None``, in the given order."""
    return "".join(f' {name}="{attr(v)}"' for name, v in values.items() if v is not None)
