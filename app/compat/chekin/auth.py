"""Who is calling: ``Authorization: Token <one of our API keys>``.

Chekin's API reference ("Signup & get a Token") has every call send
``Authorization: Token <token>``, DRF's token authentication: the keyword ``Token``,
one space, the token. Here the token is the full API key (docs/api-keys.md), checked
by :func:`app.compat.auth.key_owner` (the key's owner, its throttle and quota). As DRF
does, a header with another keyword counts as no credentials, and ``Token`` with no
value or with spaces in it is refused with DRF's words.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from app.compat.auth import key_owner
from app.compat.chekin.errors import ChekinError
from app.errors import OcrError

KEYWORD = "Token"


def token(request: HttpRequest) -> str | None:
    """The token of ``Authorization: Token <token>``; None when the header is absent or
    names another scheme. Raises ``ChekinError`` 401 for a malformed ``Token`` header
    (DRF's ``Invalid token header. ...`` messages)."""
    parts = (request.headers.get("Authorization") or "").split()
    if not parts or parts[0].lower() != KEYWORD.lower():
        return None
    if len(parts) == 1:
        raise ChekinError.detail(401, "Invalid token header. No credentials provided.")
    if len(parts) > 2:
        raise ChekinError.detail(
            401, "Invalid token header. Token string should not contain spaces."
        )
    return parts[1]


def authenticate(request: HttpRequest) -> Any:
    """The owner of the request's key, within the user's throttle.

    Raises ``ChekinError`` (a malformed header) or ``OcrError`` ``not_authenticated``,
    ``authentication_failed`` or ``quota_exceeded`` (with ``retry_after``).
    """
    raw = token(request)
    if raw is None:
        raise OcrError("not_authenticated", "No Authorization: Token header was sent.")
    return key_owner(request, raw, what="Authorization: Token header")
