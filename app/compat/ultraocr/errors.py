"""UltraOCR's error shape, and our stable error codes translated into it.

UltraOCR's API sits behind AWS API Gateway; its SDKs only look at the status code
(Python, Go and Java accept nothing but 200, JS and C# any 2xx; nuveo/ultraocr-sdk-*),
and the gateway answers errors as ``{"message": "..."}`` (``{"message":
"Unauthorized"}`` for a missing or bad token). Every error here is that shape with a
4xx status; a failed job is not an error of the call: its result answers 200 with
``"status": "error"`` and the reason as the string ``error`` (the typed SDKs declare
it a string).

:data:`ULTRA_STATUS` gives the HTTP status of each code of
:data:`app.errors.ERROR_CODES` (docs/errors.md) when a request is refused with it.
"""

from __future__ import annotations

from django.http import JsonResponse

from app.compat.views import ErrorShape
from app.errors import ERROR_CODES, OcrError

#: What the gateway says to a call without a valid token.
UNAUTHORIZED = "Unauthorized"

#: Our codes whose status differs when UltraOCR refuses a request: codes that only a
#: failed job has (its engine crashed, a provider failed) never answer a request
#: with a 5xx here, and a document too large is the gateway's 413.
_OVERRIDES = {
    "engine_unavailable": 503,
    "engine_crash": 400,
    "timeout": 400,
    "provider_error": 400,
    "provider_auth": 400,
    "unsupported_format": 415,
    "not_acceptable": 400,
    "internal_error": 503,
}

#: Our stable error codes -> the HTTP status of UltraOCR's ``{"message"}`` answer.
ULTRA_STATUS: dict[str, int] = {
    code: _OVERRIDES.get(code, entry.http_status) for code, entry in ERROR_CODES.items()
}


class UltraError(Exception):
    """An error answered as ``{"message": message}`` with ``status``."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after

    @classmethod
    def from_ocr(cls, exc: OcrError) -> UltraError:
        """Our ``OcrError`` in UltraOCR's terms (:data:`ULTRA_STATUS`); a refused
        credential reads as the gateway's ``Unauthorized``."""
        status = ULTRA_STATUS.get(exc.code, exc.http_status)
        if status == 401:
            return cls(401, UNAUTHORIZED)
        return cls(status, exc.message, retry_after=exc.retry_after)

    def response(self) -> JsonResponse:
        """The JSON answer (with ``Retry-After`` in seconds when throttled)."""
        response = JsonResponse({"message": self.message}, status=self.status)
        if self.retry_after is not None:
            response["Retry-After"] = str(max(0, int(self.retry_after)))
        return response


def bad_request(message: str) -> UltraError:
    """400 ``{"message"}``."""
    return UltraError(400, message)


def not_found(message: str = "Not Found") -> UltraError:
    """404 ``{"message"}``."""
    return UltraError(404, message)


#: How UltraOCR's failures answer (:func:`app.compat.views.compat_view`): always
#: ``{"message"}``.
ULTRA_SHAPE = ErrorShape(
    name="ultraocr",
    error=UltraError,
    from_ocr=UltraError.from_ocr,
    method_not_allowed=lambda method: UltraError(405, "Method Not Allowed"),
    server_error=lambda: UltraError(500, "Internal server error"),
    not_found=lambda request: not_found(),
)
