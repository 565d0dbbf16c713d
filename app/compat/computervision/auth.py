"""Who is calling: HTTP Basic ``api_key:api_secret`` (RFC 7617).

computervision.com.vn gives each customer an access key pair sent as Basic
authentication (docs.computervision.com.vn, "Cơ Chế Xác Thực"); its Python
examples pass ``auth=(api_key, api_secret)`` to ``requests``. Here ``api_key`` is
the key owner's user name or the key's public prefix and ``api_secret`` the full API
key (docs/api-keys.md); the check, the throttle and the quota are
:func:`app.compat.auth.key_pair_owner`'s. A missing or refused pair is
``errorCode`` 5 (:mod:`.errors`).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.http import HttpRequest

from app.compat.auth import key_pair_owner
from app.errors import OcrError


def basic_credentials(header: str | None) -> tuple[str, str]:
    """``(user id, password)`` of an ``Authorization: Basic <base64(id:password)>``
    header; ``("", "")`` when there is none or it is not Basic. Raises
    ``OcrError("authentication_failed")`` for a Basic header that does not decode."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return "", ""
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise OcrError(
            "authentication_failed", "The Basic credentials are not base64 of id:secret."
        ) from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise OcrError("authentication_failed", "The Basic credentials have no ':' separator.")
    return user, password


def authenticate(request: HttpRequest) -> Any:
    """The owner of the request's key pair, within the user's throttle.

    Raises ``OcrError`` ``not_authenticated`` (no Basic credentials),
    ``authentication_failed`` (a pair that is not valid) or ``quota_exceeded``.
    """
    api_key, api_secret = basic_credentials(request.headers.get("Authorization"))
    return key_pair_owner(request, api_key, api_secret)
