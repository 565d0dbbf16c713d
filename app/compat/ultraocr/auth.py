"""Who is calling: ``POST {auth}/token`` signs a Bearer token for one of our API keys.

``POST {auth_base_url}/token`` takes ``{"ClientID", "ClientSecret", "ExpiresIn"}``
(nuveo/ultraocr-sdk-python ``Client.authenticate``; ``ExpiresIn`` in minutes, 1-1440,
60 when absent): ``ClientSecret`` is the full API key and ``ClientID`` its owner's
user name or the key's public prefix (:func:`app.compat.auth.key_pair_owner`). The
answer ``{"token"}`` is the key's prefix, its owner and the expiry, signed with the
site's secret (``django.core.signing``): making one writes nothing, so SDKs that ask
for a token before every call (Java, C#) cost a key check and a signature. Earlier
tokens stay valid until they expire; every call checks that the key is still
unrevoked, unexpired and its owner active, so revoking a key ends its tokens.
Every call counts against the owner's throttle (``OCR_THROTTLE_USER``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.http import HttpRequest

from app import selectors
from app.compat.auth import key_pair_owner, throttle
from app.compat.ultraocr.errors import UNAUTHORIZED, UltraError, bad_request

SALT = "app.compat.ultraocr.token"
#: ``ExpiresIn`` bounds and default, in minutes (UltraOCR's documented range).
MIN_MINUTES, MAX_MINUTES, DEFAULT_MINUTES = 1, 1440, 60


@dataclass(frozen=True, slots=True)
class Caller:
    """The owner of a token's key, and the key's public prefix (UltraOCR's client id)."""

    owner: Any
    client_id: str


def token_minutes(value: Any) -> int:
    """``ExpiresIn`` as minutes (an integer or a numeric string, 1-1440; 60 when
    absent); 400 otherwise."""
    if value is None or value == "":
        return DEFAULT_MINUTES
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise bad_request("ExpiresIn must be a number of minutes from 1 to 1440.")
    try:
        minutes = int(str(value).strip())
    except ValueError:
        raise bad_request("ExpiresIn must be a number of minutes from 1 to 1440.") from None
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise bad_request(f"ExpiresIn must be from 1 to 1440 minutes, not {minutes}.")
    return minutes


def issue_token(request: HttpRequest, body: Any) -> str:
    """A token for the credentials in ``body`` (the parsed ``/token`` JSON). Raises
    ``OcrError`` (bad credentials, throttled) or ``UltraError`` (a bad body)."""
    if not isinstance(body, dict):
        raise bad_request('The body must be {"ClientID", "ClientSecret", "ExpiresIn"}.')
    client_id, secret = body.get("ClientID"), body.get("ClientSecret")
    minutes = token_minutes(body.get("ExpiresIn"))
    owner = key_pair_owner(
        request,
        client_id if isinstance(client_id, str) else None,
        secret if isinstance(secret, str) else None,
    )
    prefix = secret.strip().partition(".")[0]
    expires = int(time.time()) + minutes * 60
    return signing.dumps({"u": owner.pk, "k": prefix, "x": expires}, salt=SALT)


def authenticate(request: HttpRequest) -> Caller:
    """The caller of a request with ``Authorization: Bearer <token>``, within the
    throttle. A missing, forged or expired token, or one whose key was revoked or has
    expired: 401 ``{"message": "Unauthorized"}``."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UltraError(401, UNAUTHORIZED)
    try:
        claims = signing.loads(token.strip(), salt=SALT)
        owner_id, prefix, expires = claims["u"], str(claims["k"]), float(claims["x"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise UltraError(401, UNAUTHORIZED) from None
    if expires < time.time():
        raise UltraError(401, UNAUTHORIZED)
    key = selectors.key_of_token(owner_id=owner_id, prefix=prefix)
    if key is None or key.has_expired or not key.owner.is_active:
        raise UltraError(401, UNAUTHORIZED)
    throttle(request, key.owner)
    return Caller(owner=key.owner, client_id=prefix)
