"""Webhooks: signed event messages when jobs and batches end (docs/webhooks.md).

Messages follow the Standard Webhooks specification (standardwebhooks.com): a JSON
body ``{"type", "timestamp", "data"}`` and the headers ``webhook-id`` (the same on
every attempt), ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256>`` of ``id.timestamp.body`` with the endpoint's
``whsec_`` secret), made by the ``standardwebhooks`` package.

Events: ``job.done``, ``job.failed``, ``job.canceled`` (from the ``job_finished``
signal) and ``batch.done`` (from ``batch_finished``, whatever the batch's end: the
payload's ``status`` says which). Each goes to the owner's enabled endpoints that
subscribe to it and to the job's or batch's ``callback_url`` (signed with the
owner's first enabled endpoint's secret), each URL once.

Deliveries are Celery tasks on ``OCR_WEBHOOK_QUEUE``, sent after the ending
transaction commits, so a slow or dead receiver never delays OCR. Every attempt
goes through the SSRF guard (``pipeline.fetch.post_json``: no private addresses
unless ``OCR_URL_ALLOW_PRIVATE``, no redirects followed, ``OCR_WEBHOOK_TIMEOUT``
seconds). A 2xx answer ends the delivery; anything else is retried after
``OCR_WEBHOOK_RETRY_SECONDS`` (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default:
about 28 h, Svix's schedule), each delay +-20 % at random, then given up. A
delivery is claimed by a conditional ``UPDATE`` before each attempt, so duplicate
task messages send nothing twice; a claim is a 60 s lease, so a worker that died
mid-attempt does not strand it.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from app.errors import OcrError
from app.models import (  # noqa: F401  (WEBHOOK_EVENTS: part of this module's API)
    WEBHOOK_EVENTS,
    Batch,
    DeliveryStatus,
    Job,
    JobStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.pipeline.fetch import check_target, post_json

log = logging.getLogger(__name__)

#: Most endpoints one user may have.
MAX_ENDPOINTS_PER_USER = 20
#: How long a claimed attempt owns its delivery (seconds): past it, another may try.
LEASE_SECONDS = 60
#: Longest countdown given to Celery (seconds); longer waits wake up and sleep again,
#: staying under the broker's visibility timeout (``OCR_BROKER_VISIBILITY_TIMEOUT``).
_MAX_COUNTDOWN = 600
#: Characters of a receiver's answer (or of the error) kept in the delivery log.
ANSWER_CHARS = 500


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


# --- endpoints ---------------------------------------------------------------------------


def endpoint_create(*, owner: Any, url: str, events: list[str], enabled: bool = True):
    """Make a webhook endpoint with a new secret. ``events``: a non-empty subset of
    :data:`app.models.WEBHOOK_EVENTS`. Raises ``OcrError``: ``url_forbidden`` (not
    http(s), or a private IP literal), ``invalid`` (more than
    :data:`MAX_ENDPOINTS_PER_USER` endpoints)."""
    check_target(url, allow_private=settings.OCR_URL_ALLOW_PRIVATE)
    if WebhookEndpoint.objects.filter(owner=owner).count() >= MAX_ENDPOINTS_PER_USER:
        raise OcrError(
            "invalid",
            f"A user has at most {MAX_ENDPOINTS_PER_USER} webhook endpoints; delete one first.",
            field="url",
        )
    return WebhookEndpoint.objects.create(
        owner=owner, url=url, events=_events(events), enabled=enabled, secret=new_secret()
    )


def endpoint_update(*, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change an endpoint's ``url``, ``events`` or ``enabled`` (the secret stays)."""
    if "url" in changes:
        check_target(changes["url"], allow_private=settings.OCR_URL_ALLOW_PRIVATE)
    if "events" in changes:
        changes["events"] = _events(changes["events"])
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.save(update_fields=list(changes))
    return endpoint


def _events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
    if unknown or not events:
        raise OcrError(
            "invalid",
            f"events must be some of {', '.join(WEBHOOK_EVENTS)}.",
            field="events",
        )
    return [event for event in WEBHOOK_EVENTS if event in events]


