"""HTTP plumbing shared by the cloud providers: sessions, retries, error mapping.

* :class:`HttpSettings` reads the ``OCR_PROVIDER_*`` keys of the engine config:
  ``OCR_PROVIDER_CONNECT_TIMEOUT`` / ``OCR_PROVIDER_READ_TIMEOUT`` (seconds),
  ``OCR_PROVIDER_RETRIES`` (retries after the first attempt),
  ``OCR_PROVIDER_POLL_TIMEOUT`` (seconds an asynchronous job may take) and the
  optional ``OCR_PROVIDER_BACKOFF_FACTOR`` (seconds, default 0.5),
  ``OCR_PROVIDER_RETRY_AFTER_MAX`` (seconds, default 30) and
  ``OCR_PROVIDER_POLL_INTERVAL`` (seconds, default 1.0).
* :func:`make_session` builds a :class:`requests.Session` whose adapter retries
  with urllib3's :class:`~urllib3.util.Retry`: connection errors, HTTP 5xx and
  429, with exponential backoff (``backoff_factor * 2 ** (n - 1)`` seconds) or
  the server's ``Retry-After`` (seconds or an HTTP date, capped at
  ``retry_after_max``). POST is retried too (the providers' calls are
  idempotent reads or cheap re-submissions). Other 4xx answers and read
  timeouts are never retried (a slow OCR would be billed twice).
* :func:`send` performs one request and turns transport failures into
  :class:`~app.errors.OcrError`: read/connect timeouts -> ``timeout``, other
  connection failures -> ``provider_error``.
* :func:`check_status` maps an HTTP error answer: 401/403 -> ``provider_auth``,
  429 (after the retries) -> ``quota_exceeded``, anything else >= 400 ->
  ``provider_error``.

Messages name the provider and the HTTP status, never a URL, header or
credential (:func:`scrub` removes credentials from provider text and raw
responses before they are stored).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from app.errors import OcrError

log = logging.getLogger(__name__)

#: HTTP statuses retried by the session (429 honours ``Retry-After``).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Longest provider message copied into an error (characters).
MAX_MESSAGE = 300


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Timeouts (seconds), retry count and polling limits for one provider."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 3
    backoff_factor: float = 0.5
    retry_after_max: float = 30.0
    poll_timeout: float = 120.0
    poll_interval: float = 1.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HttpSettings:
        """Read the ``OCR_PROVIDER_*`` keys (see the module docstring)."""

        def num(key: str, default: float) -> float:
            value = config.get(key)
            return default if value in (None, "") else float(value)

        d = cls()
        return cls(
            connect_timeout=num("OCR_PROVIDER_CONNECT_TIMEOUT", d.connect_timeout),
            read_timeout=num("OCR_PROVIDER_READ_TIMEOUT", d.read_timeout),
            retries=max(0, int(num("OCR_PROVIDER_RETRIES", d.retries))),
            backoff_factor=num("OCR_PROVIDER_BACKOFF_FACTOR", d.backoff_factor),
            retry_after_max=num("OCR_PROVIDER_RETRY_AFTER_MAX", d.retry_after_max),
            poll_timeout=num("OCR_PROVIDER_POLL_TIMEOUT", d.poll_timeout),
            poll_interval=num("OCR_PROVIDER_POLL_INTERVAL", d.poll_interval),
        )

    @property
    def timeout(self) -> tuple[float, float]:
        """The ``(connect, read)`` pair handed to requests."""
        return (self.connect_timeout, self.read_timeout)


class CappedRetry(Retry):
    """:class:`Retry` whose ``Retry-After`` wait never exceeds ``cap`` seconds.

    (urllib3 >= 2.6 has ``retry_after_max`` built in; this works on any 2.x.)
    """

    cap: float = 30.0

    def new(self, **kw: Any) -> CappedRetry:
        retry = super().new(**kw)
        retry.cap = self.cap
        return retry

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), self.cap)


def make_retry(settings: HttpSettings) -> CappedRetry:
    """The retry policy of :func:`make_session` (see the module docstring)."""
    retry = CappedRetry(
        total=settings.retries,
        connect=settings.retries,
        read=False,  # a read timeout re-raises at once as ReadTimeout
        status=settings.retries,
        other=0,
        redirect=0,
        allowed_methods=None,  # every method, POST included
        status_forcelist=RETRY_STATUSES,
        backoff_factor=settings.backoff_factor,
        respect_retry_after_header=True,
        raise_on_status=False,  # hand back the last answer; check_status maps it
        raise_on_redirect=False,
    )
    retry.cap = settings.retry_after_max
    return retry


def make_session(settings: HttpSettings, *, retry: bool = True) -> requests.Session:
    """A session retrying as the module docstring says (``retry=False``: never)."""
    session = requests.Session()
    session.trust_env = False  # no ~/.netrc credentials or proxy surprises
    adapter = HTTPAdapter(max_retries=make_retry(settings) if retry else Retry(0, read=False))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    provider: str,
    timeout: tuple[float, float],
    **kwargs: Any,
) -> requests.Response:
    """Perform one request (with the session's retries).

    Returns the response whatever its status. Raises ``OcrError("timeout")`` on
    a connect or read timeout and ``OcrError("provider_error")`` when the
    provider cannot be reached.
    """
    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except (requests.ConnectTimeout, requests.ReadTimeout) as exc:
        log.warning("%s: %s", provider, exc.__class__.__name__)
        which = "connect" if isinstance(exc, requests.ConnectTimeout) else "answer"
        limit = timeout[0] if which == "connect" else timeout[1]
        raise OcrError("timeout", f"{provider} did not {which} within {limit:g} s.") from None
    except requests.ConnectionError as exc:
        if _is_read_timeout(exc):
            log.warning("%s: read timeout", provider)
            raise OcrError(
                "timeout", f"{provider} did not answer within {timeout[1]:g} s."
            ) from None
        log.warning("%s: connection failed (%s)", provider, exc.__class__.__name__)
        raise OcrError("provider_error", f"Could not reach {provider}.") from None
    except requests.RequestException as exc:
        log.warning("%s: request failed (%s)", provider, exc.__class__.__name__)
        raise OcrError("provider_error", f"Request to {provider} failed.") from None


def _is_read_timeout(exc: BaseException) -> bool:
    return any(isinstance(arg, ReadTimeoutError) for arg in exc.args)


def provider_message(response: requests.Response, secrets: Iterable[str] = ()) -> str:
    """A short, credential-free message from an error answer's body ('' if none)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    text = ""
    if isinstance(body, dict):
        for key in ("message", "errorMessage", "detail", "error", "msg"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value.strip():
                text = value.strip()
                break
    return scrub(text, secrets)[:MAX_MESSAGE]


def check_status(
    response: requests.Response, *, provider: str, secrets: Iterable[str] = ()
) -> None:
    """Raise the :class:`OcrError` for an HTTP error answer; do nothing below 400."""
    status = response.status_code
    if status < 400:
        return
    detail = provider_message(response, secrets)
    suffix = f": {detail}" if detail else "."
    log.warning("%s answered HTTP %s", provider, status)
    if status in (401, 403):
        raise OcrError("provider_auth", f"{provider} rejected our credentials (HTTP {status}).")
    if status == 429:
        raise OcrError("quota_exceeded", f"{provider} rate limit or quota exceeded{suffix}")
    raise OcrError("provider_error", f"{provider} answered HTTP {status}{suffix}")


def json_body(response: requests.Response, *, provider: str) -> Any:
    """The JSON body; raises ``OcrError("provider_error")`` when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        raise OcrError("provider_error", f"{provider} answered with invalid JSON.") from None


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of ``value`` (JSON-like) with every credential string replaced by ``***``."""
    secrets = [s for s in secrets if s]
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return {scrub(k, secrets): scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, secrets) for v in value]
    return value
