"""CLOVA OCR's error shape, and our stable error codes translated into it (one table).

CLOVA answers a refused call with ``{"code", "message", "path", "traceId",
"timestamp"}`` (NAVER Cloud, "CLOVA OCR overview", response status codes:
https://api.ncloud-docs.com/docs/ai-application-service-ocr). Its codes, statuses and
messages are :data:`CLOVA_MESSAGES`; ``path`` is the request's path, ``traceId`` a
32-hex id of the call, ``timestamp`` milliseconds since the epoch. Our ``message``
starts with CLOVA's documented words and adds the reason after them.

:data:`CLOVA_ERRORS` maps every code of :data:`app.errors.ERROR_CODES`
(docs/errors.md) to CLOVA's status and code. A job that failed after it was accepted
is not an error of the call: it is an image whose ``inferResult`` is not ``SUCCESS``
(:mod:`app.compat.clova.results`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.http import JsonResponse

from app.compat.views import ErrorShape
from app.errors import OcrError

#: The media type of every answer (CLOVA writes UTF-8 JSON, non-ASCII text as is).
CONTENT_TYPE = "application/json;charset=UTF-8"

#: CLOVA's documented error codes -> their messages.
CLOVA_MESSAGES = {
    "0001": "URL is invalid.",
    "0002": "Secret key validate failed.",
    "0011": "Request body invalid.",
    "0021": "Protocol version not support.",
    "0022": "Request domain invalid.",
    "0023": "API request count reach the upper limit.",
    "0025": "Calls to this api have exceeded the rate limit.",
    "0028": "Table detection disabled: Please activate the table extractor button.",
    "0500": "Unknown service error.",
    "0501": "OCR service error.",
}


@dataclass(frozen=True, slots=True)
class ClovaCode:
    """How one of our codes reads in CLOVA's shape: HTTP ``status`` and CLOVA ``code``."""

    status: int
    code: str


_BODY = ClovaCode(400, "0011")
_URL = ClovaCode(400, "0001")
_OCR = ClovaCode(500, "0501")

#: Our stable error codes (app/errors.py) -> CLOVA's. tests/compat/test_clova.py checks
#: that every code of ``ERROR_CODES`` is here.
CLOVA_ERRORS: dict[str, ClovaCode] = {
    # The request body and the document in it: CLOVA has one code for all of them.
    "invalid": _BODY,
    "invalid_request": _BODY,
    "invalid_option": _BODY,
    "unknown_language": _BODY,
    "invalid_pages": _BODY,
    "invalid_image": _BODY,
    "unsupported_format": _BODY,
    "invalid_pdf": _BODY,
    "encrypted_pdf": _BODY,
    "file_too_large": _BODY,
    "too_many_pixels": _BODY,
    "too_many_pages": _BODY,
    "unsupported_media_type": _BODY,
    "not_acceptable": _BODY,
    "idempotency_conflict": _BODY,
    # images[].url: refused (a private address) or not downloaded.
    "url_unreachable": _URL,
    "url_forbidden": _URL,
    "timeout": _URL,  # as a refusal of a call, only the url download times out
    # The key (X-OCR-SECRET).
    "not_authenticated": ClovaCode(401, "0002"),
    "authentication_failed": ClovaCode(401, "0002"),
    "token_not_valid": ClovaCode(401, "0002"),
    "permission_denied": ClovaCode(401, "0002"),
    # Limits: the daily page quota is the request count limit; the throttle the
    # rate limit (the call site tells them apart, :func:`rate_limited`).
    "quota_exceeded": ClovaCode(400, "0023"),
    "throttled": ClovaCode(400, "0025"),
    # Addresses and methods: the invoke URL is not one we serve.
    "not_found": ClovaCode(404, "0001"),
    "method_not_allowed": ClovaCode(405, "0001"),
    # Recognition and the server.
    "engine_unavailable": _OCR,
    "engine_crash": _OCR,
    "provider_error": _OCR,
    "provider_auth": _OCR,
    "not_ready": _OCR,
    "already_finished": _OCR,
    "internal_error": ClovaCode(500, "0500"),
}


class ClovaError(Exception):
    """An error answered in CLOVA's shape: HTTP ``status``, CLOVA ``code``, and a
    ``detail`` said after the code's documented message; ``retry_after`` seconds
    become a ``Retry-After`` header."""

    def __init__(
        self, status: int, code: str, detail: str = "", *, retry_after: int | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(f"{code}: {self.message}")

    @property
    def message(self) -> str:
        base = CLOVA_MESSAGES.get(self.code, CLOVA_MESSAGES["0500"])
        return f"{base} {self.detail}".strip()

    @classmethod
    def from_ocr(cls, exc: OcrError) -> ClovaError:
        """Our ``OcrError`` in CLOVA's terms (:data:`CLOVA_ERRORS`); a code missing from
        the table reads as ``0011`` (4xx) or ``0500``."""
        clova = CLOVA_ERRORS.get(exc.code)
        if clova is None:
            clova = _BODY if exc.http_status < 500 else ClovaCode(500, "0500")
        return cls(clova.status, clova.code, exc.message, retry_after=exc.retry_after)

    def body(self, path: str) -> dict[str, Any]:
        """``{"code", "message", "path", "traceId", "timestamp"}``."""
        return {
            "code": self.code,
            "message": self.message,
            "path": path,
            "traceId": uuid.uuid4().hex,
            "timestamp": int(time.time() * 1000),
        }

    def response(self, path: str) -> JsonResponse:
        response = json_response(self.body(path), status=self.status)
        if self.retry_after is not None:
            response["Retry-After"] = str(max(0, int(self.retry_after)))
        return response


def body_invalid(detail: str) -> ClovaError:
    """400 ``0011`` Request body invalid."""
    return ClovaError(400, "0011", detail)


def rate_limited(exc: OcrError) -> ClovaError:
    """The user throttle's ``quota_exceeded`` as CLOVA's rate limit (400 ``0025``)."""
    return ClovaError(400, "0025", exc.message, retry_after=exc.retry_after)


def json_response(body: dict[str, Any], status: int = 200) -> JsonResponse:
    """``body`` as CLOVA writes JSON: UTF-8, non-ASCII characters unescaped."""
    return JsonResponse(
        body, status=status, content_type=CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
    )


#: How CLOVA's failures answer (:func:`app.compat.views.compat_view`): the body names
#: the request's path; a path or a method not served is ``0001`` (URL is invalid).
CLOVA_SHAPE = ErrorShape(
    name="clova",
    error=ClovaError,
    from_ocr=ClovaError.from_ocr,
    method_not_allowed=lambda method: ClovaError(
        405, "0001", f"{method} is not served; POST the image."
    ),
    server_error=lambda: ClovaError(500, "0500"),
    not_found=lambda request: ClovaError(
        404, "0001", "This service serves POST {invoke_url}/general only."
    ),
    respond=lambda error, request: error.response(request.path),
)
