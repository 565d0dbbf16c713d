"""Exceptions raised by the client, each carrying the service's stable error code.

The service answers every error under ``/api/`` as
``{"error": {"code": ..., "message": ..., "field": ...}}`` (the service's
``docs/errors.md``). :class:`OnlineOcrError` carries those fields; its subclasses
group the codes into the families a program usually branches on. Branch on
``exc.code`` for anything finer: the codes are stable, the messages are not.

Codes made by the client itself (never sent by the service):

- ``connection_error``: the service could not be reached (:class:`ApiConnectionError`).
- ``wait_timeout``: :meth:`Client.wait` gave up before the job ended (:class:`WaitTimeout`).
- ``canceled``: :meth:`Client.ocr` waited for a job that was canceled (:class:`JobFailedError`).
- ``invalid_response``: the answer was not the JSON the client expected.
- ``invalid_signature``: a webhook failed verification (:class:`WebhookVerificationError`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onlineocr_client.models import Job


class OnlineOcrError(Exception):
    """An error answered by the service (or found by the client).

    Attributes:
        code: the stable error code, e.g. ``"unsupported_format"``.
        message: what went wrong, for people (may change between versions).
        status: the HTTP status of the answer, or ``None`` for client-side errors and
            failed jobs.
        field: the request field at fault, when the service names one.
        details: every validation problem by field (code ``invalid`` only), else ``None``.
        retry_after: seconds to wait before retrying (the ``Retry-After`` header), if given.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        status: int | None = None,
        field: str | None = None,
        *,
        details: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.status = status
        self.field = field
        self.details = details
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"status={self.status!r}, field={self.field!r})"
        )


class InvalidRequestError(OnlineOcrError):
    """400-family errors about the request: options, languages, engine, fields, URLs."""


class InvalidDocumentError(InvalidRequestError):
    """The document itself was refused: ``invalid_image``, ``unsupported_format``,
    ``file_too_large``, ``too_many_pixels``, ``too_many_pages``, ``invalid_pdf``,
    ``encrypted_pdf``."""


class AuthenticationError(OnlineOcrError):
    """401: ``not_authenticated``, ``authentication_failed``, ``token_not_valid``."""


class PermissionDeniedError(OnlineOcrError):
    """403 ``permission_denied``, e.g. making an API key with an API key."""


class NotFoundError(OnlineOcrError):
    """404 ``not_found``: no such job, page, batch or key, or not yours."""


class ConflictError(OnlineOcrError):
    """409: ``not_ready``, ``already_finished``, ``idempotency_conflict``."""


class RateLimitError(OnlineOcrError):
    """429 ``quota_exceeded`` (or ``throttled``); ``retry_after`` says when to try again.

    The client retries these by itself when ``Retry-After`` is short (see
    ``Client(max_retry_wait=...)``); this is raised once it gives up.
    """


class ServerError(OnlineOcrError):
    """5xx answers: ``internal_error``, ``timeout``, ``provider_error``, ... or an
    unexpected server failure without the error shape."""


class ApiConnectionError(OnlineOcrError):
    """The service could not be reached or the connection broke (code ``connection_error``)."""


class WaitTimeout(OnlineOcrError, TimeoutError):
    """Waiting for a job or batch took longer than the ``timeout`` given (code
    ``wait_timeout``). The job (or batch) goes on on the server; ``id`` says which."""

    def __init__(self, message: str, *, id: str) -> None:  # noqa: A002
        super().__init__("wait_timeout", message)
        self.id = id


class JobFailedError(OnlineOcrError):
    """:meth:`Client.ocr` waited for a job that ended ``failed`` (``code`` is the job's
    error code, e.g. ``too_many_pixels``) or ``canceled`` (code ``canceled``).

    ``job`` is the finished :class:`~onlineocr_client.models.Job`.
    """

    def __init__(self, job: Job) -> None:
        if job.error is not None:
            code, message = job.error.code, job.error.message
        else:
            code, message = job.status, f"The job ended {job.status}."
        super().__init__(code, message)
        self.job = job


class WebhookVerificationError(OnlineOcrError, ValueError):
    """A webhook whose signature, timestamp or headers did not verify (code
    ``invalid_signature``). Never act on its payload."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid_signature", message)


_BY_CODE: dict[str, type[OnlineOcrError]] = {
    **dict.fromkeys(
        (
            "invalid_image",
            "unsupported_format",
            "file_too_large",
            "too_many_pixels",
            "too_many_pages",
            "invalid_pdf",
            "encrypted_pdf",
        ),
        InvalidDocumentError,
    ),
    **dict.fromkeys(
        (
            "invalid",
            "invalid_request",
            "invalid_option",
            "unknown_language",
            "engine_unavailable",
            "invalid_pages",
            "url_unreachable",
            "url_forbidden",
            "unsupported_media_type",
            "method_not_allowed",
            "not_acceptable",
        ),
        InvalidRequestError,
    ),
    **dict.fromkeys(
        ("not_authenticated", "authentication_failed", "token_not_valid"), AuthenticationError
    ),
    "permission_denied": PermissionDeniedError,
    "not_found": NotFoundError,
    **dict.fromkeys(("not_ready", "already_finished", "idempotency_conflict"), ConflictError),
    **dict.fromkeys(("quota_exceeded", "throttled"), RateLimitError),
}

_BY_STATUS: dict[int, type[OnlineOcrError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: InvalidDocumentError,
    415: InvalidDocumentError,
    429: RateLimitError,
}


def error_class(code: str, status: int | None) -> type[OnlineOcrError]:
    """The exception class for an error ``code`` (then by HTTP ``status``)."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls
    if status is not None:
        if status in _BY_STATUS:
            return _BY_STATUS[status]
        if status >= 500:
            return ServerError
    return OnlineOcrError


__all__ = [
    "ApiConnectionError",
    "AuthenticationError",
    "ConflictError",
    "InvalidDocumentError",
    "InvalidRequestError",
    "JobFailedError",
    "NotFoundError",
    "OnlineOcrError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "WaitTimeout",
    "WebhookVerificationError",
    "error_class",
]
