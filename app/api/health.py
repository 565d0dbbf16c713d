"""Readiness checks for ``/api/health/``: database, broker, Tesseract.

Each check returns ``{"ok": bool, "detail": str, "seconds": float}`` and never
raises; a check has a short timeout so the endpoint answers within ~3 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

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


def check_broker() -> str:
    """Connect to the Celery broker (2 s timeout)."""
    from onlineocr.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return conn.transport_cls if isinstance(conn.transport_cls, str) else "connected"


def check_tesseract() -> str:
    """The Tesseract engine is available with at least one language."""
    info = next(i for i in registry.all_engine_info() if i.name == "tesseract")
    if not info.available or not info.languages:
        raise RuntimeError(info.reason or "no languages installed")
    return f"{info.version} ({'+'.join(info.languages)})"


def run_checks() -> dict[str, dict[str, Any]]:
    """All checks by name."""
    return {
        "database": _timed(check_database),
        "broker": _timed(check_broker),
        "tesseract": _timed(check_tesseract),
    }