def signing_endpoint(owner: Any) -> WebhookEndpoint | None:
    """The endpoint whose secret signs ``owner``'s ``callback_url`` messages: the first
    enabled one (oldest), or None."""
    if owner is None:
        return None
    return WebhookEndpoint.objects.filter(owner=owner, enabled=True).order_by("created_at").first()


def check_callback(*, owner: Any, url: str) -> None:
    """Refuse a request's ``callback_url`` that could not be signed or sent to: the
    caller is anonymous or has no enabled endpoint (``invalid``, 400), or the URL is
    not acceptable (``url_forbidden``)."""
    check_target(url, allow_private=settings.OCR_URL_ALLOW_PRIVATE)
    if owner is None or not owner.is_authenticated or signing_endpoint(owner) is None:
        raise OcrError(
            "invalid",
            "A callback_url is signed with your webhook secret: make a webhook endpoint "
            "first (POST /api/webhooks/).",
            field="callback_url",
        )


# --- events -------------------------------------------------------------------------------


def public_url(path: str) -> str:
    """``path`` under ``OCR_PUBLIC_URL`` (the address users reach the service at)."""
    return settings.OCR_PUBLIC_URL.rstrip("/") + path


def job_summary(job: Job) -> dict[str, Any]:
    """What a job event carries: the job's summary with its URL (not its result)."""
    return {
        "id": str(job.pk),
        "url": public_url(reverse("api-ocr-detail", args=[job.pk])),
        "status": job.status,
        "batch": str(job.batch_id) if job.batch_id else None,
        "filename": job.filename,
        "engine": job.engine,
        "languages": job.language_list,
        "page_count": job.page_count,
        "pages_done": job.pages_done,
        "metadata": job.metadata,
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at),
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
    }


