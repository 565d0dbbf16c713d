"""The webhooks pages (``/webhooks/``): a user's endpoints, their delivery logs, test events.

The pages are a browser face of ``/api/webhooks/`` (docs/webhooks.md): every write goes
through ``app.services.webhooks`` (the same URL checks, event list and limits as the
API; the delivery machinery is untouched) and every read through ``selectors.webhooks_of``
/ ``webhook_get`` (another user's endpoint is a 404). A signing secret is shown once,
when the endpoint is made or its secret replaced, on a response that is never cached.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from app import selectors
from app.errors import OcrError
from app.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.services import webhooks as webhook_services
from app.web.keys import ago

#: Rows of a delivery log shown per page.
LOG_PAGE_SIZE = 20
#: A pending delivery due within this many seconds keeps the log page refreshing.
LIVE_SECONDS = 60

#: Event type -> what it means, in words (the order of ``WEBHOOK_EVENTS``).
EVENT_LABELS: dict[str, str] = {
    "job.done": "A job is done",
    "job.failed": "A job failed",
    "job.canceled": "A job was canceled",
    "batch.done": "A batch ended",
    "webhook.test": "Test event",
}


#: A delivery's status -> how the endpoints list names the newest one.
LAST_LABELS: dict[str, str] = {
    DeliveryStatus.PENDING: "Waiting",
    DeliveryStatus.SENDING: "Sending",
    DeliveryStatus.SUCCEEDED: "Delivered",
    DeliveryStatus.FAILED: "Failed",
}


class WebhookForm(forms.Form):
    """A webhook endpoint: where to send (``url``) and which events."""

    url = forms.URLField(
        max_length=2000,
        label="Endpoint URL",
        assume_scheme="https",
        help_text="An http(s) address of your service that accepts POST requests.",
    )
    events = forms.MultipleChoiceField(
        choices=[(e, f"{e} \u2013 {EVENT_LABELS[e]}") for e in webhook_services.WEBHOOK_EVENTS],
        widget=forms.CheckboxSelectMultiple,
        label="Events",
        error_messages={"required": "Choose at least one event."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and "events" not in self.initial:
            self.initial["events"] = list(webhook_services.WEBHOOK_EVENTS)


class WebhookEditForm(WebhookForm):
    """An endpoint's changes: its URL, events, and whether it gets messages."""

    enabled = forms.BooleanField(
        required=False,
        label="Enabled",
        help_text="A disabled endpoint gets no event messages (test events still go).",
    )


def _endpoint_or_404(request: HttpRequest, endpoint_id: Any) -> WebhookEndpoint:
    try:
        return selectors.webhook_get(user=request.user, endpoint_id=endpoint_id)
    except OcrError:
        raise Http404("No such webhook endpoint.") from None


