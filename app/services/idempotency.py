"""Idempotency keys: a retried ``POST`` answers what the first made (app.models.IdempotencyKey).

The rule, as in the IETF draft "The Idempotency-Key HTTP Header Field"
(draft-ietf-httpapi-idempotency-key-header) and Stripe's API: the same key from the
same user within ``OCR_IDEMPOTENCY_SECONDS`` (24 h) and the same request answers
the job (or batch) the first request made; the same key with a different request is a
conflict (``idempotency_conflict``, 409). The key's row is inserted in the same
transaction as the job, under a unique constraint on (owner, key), so of concurrent
duplicates exactly one creates a job: the others wait on the constraint (PostgreSQL's
unique index, SQLite's write lock) and then answer what it committed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from app.errors import OcrError
from app.models import Batch, IdempotencyKey, Job

T = TypeVar("T")
Made = TypeVar("Made", Job, Batch)
_UNSET = object()

#: Longest ``Idempotency-Key`` accepted (characters).
MAX_KEY_LENGTH = 255
#: How long a duplicate waits for the first request's job to appear (seconds).
_FIRST_REQUEST_WAIT = 10.0


def check_key(key: str) -> str:
    """``key`` if it can be an idempotency key: 1-255 printable ASCII characters
    (0x21-0x7E; what HTTP carries as is). Raises ``OcrError("invalid")`` (400)."""
    if not key or len(key) > MAX_KEY_LENGTH or not all(0x21 <= ord(c) <= 0x7E for c in key):
        raise OcrError(
            "invalid",
            f"The Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters"
            " without spaces.",
            field="Idempotency-Key",
        )
    return key


def fingerprint(scope: str, parts: dict[str, Any]) -> str:
    """The SHA-256 (hex) of a request: its ``scope`` and ``parts`` (JSON-serialisable
    values; bytes are hashed first), independent of the order of ``parts``."""
    canonical = {
        name: hashlib.sha256(value).hexdigest() if isinstance(value, bytes) else value
        for name, value in parts.items()
    }
    text = json.dumps({"scope": scope, "parts": canonical}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def create_once(
    *,
    owner: Any,
    key: str,
    scope: str,
    fingerprint: str,
    prepare: Callable[[], T],
    create: Callable[[T], Made],
) -> tuple[Made, bool]:
    """The job or batch of ``key``: the one an earlier request with it made
    (``replayed`` True), or a new one: ``create(prepare())``.

    ``scope``: ``"ocr"`` (``create`` makes a :class:`~app.models.Job`) or ``"batch"``
    (a :class:`~app.models.Batch`). ``prepare`` runs outside any transaction and only
    when nothing of the key exists yet (e.g. it downloads ``image_url``); ``create``
    makes the job or batch (``services.job_create``, ``services.batch_create``) inside
    the transaction that records the key. Returns ``(job or batch, replayed)``.
    Raises ``OcrError("idempotency_conflict")`` (409) when the key was used with
    another fingerprint or scope, or when the first request with it is still being
    made after 10 s; and whatever ``prepare`` or ``create`` raise (then the key is not
    recorded, so a corrected retry with it may go ahead).
    """
    deadline = time.monotonic() + _FIRST_REQUEST_WAIT
    prepared: Any = _UNSET
    while True:
        found = _recent(owner, key)
        if found is not None:
            return _replay(found, scope, fingerprint), True
        if prepared is _UNSET:
            prepared = prepare()
            continue  # preparing took a while: look again before recording
        try:
            with transaction.atomic():
                # An expired row of the key (older than the window) gives way.
                IdempotencyKey.objects.filter(
                    owner=owner, key=key, created_at__lt=_window_start()
                ).delete()
                record = IdempotencyKey.objects.create(
                    owner=owner, key=key, scope=scope, fingerprint=fingerprint
                )
                made = create(prepared)
                link = "batch" if isinstance(made, Batch) else "job"
                setattr(record, link, made)
                record.save(update_fields=[link])
            return made, False
        except IntegrityError:
            # A concurrent request with the key committed first: answer its job.
            if time.monotonic() > deadline:
                raise _conflict(
                    "A request with this Idempotency-Key is still being made."
                ) from None
            time.sleep(0.05)


def _window_start() -> Any:
    return timezone.now() - timedelta(seconds=settings.OCR_IDEMPOTENCY_SECONDS)


def _recent(owner: Any, key: str) -> IdempotencyKey | None:
    return (
        IdempotencyKey.objects.select_related("job", "batch")
        .filter(owner=owner, key=key, created_at__gte=_window_start())
        .first()
    )


def _replay(found: IdempotencyKey, scope: str, fingerprint: str) -> Any:
    if found.scope != scope or found.fingerprint != fingerprint:
        raise _conflict("This Idempotency-Key was already used with a different request.")
    made = found.batch if scope == "batch" else found.job
    if made is None:  # made in the same transaction as the key, so never seen without
        raise _conflict("The request first made with this Idempotency-Key made nothing.")
    return made


def _conflict(message: str) -> OcrError:
    return OcrError("idempotency_conflict", message, field="Idempotency-Key")


def idempotency_sweep(*, now: Any = None) -> int:
    """Delete idempotency keys older than ``OCR_IDEMPOTENCY_SECONDS``; return how many."""
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.OCR_IDEMPOTENCY_SECONDS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=since).delete()
    return deleted
