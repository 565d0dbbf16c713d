"""Who is calling: ``Ocp-Apim-Subscription-Key: <one of our API keys>``.

The key is checked by ``services.key_authenticate`` (docs/api-keys.md): the request
acts as the key's owner, with the same jobs, throttle (``OCR_THROTTLE_USER``, counted
per user whatever the credential) and daily page quota as on ``/api/``. A missing or
refused key answers the gateway's 401 (:mod:`app.compat.azure.errors`).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.http import HttpRequest
from rest_framework.throttling import UserRateThrottle

from app import services
from app.errors import OcrError

#: The header Azure's SDKs send the key in (``AzureKeyCredential``).
KEY_HEADER = "Ocp-Apim-Subscription-Key"


def authenticate(request: HttpRequest) -> Any:
    """The owner of the request's key, within the user's throttle.

    Raises ``OcrError`` ``not_authenticated`` (no key), ``authentication_failed`` (a
    key that is not valid) or ``quota_exceeded`` (throttled, with ``retry_after``).
    """
    raw = request.headers.get(KEY_HEADER, "").strip()
    if not raw:
        raise OcrError("not_authenticated", f"No {KEY_HEADER} header.")
    owner = services.key_authenticate(raw).owner
    throttle = UserRateThrottle()
    # DRF's throttle reads the user and the address only; our request is a Django one.
    if not throttle.allow_request(SimpleNamespace(user=owner, META=request.META), None):
        wait = throttle.wait()
        raise OcrError(
            "quota_exceeded",
            "Too many requests for this key's user; retry later.",
            retry_after=int(wait) + 1 if wait is not None else 1,
        )
    return owner