def _service_errors(form: forms.Form, exc: OcrError) -> None:
    """Put a service's refusal on the form field it names (``url`` or ``events``)."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


@dataclass(frozen=True)
class DeliveryRow:
    """One delivery of the log, as the page shows it."""

    delivery: WebhookDelivery
    event_label: str
    status_label: str
    status_class: str
    #: True while the page should refresh to show this row's outcome.
    live: bool
    code_text: str
    #: The message body as sent, indented.
    payload_json: str


def delivery_row(delivery: WebhookDelivery, now: datetime | None = None) -> DeliveryRow:
    """How a delivery reads in the log: its status in words and colour, the answer's
    HTTP status (or "No answer"), and whether its outcome is due soon."""
    now = now or timezone.now()
    status = delivery.status
    soon = delivery.next_attempt_at is None or delivery.next_attempt_at <= now + timedelta(
        seconds=LIVE_SECONDS
    )
    if status == DeliveryStatus.SUCCEEDED:
        label, css, live = "Delivered", "status-done", False
    elif status == DeliveryStatus.FAILED:
        label, css, live = "Failed", "status-failed", False
    elif status == DeliveryStatus.SENDING:
        label, css, live = "Sending", "status-processing", True
    elif delivery.attempts:
        label, css, live = "Retrying", "status-pending", soon
    else:
        label, css, live = "Queued", "status-pending", soon
    if delivery.last_status_code is not None:
        code_text = str(delivery.last_status_code)
    elif delivery.attempts:
        code_text = "No answer"
    else:
        code_text = "\u2013"
    return DeliveryRow(
        delivery=delivery,
        event_label=EVENT_LABELS.get(delivery.event, delivery.event),
        status_label=label,
        status_class=css,
        live=live,
        code_text=code_text,
        payload_json=json.dumps(delivery.payload, indent=2, sort_keys=True),
    )


def _endpoints_with_last_delivery(user: Any) -> Any:
    """The user's endpoints with ``n_deliveries`` and their newest delivery's
    ``last_status`` and ``last_at``."""
    newest = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-id")
    return selectors.webhooks_of(user).annotate(
        n_deliveries=Count("deliveries"),
        last_status=Subquery(newest.values("status")[:1]),
        last_at=Subquery(newest.values("created_at")[:1]),
    )


def _never_cached(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest) -> HttpResponse:
    """GET lists the user's endpoints with a form for a new one; POST adds one and
    answers the same page with its signing secret shown this once (never cached)."""
    form = WebhookForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = webhook_services.endpoint_create(
                owner=request.user,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
            )
        except OcrError as exc:
            _service_errors(form, exc)
        else:
            created = endpoint
            form = WebhookForm()
    endpoints = list(_endpoints_with_last_delivery(request.user))
    for endpoint in endpoints:
        endpoint.event_labels = [(e, EVENT_LABELS.get(e, e)) for e in endpoint.events]
        endpoint.last_label = LAST_LABELS.get(endpoint.last_status or "", "")
        endpoint.last_ago = ago(endpoint.last_at)
    response = render(
        request,
        "web/webhooks.html",
        {
            "form": form,
            "created": created,
            "endpoints": endpoints,
            "max_endpoints": webhook_services.MAX_ENDPOINTS_PER_USER,
            "allow_private": settings.OCR_URL_ALLOW_PRIVATE,
        },
        status=400 if form.errors else 200,
    )
    return _never_cached(response)


def _detail_context(request: HttpRequest, endpoint: WebhookEndpoint) -> dict[str, Any]:
    log = endpoint.deliveries.order_by("-created_at", "-id")
    page = Paginator(log, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [delivery_row(d, now) for d in page.object_list]
    return {
        "endpoint": endpoint,
        "event_labels": [(e, EVENT_LABELS.get(e, e)) for e in endpoint.events],
        "rows": rows,
        "page": page,
        "live": any(row.live for row in rows),
    }


@login_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request: HttpRequest, endpoint_id: Any) -> HttpResponse:
    """One endpoint: its settings (POST changes the URL, events or enabled) and its
    delivery log, newest first, with Send test event, Replace secret and Delete."""
    endpoint = _endpoint_or_404(request, endpoint_id)
    initial = {"url": endpoint.url, "events": endpoint.events, "enabled": endpoint.enabled}
    form = WebhookEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in ("url", "events", "enabled")}
        try:
            webhook_services.endpoint_update(endpoint=endpoint, **changes)
        except OcrError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, "Saved the endpoint\u2019s settings.")
            return redirect(reverse("web-webhook", args=[endpoint.uid]))
    if form.errors:
        endpoint.refresh_from_db()
    context = _detail_context(request, endpoint)
    context["form"] = form
    response = render(
        request, "web/webhooks_detail.html", context, status=400 if form.errors else 200
    )
    return _never_cached(response)


@login_required
@require_POST
def webhook_test(request: HttpRequest, endpoint_id: Any) -> HttpResponse:
    """Send a ``webhook.test`` message to the endpoint now; back to its log."""
    endpoint = _endpoint_or_404(request, endpoint_id)
    webhook_services.endpoint_send_test(endpoint=endpoint)
    messages.success(request, "Sent a test event: its delivery is at the top of the log.")
    return redirect(reverse("web-webhook", args=[endpoint.uid]))


@login_required
@require_http_methods(["GET", "POST"])
def webhook_secret(request: HttpRequest, endpoint_id: Any) -> HttpResponse:
    """GET asks for confirmation; POST replaces the endpoint's signing secret (the old
    one stops verifying at once, retries included) and shows the new one once."""
    endpoint = _endpoint_or_404(request, endpoint_id)
    if request.method != "POST":
        return render(
            request, "web/webhooks_confirm.html", {"endpoint": endpoint, "what": "secret"}
        )
    webhook_services.endpoint_update(endpoint=endpoint, secret=webhook_services.new_secret())
    context = _detail_context(request, endpoint)
    context["form"] = WebhookEditForm(
        initial={"url": endpoint.url, "events": endpoint.events, "enabled": endpoint.enabled}
    )
    context["new_secret"] = endpoint.secret
    return _never_cached(render(request, "web/webhooks_detail.html", context))


@login_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: HttpRequest, endpoint_id: Any) -> HttpResponse:
    """GET asks for confirmation; POST removes the endpoint with its delivery log."""
    endpoint = _endpoint_or_404(request, endpoint_id)
    if request.method == "POST":
        url = endpoint.url
        endpoint.delete()
        messages.success(request, f"Deleted the endpoint {url} and its delivery log.")
        return redirect(reverse("web-webhooks"))
    return render(request, "web/webhooks_confirm.html", {"endpoint": endpoint, "what": "delete"})
