"""Stable error codes and the exception that carries them.

Every failure a user can see has one JSON shape across the API (DESIGN.md)::

    {"error": {"code": "unsupported_format", "message": "...", "field": "image"}}

Code below ``app.api`` raises :class:`OcrError`; the API's exception handler
turns it into that shape with :attr:`OcrError.http_status`, and a failed job
stores ``code`` and ``message``.
"""

from __future__ import annotations

# code -> HTTP status used when the error answers a request directly.
ERROR_STATUS: dict[str, int] = {
    "invalid": 400,
    "invalid_request": 400,
    "invalid_image": 400,
    "invalid_pdf": 400,
    "encrypted_pdf": 400,
    "invalid_pages": 400,
    "invalid_option": 400,
    "unsupported_format": 415,
    "file_too_large": 413,
    "too_many_pixels": 413,
    "too_many_pages": 400,
    "url_unreachable": 400,
    "url_forbidden": 400,
    "unknown_language": 400,
    "engine_unavailable": 400,
    "engine_crash": 500,
    "provider_error": 502,
    "provider_auth": 502,
    "quota_exceeded": 429,
    "timeout": 504,
    "not_found": 404,
    "not_ready": 409,
    "not_authenticated": 401,
    "authentication_failed": 401,
    "permission_denied": 403,
    "method_not_allowed": 405,
    "throttled": 429,
    "internal_error": 500,
}


class OcrError(Exception):
    """An error with a stable ``code`` (see :data:`ERROR_STATUS`).

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
