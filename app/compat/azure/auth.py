"""Who is calling: ``Ocp-Apim-Subscription-Key: <one of our API keys>``.

The key is checked by ``services.key_authenticate`` (docs/api-keys.md): the request
acts as the key's owner, with the same jobs, throttle (``OCR_THROTTLE_USER``, counted
per user whatever the credential) and daily page quota as on ``/api/``. A missing or
refused key answers the gateway's 401 (:mod:`app.compat.azure.errors`); the
checks themselves are :mod:`app.compat.auth`'s.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from app.compat.auth import key_owner

#: The header Azure's SDKs send the key in (``AzureKeyCredential``).
KEY_HEADER = "Ocp-Apim-Subscription-Key"


def authenticate(request: HttpRequest) -> Any:
    """The owner of the request's key, within the user's throttle.

    Raises ``OcrError`` ``not_authenticated`` (no key), ``authentication_failed`` (a
    key that is not valid) or ``quota_exceeded`` (throttled, with ``retry_after``).
    """
    return key_owner(request, request.headers.get(KEY_HEADER), what=f"{KEY_HEADER} header")
