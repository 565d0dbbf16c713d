"""One error shape for the whole API: ``{"error": {"code", "message", "field"?}}``.

DRF's exceptions and :class:`app.errors.OcrError` both come out in this shape,
with stable codes (docs/errors.md). Validation errors name the first field at fault
and list every problem under ``details``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from app.errors import OcrError

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ParseError: "invalid_request",
    exceptions.Throttled: "quota_exceeded",
}


def error_response(
    code: str, message: str, status_code: int, *, field: str | None = None, **extra: Any
) -> Response:
    """A Response in the API's error shape."""
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    body.update(extra)
    return Response({"error": body}, status=status_code)


def _first_message(detail: Any) -> tuple[str | None, str, str]:
    """(field, message, code) of the first problem in a DRF error detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub_field, message, code = _first_message(value)
            name = key if key != "non_field_errors" else None
            if sub_field and name:
                name = f"{name}.{sub_field}"
            return (name or sub_field), message, code
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    code = getattr(detail, "code", None) or "invalid"
    return None, str(detail), code


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler producing the API's error shape."""
    if isinstance(exc, OcrError):
        set_rollback()
        response = error_response(exc.code, exc.message, exc.http_status, field=exc.field)
        if exc.retry_after is not None:
            response["Retry-After"] = str(max(0, int(exc.retry_after)))
        return response
    if isinstance(exc, RequestDataTooBig):
        return error_response("file_too_large", "The request body is too large.", 413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        field, message, code = _first_message(exc.detail)
        code = (
            code if code in {"invalid_option", "unknown_language", "invalid_image"} else "invalid"
        )
        response = error_response(
            code,
            f"{field}: {message}" if field else message,
            status.HTTP_400_BAD_REQUEST,
            field=field,
            details=exc.detail,
        )
    else:
        # An exact match first: subclasses such as simplejwt's InvalidToken keep
        # their own code (``token_not_valid``).
        code = _DRF_CODES.get(type(exc))
        if code is None and exc.default_code in ("error", "invalid"):
            code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
        if code is None:
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else exc.default_code
        detail = exc.detail
        message = str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
        response = error_response(code, message, exc.status_code)
    for key, value in headers.items():
        response[key] = value
    return response


def _is_api_path(request: Any) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: Any, exception: Exception | None = None) -> Any:
    """``handler404``: the API's error shape (``not_found``) under /api/, else Django's page.

    Covers what never reaches a DRF view: unknown /api/ paths and path parameters
    that do not match their converter (a job id that is not a UUID, page ``x``).
    """
    if _is_api_path(request):
        from django.http import JsonResponse

        return JsonResponse(
            {"error": {"code": "not_found", "message": "No such resource."}}, status=404
        )
    from django.views.defaults import page_not_found as django_page_not_found

    return django_page_not_found(request, exception)


def server_error(request: Any) -> Any:
    """``handler500``: the API's error shape (``internal_error``) under /api/, else Django's."""
    if _is_api_path(request):
        from django.http import JsonResponse

        return JsonResponse(
            {"error": {"code": "internal_error", "message": "Internal server error."}},
            status=500,
        )
    from django.views.defaults import server_error as django_server_error

    return django_server_error(request)
