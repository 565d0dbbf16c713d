"""computervision.com.vn's answer shape for errors, and our error codes mapped to it.

Every answer of the service is ``{"data": [...], "errorCode": "<digits>",
"errorMessage": "..."}``. Its documented codes (the "Bảng mã lỗi" table of
docs.computervision.com.vn, v2 OCR pages):

====  ===================================  ==========================================
code  errorMessage                         when
====  ===================================  ==========================================
0     (empty)                              success
1     The photo does not contain content   nothing was read on any page
2     Url is unavailable                   the ``img`` URL could not be downloaded
3     Incorrect image format               the upload is not a readable image or PDF
4     Out of requests                      request or page quota used up
5     Incorrect Api_key or api_secret      HTTP Basic credentials refused
6     Incorrect format type                ``format_type`` does not match the request
====  ===================================  ==========================================

HTTP statuses are ours (the provider's are not documented): 200 for 0 and 1, 400 for
2 and 6, 400/413/415 for 3 (the status of our own code), 429 with ``Retry-After``
for 4, 401 with ``WWW-Authenticate: Basic`` for 5. What the table has no code for
(a path that does not exist, a method, a recognition that failed or did not finish
in time) answers with its HTTP status as ``errorCode`` (``"404"``, ``"405"``,
``"500"``, ``"504"``) and ``data: []``. :data:`CODES` maps every code of
:data:`app.errors.ERROR_CODES` (docs/errors.md).
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse

from app.compat.views import ErrorShape
from app.errors import ERROR_STATUS, OcrError

NO_CONTENT = "1"
URL_UNAVAILABLE = "2"
BAD_IMAGE = "3"
OUT_OF_REQUESTS = "4"
BAD_KEY = "5"
BAD_FORMAT_TYPE = "6"

#: The provider's words for its codes (the docs' table; its typo "ncorrect" fixed).
MESSAGES = {
    NO_CONTENT: "The photo does not contain content",
    URL_UNAVAILABLE: "Url is unavailable",
    BAD_IMAGE: "Incorrect image format",
    OUT_OF_REQUESTS: "Out of requests",
    BAD_KEY: "Incorrect Api_key or api_secret",
    BAD_FORMAT_TYPE: "Incorrect format type",
}

#: The realm of the ``WWW-Authenticate`` challenge sent with code 5.
REALM = "computervision"

#: Our stable error codes (app/errors.py) -> the provider's ``errorCode``; None: the
#: HTTP status is the code (a failure the provider's table has no code for).
CODES: dict[str, str | None] = {
    # The request and its options.
    "invalid": BAD_FORMAT_TYPE,
    "invalid_request": BAD_IMAGE,
    "invalid_option": BAD_FORMAT_TYPE,
    "unknown_language": None,
    "invalid_pages": BAD_IMAGE,
    "engine_unavailable": None,
    # The document.
    "invalid_image": BAD_IMAGE,
    "unsupported_format": BAD_IMAGE,
    "invalid_pdf": BAD_IMAGE,
    "encrypted_pdf": BAD_IMAGE,
    "file_too_large": BAD_IMAGE,
    "too_many_pixels": BAD_IMAGE,
    "too_many_pages": BAD_IMAGE,
    # img=<URL> (errors of the download are all code 2, see submission.fetch).
    "url_unreachable": URL_UNAVAILABLE,
    "url_forbidden": URL_UNAVAILABLE,
    # Recognition.
    "timeout": None,
    "engine_crash": None,
    "provider_error": None,
    "provider_auth": None,
    "internal_error": None,
    # Access and limits.
    "not_authenticated": BAD_KEY,
    "authentication_failed": BAD_KEY,
    "token_not_valid": BAD_KEY,
    "permission_denied": BAD_KEY,
    "quota_exceeded": OUT_OF_REQUESTS,
    "throttled": OUT_OF_REQUESTS,
    # Addresses, methods, states.
    "not_found": None,
    "method_not_allowed": None,
    "not_acceptable": None,
    "unsupported_media_type": BAD_FORMAT_TYPE,
    "not_ready": None,
    "already_finished": None,
    "idempotency_conflict": None,
}

#: HTTP status of each documented code (3 takes our own code's 4xx status).
STATUSES = {
    NO_CONTENT: 200,
    URL_UNAVAILABLE: 400,
    BAD_IMAGE: 400,
    OUT_OF_REQUESTS: 429,
    BAD_KEY: 401,
    BAD_FORMAT_TYPE: 400,
}


class CvError(Exception):
    """An error answered in the provider's shape.

    ``code``: the ``errorCode`` (a documented digit, or an HTTP status as text);
    ``status``: the HTTP status; ``message``: the ``errorMessage`` (the provider's
    words, then ours after a colon); ``retry_after``: seconds, for code 4.
    """

    def __init__(
        self, code: str, message: str, *, status: int, retry_after: int | None = None
    ) -> None:
        self.code = code
        self.status = status
        self.message = message
        self.retry_after = retry_after
        super().__init__(f"{code}: {message}")

    @classmethod
    def documented(cls, code: str, detail: str = "", *, status: int | None = None) -> CvError:
        """Documented ``code`` with its words and ``detail`` (ours) after a colon."""
        words = MESSAGES[code]
        return cls(code, f"{words}: {detail}" if detail else words, status=status or STATUSES[code])

    @classmethod
    def from_ocr(cls, exc: OcrError) -> CvError:
        """Our ``OcrError`` in the provider's terms (:data:`CODES`)."""
        return cls.from_code(exc.code, exc.message, exc.http_status, retry_after=exc.retry_after)

    @classmethod
    def from_code(
        cls,
        ours: str,
        detail: str,
        http_status: int | None = None,
        *,
        retry_after: int | None = None,
    ) -> CvError:
        """Our code ``ours`` (with our message ``detail``) as the provider's error;
        ``http_status``: the status our code answers with (default: its table's)."""
        http_status = http_status or ERROR_STATUS.get(ours, 400)
        code = CODES.get(ours, BAD_IMAGE if http_status < 500 else None)
        if code is None:
            return cls(str(http_status), detail, status=http_status)
        status = STATUSES[code]
        if code == BAD_IMAGE and 400 <= http_status < 500:
            status = http_status  # 413 too large, 415 not an image or PDF
        error = cls.documented(code, detail, status=status)
        error.retry_after = retry_after if code == OUT_OF_REQUESTS else None
        return error

    def body(self) -> dict[str, Any]:
        """``{"data": [], "errorCode", "errorMessage"}``."""
        return {"data": [], "errorCode": self.code, "errorMessage": self.message}

    def response(self) -> JsonResponse:
        response = JsonResponse(self.body(), status=self.status)
        if self.code == OUT_OF_REQUESTS:
            response["Retry-After"] = str(max(1, int(self.retry_after or 1)))
        if self.code == BAD_KEY:
            response["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
        return response


#: How the provider's failures answer (:func:`app.compat.views.compat_view`): what its
#: table has no code for carries the HTTP status as ``errorCode``.
CV_SHAPE = ErrorShape(
    name="computervision",
    error=CvError,
    from_ocr=CvError.from_ocr,
    method_not_allowed=lambda method: CvError("405", f"{method} is not allowed here.", status=405),
    server_error=lambda: CvError("500", "Server error.", status=500),
    not_found=lambda request: CvError("404", f"Not found: {request.path}", status=404),
)
