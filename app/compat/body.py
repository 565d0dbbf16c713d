"""Request bodies of the compatibility APIs, read within a limit in bytes.

Django's ``request.body`` refuses anything over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
(2.5 MB by default), less than a document may be, so the compatibility APIs read the
stream themselves: :func:`check_length` refuses a body whose declared
``Content-Length`` is over the limit before anything is read, :func:`read_body`
reads at most one byte more than the limit (a body without a Content-Length, or one
that lies about it, cannot make it read more). Both raise ``OcrError
("file_too_large")``; each API translates it into its own error shape.
"""

from __future__ import annotations

from django.http import HttpRequest

from app.errors import OcrError


def check_length(request: HttpRequest, limit: int) -> None:
    """Refuse a body whose declared ``Content-Length`` is over ``limit`` bytes.

    A missing or malformed Content-Length passes (:func:`read_body` still stops at
    the limit). Raises ``OcrError("file_too_large")``, its message giving both sizes.
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise OcrError(
            "file_too_large", f"The body is {declared:,} bytes; the limit is {limit:,} bytes."
        )


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The request body, at most ``limit`` bytes, read from the stream.

    First :func:`check_length`, then at most ``limit + 1`` bytes are read. Raises
    ``OcrError("file_too_large")`` when the declared length or the bytes read are
    over ``limit``. The stream is consumed: ``request.body`` cannot be read
    afterwards.
    """
    check_length(request, limit)
    parts: list[bytes] = []
    total = 0
    while chunk := request.read(limit + 1 - total):
        parts.append(chunk)
        total += len(chunk)
        if total > limit:
            raise OcrError("file_too_large", f"The body is more than {limit:,} bytes, the limit.")
    return b"".join(parts)
