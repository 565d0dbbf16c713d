"""API keys: making, authenticating and revoking them (app.models.ApiKey).

A key is ``<prefix>.<secret>`` (8 + 32 random characters from
djangorestframework-api-key's ``KeyGenerator``); only its SHA-512 hash is stored
(the library's ``Sha512ApiKeyHasher``, meant for high-entropy keys; no home-made
crypto). It authenticates any ``/api/`` call as ``Authorization: Api-Key <key>`` or
``X-API-Key: <key>`` (``app.api.authentication``) and acts as its owner: the same
jobs, throttles and quotas as the owner's JWT (docs/api-keys.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from app.errors import OcrError
from app.models import ApiKey

#: Most unrevoked keys one user may hold (expired ones count until revoked).
MAX_KEYS_PER_USER = 100
#: ``last_used_at`` is written at most this often per key (one UPDATE a minute, not
#: one per request).
LAST_USED_RESOLUTION = timedelta(seconds=60)
#: A key is ``<8-character prefix>.<32-character secret>``.
_PREFIX_LENGTH = 8


def key_create(*, owner: Any, name: str, expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """Make an API key for ``owner``; return the row and the key (the only time it exists
    in clear).

    ``name``: 1-50 characters; ``expires_at``: an aware datetime in the future, or None
    for a key that does not expire. Raises ``OcrError("invalid")`` (400) for an expiry
    in the past or when ``owner`` already holds :data:`MAX_KEYS_PER_USER` unrevoked keys.
    """
    if expires_at is not None and expires_at <= timezone.now():
        raise OcrError("invalid", "The expiry must be in the future.", field="expires_at")
    with transaction.atomic():
        # The count and the insert are serialised per user by the user's row lock.
        get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
        held = ApiKey.objects.filter(owner=owner, revoked=False).count()
        if held >= MAX_KEYS_PER_USER:
            raise OcrError(
                "invalid",
                f"You hold {held} API keys, the most allowed; revoke one first.",
                field="name",
            )
        return ApiKey.objects.create_key(owner=owner, name=name, expiry_date=expires_at)


def key_authenticate(raw: str) -> ApiKey:
    """The unrevoked, unexpired key whose clear text is ``raw``, its owner loaded and
    active; its ``last_used_at`` brought up to date (at most once a minute).

    Raises ``OcrError("authentication_failed")`` (401) for a malformed, unknown,
    revoked or expired key, or one whose owner is inactive. The hash is compared in
    constant time (the library's hasher).
    """
    prefix, dot, secret = raw.partition(".")
    if not dot or len(prefix) != _PREFIX_LENGTH or not secret or len(raw) > 100:
        raise OcrError("authentication_failed", "The API key is not valid.")
    key = ApiKey.objects.select_related("owner").filter(prefix=prefix, revoked=False).first()
    if key is None or not key.is_valid(raw):
        raise OcrError("authentication_failed", "The API key is not valid.")
    if key.has_expired:
        raise OcrError("authentication_failed", "The API key has expired.")
    if not key.owner.is_active:
        raise OcrError("authentication_failed", "The API key's user account is disabled.")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def key_revoke(*, key: ApiKey) -> None:
    """Revoke ``key`` for good (it stays listed in the admin, marked revoked)."""
    ApiKey.objects.filter(pk=key.pk).update(revoked=True)
    key.revoked = True
