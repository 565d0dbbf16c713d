"""The API keys page (``/keys/``): make a key (shown once), see and revoke one's keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods

from app import selectors, services
from app.errors import OcrError
from app.web.forms import ApiKeyForm


def _key_or_404(request: HttpRequest, key_id: Any):
    try:
        return selectors.key_get(user=request.user, key_id=key_id)
    except OcrError:
        raise Http404("No such API key.") from None


def expires_in(expiry: datetime | None, now: datetime | None = None) -> str:
    """How long until ``expiry``, in rough words: ``"in 5 days"``, ``"in about 3
    months"``; empty for no expiry or the past."""
    if expiry is None:
        return ""
    seconds = (expiry - (now or timezone.now())).total_seconds()
    if seconds <= 0:
        return ""
    days = seconds / 86400
    if days < 1:
        return "in less than a day"
    if days < 60:
        n = round(days)
        return f"in {n} day{'' if n == 1 else 's'}"
    return f"in about {round(days / 30.44)} months"


@login_required
@require_http_methods(["GET", "POST"])
def keys(request: HttpRequest) -> HttpResponse:
    """GET lists the user's keys with a form for a new one; POST makes the key and
    answers the same page with the key shown this once (never cached, never stored)."""
    form = ApiKeyForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            key, raw = services.key_create(
                owner=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at
            )
        except OcrError as exc:
            form.add_error("name", exc.message)
        else:
            created = {"key": key, "raw": raw}
            form = ApiKeyForm()
    response = render(
        request,
        "web/keys.html",
        {
            "form": form,
            "created": created,
            "keys": [_with_expires_in(key) for key in selectors.keys_of(request.user)],
            "base_url": request.build_absolute_uri("/").rstrip("/"),
        },
        status=400 if form.errors else 200,
    )
    add_never_cache_headers(response)
    return response


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """``"just now"``, ``"5 minutes ago"``, ``"3 days ago"`` (the largest unit only);
    empty for None."""
    if moment is None:
        return ""
    now = now or timezone.now()
    if (now - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment, now, depth=1)} ago"


def _with_expires_in(key: Any) -> Any:
    key.expires_in = expires_in(key.expiry_date)
    key.used_ago = ago(key.last_used_at)
    return key


@login_required
@require_http_methods(["GET", "POST"])
def key_revoke(request: HttpRequest, key_id: Any) -> HttpResponse:
    """GET asks for confirmation; POST revokes the key (it stops working at once)."""
    key = _key_or_404(request, key_id)
    if request.method == "POST":
        services.key_revoke(key=key)
        messages.success(request, f"Revoked the key \u201c{key.name}\u201d ({key.prefix}\u2026).")
        return redirect(reverse("web-keys"))
    return render(request, "web/key_revoke.html", {"key": key})
