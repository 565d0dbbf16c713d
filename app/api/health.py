"""Readiness checks for ``/api/health/``: database, broker, Tesseract, workers, disk.

Each check returns ``{"ok": bool, "detail": str, "seconds": float}`` and never
raises; a check has a short timeout so the endpoint answers within ~3 s.
Liveness (``/api/health/live/``) runs none of them: it only shows the process answers.

The details name paths, free disk space, worker host names and versions, so the
public answer is the status alone; :func:`may_see_details` decides who sees them
(staff users, or the bearer of the metrics token ``OCR_METRICS_TOKEN``).
"""

from __future__ import annotations

import hmac
import shutil
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection
from django.http import HttpRequest
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication

from app.engines import registry


def _timed(check: Callable[[], str]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # a health check reports, it never raises
        detail, ok = f"{exc.__class__.__name__}: {exc}"[:300], False
    return {"ok": ok, "detail": detail, "seconds": round(time.perf_counter() - started, 4)}


def check_database() -> str:
    """``SELECT 1`` on the default database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _broker_connection():
    """A new kombu connection to ``CELERY_BROKER_URL`` (2 s connect timeout).

    Checks use connections of their own, never the Celery app's pools, so a
    failing check cannot leave a broken connection behind for the producers.
    """
    from kombu import Connection

    return Connection(
        settings.CELERY_BROKER_URL,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        connect_timeout=2,
    )


def check_broker() -> str:
    """Open a fresh connection to the broker in ``CELERY_BROKER_URL`` (2 s timeout).

    A connection of its own, not the Celery app's pool, so a failing check never
    disturbs the producers that enqueue jobs.
    """
    with _broker_connection() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        name = conn.transport_cls
        return name if isinstance(name, str) else "connected"


def check_tesseract() -> str:
    """The Tesseract engine is available with at least one language."""
    info = next(i for i in registry.all_engine_info() if i.name == "tesseract")
    if not info.available or not info.languages:
        raise RuntimeError(info.reason or "no languages installed")
    return f"{info.version} ({'+'.join(info.languages)})"


def check_workers() -> str:
    """At least one Celery worker answers a ping within ``OCR_HEALTH_WORKER_TIMEOUT`` s.

    With ``OCR_HEALTH_REQUIRE_WORKER=false`` (a web host whose readiness must
    not depend on the worker fleet) no answer is reported but not a failure.
    """
    from onlineocr.celery import app

    with _broker_connection() as conn:
        replies = app.control.ping(timeout=settings.OCR_HEALTH_WORKER_TIMEOUT, connection=conn)
    replies = replies or []
    names = sorted(name for reply in replies for name in reply)
    if not names:
        if settings.OCR_HEALTH_REQUIRE_WORKER:
            raise RuntimeError("no worker answered")
        return "no worker answered (not required)"
    return f"{len(names)} worker(s): {', '.join(names)[:200]}"


def check_disk() -> str:
    """Free space on the media and var/ filesystems is above ``OCR_HEALTH_MIN_FREE_MB``."""
    paths = {str(settings.VAR_DIR)}
    if isinstance(default_storage, FileSystemStorage):
        paths.add(str(settings.MEDIA_ROOT))
    parts = []
    for path in sorted(paths):
        free_mb = shutil.disk_usage(path).free // (1024 * 1024)
        if free_mb < settings.OCR_HEALTH_MIN_FREE_MB:
            raise RuntimeError(
                f"{path}: {free_mb} MB free, below {settings.OCR_HEALTH_MIN_FREE_MB} MB"
            )
        parts.append(f"{path}: {free_mb} MB free")
    return "; ".join(parts)


def run_checks() -> dict[str, dict[str, Any]]:
    """All checks by name."""
    return {
        "database": _timed(check_database),
        "broker": _timed(check_broker),
        "tesseract": _timed(check_tesseract),
        "workers": _timed(check_workers),
        "disk": _timed(check_disk),
    }


_public_lock = threading.Lock()
_public_status: tuple[float, bool] | None = None  # (monotonic time, all checks passed)


def public_ok() -> bool:
    """Whether every check passes, for callers who see only the status.

    The answer is kept ``OCR_HEALTH_PUBLIC_CACHE_SECONDS`` (default 5 s) per
    process: the checks open a broker connection and ping the workers (up to
    ``OCR_HEALTH_WORKER_TIMEOUT`` s), and the public endpoint is unauthenticated
    and unthrottled (load balancers probe it), so a flood of anonymous calls
    runs them at most once per window instead of once per call. Staff and the
    metrics token always get fresh checks (:func:`run_checks`). 0 turns it off.
    """
    global _public_status
    ttl = settings.OCR_HEALTH_PUBLIC_CACHE_SECONDS
    if ttl <= 0:
        _public_status = None
        return all(c["ok"] for c in run_checks().values())
    with _public_lock:
        now = time.monotonic()
        if _public_status is not None and now - _public_status[0] < ttl:
            return _public_status[1]
        ok = all(c["ok"] for c in run_checks().values())
        _public_status = (time.monotonic(), ok)
        return ok


def presents_metrics_token(request: HttpRequest | Request) -> bool:
    """``Authorization: Bearer <OCR_METRICS_TOKEN>`` with a token configured (constant time)."""
    token = settings.OCR_METRICS_TOKEN
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if not token or not auth.startswith("Bearer "):
        return False
    return hmac.compare_digest(auth[7:].strip().encode(), token.encode())


class _Quiet:
    """An authentication class whose failures count as "not authenticated" (no 401)."""

    def authenticate(self, request: Request) -> Any:
        try:
            return super().authenticate(request)  # type: ignore[misc]
        except APIException:
            return None


class QuietSessionAuthentication(_Quiet, SessionAuthentication):
    """The session cookie, if valid (health checks are GET: no CSRF check applies)."""


class QuietJWTAuthentication(_Quiet, JWTAuthentication):
    """A JWT, if valid; another bearer (the metrics token, an expired JWT) is ignored."""


#: ``HealthView.authentication_classes``: a bad credential never turns the status into a 401.
AUTHENTICATION_CLASSES = [QuietSessionAuthentication, QuietJWTAuthentication]
#: The same for the OpenAPI schema: a JWT, a session cookie, or nothing at all.
OPENAPI_AUTH: list[dict[str, list[str]]] = [{"jwtAuth": []}, {"cookieAuth": []}, {}]


def may_see_details(request: Request) -> bool:
    """The metrics token, or an active staff user (by session or JWT)."""
    if presents_metrics_token(request):
        return True
    user = request.user
    return bool(user and user.is_active and user.is_staff)
