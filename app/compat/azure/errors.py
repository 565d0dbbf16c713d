"""Azure's error shape, and our stable error codes translated into it (one table).

Azure Document Intelligence answers every 4xx and 5xx with
``{"error": {"code", "message", "innererror"?: {"code", "message"}}}``: a top-level
code of a few (``InvalidRequest``, ``InvalidArgument``, ``NotFound``, ...) with a
generic message, and the specific reason in ``innererror``. The API gateway in front
of it answers 401 and 429 itself, as ``{"error": {"code": "401"|"429", "message"}}``.
A failed analysis carries the same ``error`` object in its result (status 200).

:data:`AZURE_ERRORS` maps every code of :data:`app.errors.ERROR_CODES`
(docs/errors.md) to Azure's status, code and inner code; our message becomes the
inner message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import JsonResponse

from app.compat.views import ErrorShape
from app.errors import OcrError

#: The gateway's answer to a request without a key.
MISSING_KEY_MESSAGE = (
    "Access denied due to missing subscription key. Make sure to include subscription key "
    "when making requests to an API."
)
#: The gateway's answer to a key it does not know.
INVALID_KEY_MESSAGE = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
    "provide a valid key for an active subscription and use a correct regional API "
    "endpoint for your resource."
)

#: Azure's messages of its top-level codes (the specific reason is in ``innererror``).
TOP_MESSAGES = {
    "InvalidRequest": "Invalid request.",
    "InvalidArgument": "Invalid argument.",
    "Forbidden": "Access forbidden due to policy or other configuration.",
    "NotFound": "Resource not found.",
    "MethodNotAllowed": "The requested HTTP method is not allowed.",
    "Conflict": "The request could not be completed due to a conflict.",
    "UnsupportedMediaType": "Request content type is not supported.",
    "InternalServerError": "An unexpected error occurred.",
    "ServiceUnavailable": "A transient error has occurred. Try again.",
}


@dataclass(frozen=True, slots=True)
class AzureCode:
    """How one of our codes reads in Azure's shape.

    ``status``: the HTTP status when it answers a request; ``code``/``inner``: Azure's
    top-level and inner codes (``inner`` None: no ``innererror``, the gateway's own
    401 and 429); ``job_code``/``job_inner``: when a failed analysis reads otherwise.
    """

    status: int
    code: str
    inner: str | None
    job_code: str | None = None
    job_inner: str | None = None


#: Our stable error codes (app/errors.py) -> Azure's. tests/compat/test_azure.py checks
#: that every code of ``ERROR_CODES`` is here.
AZURE_ERRORS: dict[str, AzureCode] = {
    # The request and its options (query parameters, the JSON body).
    "invalid": AzureCode(400, "InvalidArgument", "InvalidParameter"),
    "invalid_request": AzureCode(400, "InvalidArgument", "InvalidContentSourceFormat"),
    "invalid_option": AzureCode(400, "InvalidArgument", "InvalidParameter"),
    "unknown_language": AzureCode(400, "InvalidArgument", "InvalidParameter"),
    "invalid_pages": AzureCode(400, "InvalidArgument", "InvalidParameter"),
    "engine_unavailable": AzureCode(503, "ServiceUnavailable", "ServiceUnavailable"),
    # The document.
    "invalid_image": AzureCode(400, "InvalidRequest", "InvalidContent"),
    "unsupported_format": AzureCode(400, "InvalidRequest", "UnsupportedContent"),
    "invalid_pdf": AzureCode(400, "InvalidRequest", "InvalidContent"),
    "encrypted_pdf": AzureCode(400, "InvalidRequest", "UnsupportedContent"),
    "file_too_large": AzureCode(400, "InvalidRequest", "InvalidContentLength"),
    "too_many_pixels": AzureCode(400, "InvalidRequest", "InvalidContentDimensions"),
    "too_many_pages": AzureCode(400, "InvalidRequest", "InvalidContent"),
    # urlSource.
    "url_unreachable": AzureCode(400, "InvalidRequest", "ContentSourceNotAccessible"),
    "url_forbidden": AzureCode(400, "InvalidRequest", "ContentSourceNotAccessible"),
    # A request: the urlSource download took too long; a failed analysis: recognition did.
    "timeout": AzureCode(
        400, "InvalidRequest", "ContentSourceTimeout", "InternalServerError", "Timeout"
    ),
    # Failed analyses.
    "engine_crash": AzureCode(500, "InternalServerError", "Unknown"),
    "provider_error": AzureCode(500, "InternalServerError", "Unknown"),
    "provider_auth": AzureCode(500, "InternalServerError", "Unknown"),
    "internal_error": AzureCode(500, "InternalServerError", "Unknown"),
    # Access and limits (the gateway's own shape for 401 and 429).
    "not_authenticated": AzureCode(401, "401", None),
    "authentication_failed": AzureCode(401, "401", None),
    "token_not_valid": AzureCode(401, "401", None),
    "permission_denied": AzureCode(403, "Forbidden", "AuthorizationFailed"),
    "quota_exceeded": AzureCode(429, "429", None),
    "throttled": AzureCode(429, "429", None),
    # Addresses and methods.
    "not_found": AzureCode(404, "NotFound", "OperationNotFound"),
    "method_not_allowed": AzureCode(405, "MethodNotAllowed", None),
    "not_acceptable": AzureCode(400, "InvalidRequest", None),
    "unsupported_media_type": AzureCode(415, "UnsupportedMediaType", None),
    # States.
    "not_ready": AzureCode(409, "Conflict", None),
    "already_finished": AzureCode(409, "Conflict", None),
    "idempotency_conflict": AzureCode(409, "Conflict", None),
}

_FALLBACK_4XX = AzureCode(400, "InvalidRequest", None)
_FALLBACK_5XX = AzureCode(500, "InternalServerError", "Unknown")


class AzureError(Exception):
    """An error answered in Azure's shape: ``status``, top-level ``code``, ``message``,
    and optionally ``inner`` (``innererror.code``) with ``inner_message``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | None = None,
        *,
        inner: str | None = None,
        inner_message: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message or TOP_MESSAGES.get(code, code)
        self.inner = inner
        self.inner_message = inner_message
        self.retry_after = retry_after
        super().__init__(f"{code}: {inner_message or self.message}")

    @classmethod
    def from_ocr(cls, exc: OcrError, *, inner: str | None = None) -> AzureError:
        """Our ``OcrError`` in Azure's terms (:data:`AZURE_ERRORS`); ``inner`` overrides
        the inner code (e.g. ``ModelNotFound`` for a 404 on a model)."""
        azure = azure_code(exc.code, exc.http_status)
        inner = inner or azure.inner
        if azure.status == 401:  # the gateway's fixed words, whatever our reason
            missing = exc.code == "not_authenticated"
            return cls(401, azure.code, MISSING_KEY_MESSAGE if missing else INVALID_KEY_MESSAGE)
        if inner is None:  # the gateway's 429, a conflict: our message is the message
            return cls(azure.status, azure.code, exc.message, retry_after=exc.retry_after)
        return cls(
            azure.status,
            azure.code,
            inner=inner,
            inner_message=exc.message,
            retry_after=exc.retry_after,
        )

    def body(self) -> dict[str, Any]:
        """``{"error": {...}}``."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.inner:
            error["innererror"] = {"code": self.inner, "message": self.inner_message or ""}
        return {"error": error}

    def response(self) -> JsonResponse:
        response = JsonResponse(self.body(), status=self.status)
        if self.retry_after is not None:
            response["Retry-After"] = str(max(0, int(self.retry_after)))
        return response


def azure_code(code: str, http_status: int = 400) -> AzureCode:
    """The Azure translation of our ``code`` (:data:`AZURE_ERRORS`); a code missing from
    the table reads as ``InvalidRequest`` (4xx) or ``InternalServerError``."""
    found = AZURE_ERRORS.get(code)
    if found is not None:
        return found
    return _FALLBACK_4XX if http_status < 500 else _FALLBACK_5XX


def job_error(code: str, message: str) -> dict[str, Any]:
    """The ``error`` object of a failed analysis whose job failed with ``code``."""
    azure = azure_code(code, 500)
    top = azure.job_code or azure.code
    if top in ("401", "429"):  # not a failure of an analysis; never a job's code
        top = "InternalServerError"
    error: dict[str, Any] = {"code": top, "message": TOP_MESSAGES.get(top, top)}
    inner = azure.job_inner or azure.inner
    error["innererror"] = {"code": inner or "Unknown", "message": message or ""}
    return error


def not_found(message: str, inner: str = "OperationNotFound") -> AzureError:
    """404 ``NotFound`` with ``inner`` (``OperationNotFound``, ``ModelNotFound``)."""
    return AzureError(404, "NotFound", inner=inner, inner_message=message)


def invalid_argument(message: str, inner: str = "InvalidParameter") -> AzureError:
    """400 ``InvalidArgument`` with ``inner`` (``InvalidParameter``, ``ParameterMissing``)."""
    return AzureError(400, "InvalidArgument", inner=inner, inner_message=message)


#: How Azure's failures answer (:func:`app.compat.views.compat_view`): the gateway's
#: 404 for a path it does not route.
AZURE_SHAPE = ErrorShape(
    name="azure",
    error=AzureError,
    from_ocr=AzureError.from_ocr,
    method_not_allowed=lambda method: AzureError(
        405, "MethodNotAllowed", f"{method} is not allowed here."
    ),
    server_error=lambda: AzureError(
        500, "InternalServerError", inner="Unknown", inner_message="Server error."
    ),
    not_found=lambda request: AzureError(404, "404", "Resource not found"),
)
