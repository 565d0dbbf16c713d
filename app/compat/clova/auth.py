"""Who is calling: ``X-OCR-SECRET: <one of our API keys>``.

CLOVA's one credential is the domain's secret in the ``X-OCR-SECRET`` header
(https://api.ncloud-docs.com/docs/ai-application-service-ocr, request headers); here it
is the full API key (docs/api-keys.md), checked by :func:`app.compat.auth.key_owner`:
the call acts as the key's owner, within the same throttle (``OCR_THROTTLE_USER``) and
daily page quota as on ``/api/``. A missing or refused key answers 401 ``0002``; the
throttle answers CLOVA's rate limit, 400 ``0025`` (:mod:`app.compat.clova.errors`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from app.compat.auth import key_owner
from app.compat.clova.errors import rate_limited
from app.errors import OcrError

#: The header CLOVA's clients send the secret in.
HEADER = "X-OCR-SECRET"


def authenticate(request: HttpRequest) -> Any:
    """The owner of the request's key, within the user's throttle.

    Raises ``OcrError`` ``not_authenticated`` (no key) or ``authentication_failed`` (a
    key that is not valid), or ``ClovaError`` ``0025`` when throttled.
    """
    try:
        return key_owner(request, request.headers.get(HEADER), what=f"{HEADER} header")
    except OcrError as exc:
        if exc.code == "quota_exceeded":
            raise rate_limited(exc) from None
        raise
