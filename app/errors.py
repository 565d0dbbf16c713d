"""Stable error codes, the one table of them, and the exception that carries them.

:data:`ERROR_CODES` holds every code the service produces with its HTTP status
and a message for people; the API, the web pages and the admin all read it.

Every failure a user can see has one JSON shape across the API (docs/errors.md)::

    {"error": {"code": "unsupported_format", "message": "...", "field": "image"}}

Code below ``app.api`` raises :class:`OcrError`; the API's exception handler
turns it into that shape with :attr:`OcrError.http_status`, and a failed job
stores ``code`` and ``message``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One stable error code: its HTTP status and what it means, in words for people.

    ``http_status`` is the status when the error answers a request directly (a
    failed job keeps the code and answers 200 itself). ``message`` says what
    happened and what to do; the web pages, the upload page's script and the
    admin show it, with the error's own message (which adds detail, such as the
    page) after it.
    """

    code: str
    http_status: int
    message: str


def _table(*rows: tuple[str, int, str]) -> dict[str, ErrorCode]:
    return {code: ErrorCode(code, status, message) for code, status, message in rows}


#: Every stable error code the service produces: the API, the web pages and the admin.
ERROR_CODES: dict[str, ErrorCode] = _table(
    # The request or its options.
    ("invalid", 400, "A field of the request was not accepted. Check the value and try again."),
    (
        "invalid_request",
        400,
        "The request could not be read (it is not a valid JSON object). Fix it and send it again.",
    ),
    (
        "invalid_option",
        400,
        "An option was not accepted. Check the options and try again.",
    ),
    (
        "unknown_language",
        400,
        "A chosen language is not installed or not read by this engine. Pick another language.",
    ),
    (
        "engine_unavailable",
        400,
        "The chosen engine is not available (not installed or not configured)."
        " Pick another engine.",
    ),
    # The file.
    (
        "invalid_image",
        400,
        "The file could not be read as an image or PDF. It may be empty or damaged;"
        " upload another copy.",
    ),
    (
        "unsupported_format",
        415,
        "This file type is not supported. Upload a JPEG, PNG, TIFF, BMP, GIF, WebP or PDF file.",
    ),
    (
        "file_too_large",
        413,
        "The file is larger than the upload limit. Upload a smaller file.",
    ),
    (
        "too_many_pixels",
        413,
        "The image has too many pixels, or a side too long to read."
        " Scale it down and upload it again.",
    ),
    (
        "too_many_pages",
        400,
        "The document has too many pages. Split it into smaller documents.",
    ),
    (
        "invalid_pdf",
        400,
        "The PDF could not be read; it may be damaged. Save or export it again and upload it.",
    ),
    (
        "encrypted_pdf",
        400,
        "The PDF is password-protected. Remove the password and upload it again.",
    ),
    (
        "invalid_pages",
        400,
        "The chosen pages do not exist in the document, or it has no pages."
        " Check the page numbers.",
    ),
    # A file fetched from an address.
    (
        "url_unreachable",
        400,
        "The address could not be reached or gave no file. Check the address and try again.",
    ),
    (
        "url_forbidden",
        400,
        "That address is not allowed (private and local addresses are refused)."
        " Use a public address.",
    ),
    # Recognition.
    (
        "engine_crash",
        500,
        "The OCR engine stopped unexpectedly on this document. Try again, or try another engine.",
    ),
    (
        "timeout",
        504,
        "Recognition took too long. Try a smaller document or fewer pages.",
    ),
    (
        "provider_error",
        502,
        "The OCR provider returned an error. Try again later, or try another engine.",
    ),
    (
        "provider_auth",
        502,
        "The OCR provider refused the service's credentials. Ask the administrator to check them.",
    ),
    # Access and limits.
    ("not_authenticated", 401, "You are not signed in, or your session has ended. Sign in again."),
    (
        "authentication_failed",
        401,
        "The sign-in details or API key were not accepted. Check them and try again.",
    ),
    (
        "token_not_valid",
        401,
        "The access token is not valid or has expired. Sign in again to get a new one.",
    ),
    ("permission_denied", 403, "You are not allowed to do this."),
    ("not_found", 404, "The job no longer exists, or it is not yours."),
    ("method_not_allowed", 405, "This address does not accept that kind of request."),
    (
        "not_acceptable",
        406,
        "The answer cannot be given in the format the request asks for (Accept header).",
    ),
    (
        "unsupported_media_type",
        415,
        "The request was sent in a format this address does not take (Content-Type header).",
    ),
    (
        "not_ready",
        409,
        "The job has not finished yet. Wait until it is done and try again.",
    ),
    (
        "already_finished",
        409,
        "The job has already finished, so it cannot be canceled. Its result stays as it is.",
    ),
    (
        "idempotency_conflict",
        409,
        "This Idempotency-Key was already used with another request (or that request is"
        " still being made). Use a new key for a new request.",
    ),
    (
        "quota_exceeded",
        429,
        "Too many requests, or the upload quota is used up. Wait a while and try again.",
    ),
    ("throttled", 429, "Too many sign-in attempts. Wait a while and try again."),
    (
        "internal_error",
        500,
        "Something went wrong on the server. Try again later; if it keeps happening,"
        " tell the administrator.",
    ),
)

#: code -> HTTP status used when the error answers a request directly (from :data:`ERROR_CODES`).
ERROR_STATUS: dict[str, int] = {c.code: c.http_status for c in ERROR_CODES.values()}

#: What to show for a code that is not in the table.
UNKNOWN_ERROR_MESSAGE = "The job failed."


def error_message(code: str) -> str:
    """The human message of ``code`` from :data:`ERROR_CODES` (empty for no code)."""
    if not code:
        return ""
    entry = ERROR_CODES.get(code)
    return entry.message if entry else UNKNOWN_ERROR_MESSAGE


class OcrError(Exception):
    """An error with a stable ``code`` (see :data:`ERROR_CODES`).

    ``message`` is for people; ``field`` names the request field at fault,
    if any. ``http_status`` defaults to the code's status in
    :data:`ERROR_STATUS` (400 for unknown codes). ``retry_after`` (seconds),
    when set, is sent as the ``Retry-After`` header (e.g. ``quota_exceeded``).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        http_status: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.http_status = http_status or ERROR_STATUS.get(code, 400)
        #: The 1-based page the error belongs to, for errors on one page of a document.
        self.page: int | None = None
        self.retry_after = retry_after

    def as_dict(self) -> dict[str, object]:
        """The ``{"error": {...}}`` body for this error."""
        err: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field:
            err["field"] = self.field
        return {"error": err}

    def __repr__(self) -> str:
        return f"OcrError({self.code!r}, {self.message!r})"