def batch_summary(batch: Batch) -> dict[str, Any]:
    """What a ``batch.done`` event carries: status, counts by status, pages, URL."""
    from app import selectors

    annotated = selectors.batches_visible_to(batch.owner).get(pk=batch.pk)
    return {
        "id": str(batch.pk),
        "url": public_url(reverse("api-batch-detail", args=[batch.pk])),
        "status": annotated.status,
        "job_count": annotated.job_count,
        "counts": {s: getattr(annotated, f"n_{s}") for s in JobStatus.values},
        "page_count": annotated.n_pages,
        "pages_done": annotated.n_pages_done,
        "metadata": annotated.metadata,
        "created_at": _iso(annotated.created_at),
        "finished_at": _iso(annotated.finished_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def job_event(*, job_id: Any, status: str) -> int:
    """A job ended with ``status``: make its ``job.<status>`` deliveries; returns how
    many. Sent after the surrounding transaction commits."""
    job = Job.objects.select_related("owner").filter(pk=job_id).first()
    if job is None or job.owner is None:
        return 0
    event = f"job.{status}"
    return _event(job.owner, event, job_summary(job), job.callback_url)


def batch_event(*, batch_id: Any) -> int:
    """A batch ended: make its ``batch.done`` deliveries; returns how many."""
    batch = Batch.objects.select_related("owner").filter(pk=batch_id).first()
    if batch is None:
        return 0
    return _event(batch.owner, "batch.done", batch_summary(batch), batch.callback_url)


def _event(owner: Any, event: str, data: dict[str, Any], callback_url: str) -> int:
    payload = {"type": event, "timestamp": _iso(timezone.now()), "data": data}
    targets: dict[str, WebhookEndpoint] = {}
    for endpoint in WebhookEndpoint.objects.filter(owner=owner, enabled=True):
        if event in endpoint.events:
            targets.setdefault(endpoint.url, endpoint)
    if callback_url:
        signer = signing_endpoint(owner)
        if signer is None:
            log.warning("%s for %s: no enabled endpoint to sign the callback", event, owner)
        else:
            targets.setdefault(callback_url, signer)
    made = [
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            url=url,
            event=event,
            message_id=f"msg_{uuid.uuid4().hex}",
            payload=payload,
            next_attempt_at=timezone.now(),
        )
        for url, endpoint in targets.items()
    ]
    for delivery in made:
        _schedule(delivery.pk, 0)
    return len(made)


def endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a ``webhook.test`` message to ``endpoint`` (whatever its events), logged as
    any delivery."""
    payload = {
        "type": "webhook.test",
        "timestamp": _iso(timezone.now()),
        "data": {"endpoint": str(endpoint.uid), "message": "A test event from onlineocr."},
    }
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        url=endpoint.url,
        event="webhook.test",
        message_id=f"msg_{uuid.uuid4().hex}",
        payload=payload,
        next_attempt_at=timezone.now(),
    )
    _schedule(delivery.pk, 0)
    return delivery


def _schedule(delivery_id: int, seconds: float) -> None:
    """Send the delivery's task after the commit, due in ``seconds`` (at most
    :data:`_MAX_COUNTDOWN` at a time)."""
    from app.tasks import webhook_deliver

    countdown = max(0.0, min(seconds, _MAX_COUNTDOWN))

    def send() -> None:
        webhook_deliver.apply_async(
            args=[delivery_id], queue=settings.OCR_WEBHOOK_QUEUE, countdown=countdown or None
        )

    transaction.on_commit(send)


# --- delivery -----------------------------------------------------------------------------


def retry_delays() -> list[float]:
    """Seconds before each retry (``OCR_WEBHOOK_RETRY_SECONDS``, comma-separated)."""
    return [float(s) for s in str(settings.OCR_WEBHOOK_RETRY_SECONDS).split(",") if s.strip()]


def delivery_attempt(*, delivery_id: Any) -> str | None:
    """Try one delivery now, if it is due: sign, POST, log the answer; schedule the
    next try or give up. Returns the delivery's status after it (None when nothing was
    due: not found, finished, or not yet time, in which case it is woken up later)."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        Q(pk=delivery_id),
        Q(status__in=(DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
    ).update(
        status=DeliveryStatus.SENDING,
        next_attempt_at=now + timedelta(seconds=LEASE_SECONDS),
    )
    if not claimed:
        pending = (
            WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        if pending is not None and pending > now:  # woken early: sleep on
            _schedule(delivery_id, (pending - now).total_seconds())
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    attempts = delivery.attempts + 1
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    status_code, latency, answer = None, None, ""
    try:
        posted = post_json(
            delivery.url,
            body.encode(),
            headers=sign(delivery.endpoint.secret, delivery.message_id, body),
            timeout=settings.OCR_WEBHOOK_TIMEOUT,
            allow_private=settings.OCR_URL_ALLOW_PRIVATE,
        )
        status_code, latency, answer = posted.status, posted.latency, posted.answer
    except OcrError as exc:
        answer = f"{exc.code}: {exc.message}"
    except Exception as exc:  # never let one receiver's oddity kill the task
        log.exception("webhook delivery %s", delivery_id)
        answer = f"internal_error: {type(exc).__name__}"
    fields: dict[str, Any] = {
        "attempts": attempts,
        "last_status_code": status_code,
        "last_latency_ms": round(latency * 1000) if latency is not None else None,
        "last_response": answer[:ANSWER_CHARS],
    }
    delays = retry_delays()
    if status_code is not None and 200 <= status_code < 300:
        fields.update(
            status=DeliveryStatus.SUCCEEDED, next_attempt_at=None, delivered_at=timezone.now()
        )
    elif attempts <= len(delays):
        delay = delays[attempts - 1] * random.uniform(0.8, 1.2)
        fields.update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        _schedule(delivery_id, delay)
    else:
        fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
        log.warning(
            "webhook %s to %s given up after %s attempts", delivery.event, delivery.url, attempts
        )
    WebhookDelivery.objects.filter(pk=delivery_id).update(**fields)
    return fields["status"]


def sign(secret: str, message_id: str, body: str, at: datetime | None = None) -> dict[str, str]:
    """The Standard Webhooks headers of ``body`` (``webhook-id``, ``webhook-timestamp``,
    ``webhook-signature``), signed with ``secret`` by the ``standardwebhooks`` package."""
    from standardwebhooks.webhooks import Webhook

    moment = at or timezone.now()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, body),
    }
