"""Readiness checks for ``/api/health/``: database, broker, Tesseract, workers, disk.

Each check returns ``{"ok": bool, "detail": str, "seconds": float}`` and never
raises; a check has a short timeout so the endpoint answers within ~3 s.
Liveness (``/api/health/live/``) runs none of them: it only shows the process answers.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection

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
