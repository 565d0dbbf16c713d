"""The credentials of the compatibility APIs: our API keys, presented their way.

Every compatibility API authenticates with the user's API keys (docs/api-keys.md).
Where an API takes one secret (Azure's ``Ocp-Apim-Subscription-Key``, CLOVA's
``X-OCR-SECRET``, Chekin's ``Token``) it is the full key: :func:`key_owner`. Where it
takes an id and a secret (UltraOCR's ``ClientID``/``ClientSecret``,
computervision.com.vn's ``api_key``/``api_secret``) the secret is the full key and
the id is the key owner's user name or the key's public prefix: :func:`key_pair_owner`.
Either way the request acts as the key's owner, within the same throttle
(``OCR_THROTTLE_USER``, counted per user whatever the credential) and daily page
quota as on ``/api/``. Each API turns the ``OcrError`` raised here into its own
error shape.
"""

from __future__ import annotations

import hmac
from types import SimpleNamespace
from typing import Any

from django.http import HttpRequest
from rest_framework.throttling import UserRateThrottle

from app import services
from app.errors import OcrError


def throttle(request: HttpRequest, owner: Any) -> None:
    """Count one request of ``owner`` against the user throttle.

    Raises ``OcrError("quota_exceeded")`` with ``retry_after`` (seconds) when over.
    """
    limiter = UserRateThrottle()
    # DRF's throttle reads the user and the address only; our request is a Django one.
    if not limiter.allow_request(SimpleNamespace(user=owner, META=request.META), None):
        wait = limiter.wait()
        raise OcrError(
            "quota_exceeded",
            "Too many requests for this key's user; retry later.",
            retry_after=int(wait) + 1 if wait is not None else 1,
        )


def key_owner(request: HttpRequest, raw: str | None, *, what: str = "API key") -> Any:
    """The owner of the API key ``raw`` (its full clear text), within the throttle.

    Raises ``OcrError`` ``not_authenticated`` (no key: ``what`` names the missing
    credential in the message), ``authentication_failed`` (a key that is not valid)
    or ``quota_exceeded`` (throttled, with ``retry_after``).
    """
    raw = (raw or "").strip()
    if not raw:
        raise OcrError("not_authenticated", f"No {what} was sent.")
    owner = services.key_authenticate(raw).owner
    throttle(request, owner)
    return owner


def key_pair_owner(request: HttpRequest, client_id: str | None, secret: str | None) -> Any:
    """The owner of the API key ``secret`` when ``client_id`` names it, within the throttle.

    ``client_id`` is the owner's user name or the key's public prefix (the part before
    the dot). Raises ``OcrError`` ``not_authenticated`` (either missing),
    ``authentication_failed`` (a key that is not valid, or an id that names neither
    its owner nor the key) or ``quota_exceeded``.
    """
    client_id = (client_id or "").strip()
    secret = (secret or "").strip()
    if not client_id or not secret:
        raise OcrError("not_authenticated", "No client id and secret were sent.")
    key = services.key_authenticate(secret)
    names = (key.owner.get_username(), key.prefix)
    if not any(hmac.compare_digest(client_id.encode(), name.encode()) for name in names):
        raise OcrError("authentication_failed", "The client id does not match the secret.")
    throttle(request, key.owner)
    return key.owner
