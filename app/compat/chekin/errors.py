"""Chekin's error shape, and our stable error codes translated into it (one table).

Chekin's API is Django REST framework (``Authorization: Token``, DRF's token
authentication), so its errors are DRF's: ``{"detail": "..."}`` for authentication,
permission, not-found, method, throttling and parse errors, and field errors
``{"picture_file": ["..."]}`` (``non_field_errors`` for the body as a whole) for a
failed validation. The statuses are those of Chekin's API reference, "Errors"
(400, 401, 402, 403, 404, 405, 406, 429, 500, 503; DRF's 415 besides): every
refusal of the document itself (size, pixels, pages, format, a damaged file) is a
400 on ``picture_file``, as a failed validation is there.

:data:`CHEKIN_ERRORS` maps every code of :data:`app.errors.ERROR_CODES`
(docs/errors.md); tests/compat/test_chekin.py checks that none is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import JsonResponse

from app.compat.views import ErrorShape
from app.errors import OcrError

#: The request's document field: where a refused document's message goes.
PICTURE_FIELD = "picture_file"
#: DRF's field error for a body that is not a JSON object.
NON_FIELD = "non_field_errors"

#: DRF's fixed messages (rest_framework/exceptions.py, authentication.py).
NOT_PROVIDED = "Authentication credentials were not provided."
INVALID_TOKEN = "Invalid token."  # noqa: S105 - a message, not a secret
NOT_FOUND = "Not found."


@dataclass(frozen=True, slots=True)
class ChekinCode:
    """How one of our codes reads in Chekin's shape: the HTTP ``status`` and where the
    message goes: ``"detail"`` (``{"detail": msg}``), ``"field"`` (``{<the error's
    field, else picture_file>: [msg]}``) or ``"picture"`` (always ``picture_file``)."""

    status: int
    where: str = "detail"


#: Our stable error codes (app/errors.py) -> Chekin's status and body.
CHEKIN_ERRORS: dict[str, ChekinCode] = {
    # The request.
    "invalid": ChekinCode(400, "field"),
    "invalid_request": ChekinCode(400),  # DRF's ParseError: {"detail": "JSON parse error - ..."}
    "invalid_option": ChekinCode(400, "field"),
    "unknown_language": ChekinCode(400, "field"),
    "invalid_pages": ChekinCode(400, "picture"),
    "engine_unavailable": ChekinCode(503),
    # The document: a failed validation of picture_file.
    "invalid_image": ChekinCode(400, "picture"),
    "unsupported_format": ChekinCode(400, "picture"),
    "invalid_pdf": ChekinCode(400, "picture"),
    "encrypted_pdf": ChekinCode(400, "picture"),
    "file_too_large": ChekinCode(400, "picture"),
    "too_many_pixels": ChekinCode(400, "picture"),
    "too_many_pages": ChekinCode(400, "picture"),
    "url_unreachable": ChekinCode(400, "picture"),
    "url_forbidden": ChekinCode(400, "picture"),
    # Recognition (a job's failure reads as status ERR; these answer a request only
    # when something breaks while it is made).
    "engine_crash": ChekinCode(500),
    "timeout": ChekinCode(500),
    "provider_error": ChekinCode(500),
    "provider_auth": ChekinCode(500),
    "internal_error": ChekinCode(500),
    # Access and limits.
    "not_authenticated": ChekinCode(401),
    "authentication_failed": ChekinCode(401),
    "token_not_valid": ChekinCode(401),
    "permission_denied": ChekinCode(403),
    "quota_exceeded": ChekinCode(429),
    "throttled": ChekinCode(429),
    # Addresses, methods and states.
    "not_found": ChekinCode(404),
    "method_not_allowed": ChekinCode(405),
    "not_acceptable": ChekinCode(406),
    "unsupported_media_type": ChekinCode(415),
    "not_ready": ChekinCode(400),
    "already_finished": ChekinCode(400),
    "idempotency_conflict": ChekinCode(400),
}


def chekin_code(code: str, http_status: int = 400) -> ChekinCode:
    """The Chekin translation of our ``code``; one missing from the table answers
    ``{"detail"}`` with 400 (a 4xx) or 500."""
    return CHEKIN_ERRORS.get(code) or ChekinCode(400 if http_status < 500 else 500)


class ChekinError(Exception):
    """An error answered in Chekin's (DRF's) shape: ``status`` and ``body``, with
    ``Retry-After`` (seconds) when throttled and ``WWW-Authenticate: Token`` on 401."""

    def __init__(self, status: int, body: dict[str, Any], *, retry_after: int | None = None):
        self.status = status
        self.body = body
        self.retry_after = retry_after
        super().__init__(f"{status}: {body}")

    @classmethod
    def detail(cls, status: int, message: str) -> ChekinError:
        """``{"detail": message}`` with ``status``."""
        return cls(status, {"detail": message})

    @classmethod
    def from_ocr(cls, exc: OcrError) -> ChekinError:
        """Our ``OcrError`` in Chekin's terms (:data:`CHEKIN_ERRORS`)."""
        found = chekin_code(exc.code, exc.http_status)
        if found.status == 401:  # DRF's fixed words, whatever our reason
            message = NOT_PROVIDED if exc.code == "not_authenticated" else INVALID_TOKEN
            return cls.detail(401, message)
        if found.status == 404:
            return cls.detail(404, NOT_FOUND)
        if found.status == 429 and exc.retry_after is not None:
            message = f"Request was throttled. Expected available in {exc.retry_after} seconds."
            return cls(429, {"detail": message}, retry_after=exc.retry_after)
        if found.where == "picture":
            return cls(found.status, {PICTURE_FIELD: [exc.message]})
        if found.where == "field":
            return cls(found.status, {exc.field or PICTURE_FIELD: [exc.message]})
        return cls(found.status, {"detail": exc.message}, retry_after=exc.retry_after)

    def response(self) -> JsonResponse:
        """The JSON response."""
        response = JsonResponse(self.body, status=self.status)
        if self.retry_after is not None:
            response["Retry-After"] = str(max(0, int(self.retry_after)))
        if self.status == 401:
            response["WWW-Authenticate"] = "Token"
        return response


def not_found() -> ChekinError:
    """DRF's 404: ``{"detail": "Not found."}``."""
    return ChekinError.detail(404, NOT_FOUND)


def method_not_allowed(method: str) -> ChekinError:
    """DRF's 405: ``{"detail": "Method \\"PUT\\" not allowed."}`` (the view decorator
    adds ``Allow``)."""
    return ChekinError.detail(405, f'Method "{method}" not allowed.')


#: How Chekin's (DRF's) failures answer (:func:`app.compat.views.compat_view`); an
#: unexpected failure answers ``{"detail": ...}`` with 500.
CHEKIN_SHAPE = ErrorShape(
    name="chekin",
    error=ChekinError,
    from_ocr=ChekinError.from_ocr,
    method_not_allowed=method_not_allowed,
    server_error=lambda: ChekinError.detail(500, "A server error occurred."),
    not_found=lambda request: not_found(),
)
