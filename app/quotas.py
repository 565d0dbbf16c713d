"""The optional daily page quota per user (``OCR_DAILY_PAGE_QUOTA``).

A day is a UTC calendar day. Staff users and anonymous callers (throttled per
IP instead) have no page quota. Two submissions racing at the very limit may
both pass; the quota is a fairness limit, not a billing meter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Sum

from app.errors import OcrError
from app.models import Job


def _day_start(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def pages_used_today(*, owner: Any, now: datetime | None = None) -> int:
    """Pages of ``owner``'s jobs created since midnight UTC.

    A job's ``page_count`` is what it was charged at submission: the selected
    pages of what the document really has (a PDF's readable pages, not the
    ``/Count`` it declares: ``inputs.inspect_document``).
    """
    start = _day_start(now or datetime.now(UTC))
    total = Job.objects.filter(owner=owner, created_at__gte=start).aggregate(n=Sum("page_count"))
    return int(total["n"] or 0)


def check_daily_page_quota(*, owner: Any, pages: int, now: datetime | None = None) -> None:
    """Raise ``OcrError("quota_exceeded")`` (429, Retry-After: seconds to midnight UTC)
    when ``pages`` more would take ``owner`` past ``OCR_DAILY_PAGE_QUOTA``."""
    quota = settings.OCR_DAILY_PAGE_QUOTA
    if quota <= 0 or owner is None or not owner.is_authenticated or owner.is_staff:
        return
    now = now or datetime.now(UTC)
    used = pages_used_today(owner=owner, now=now)
    if used + pages <= quota:
        return
    midnight = _day_start(now) + timedelta(days=1)
    raise OcrError(
        "quota_exceeded",
        f"Daily page quota reached: {used} of {quota} pages used today, this document has "
        f"{pages}. The quota resets at midnight UTC.",
        retry_after=max(1, int((midnight - now).total_seconds())),
    )
