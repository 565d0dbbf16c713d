"""Verifying the service's webhooks (the Standard Webhooks scheme).

The service signs each event it posts (``job.done``, ``job.failed``,
``job.canceled``, ``batch.done``) with the headers ``webhook-id``,
``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` (``v1,<base64
HMAC-SHA256>`` of ``"{id}.{timestamp}.{body}"``), keyed with a secret of the form
``whsec_<base64>``. Verification uses the ``standardwebhooks`` library.

In a Django view::

    event = verify_webhook(request.body, request.headers, settings.ONLINEOCR_WEBHOOK_SECRET)

In Flask: ``verify_webhook(request.get_data(), request.headers, secret)``. Always pass
the raw body bytes as received: re-serialised JSON does not verify.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any

import standardwebhooks
import standardwebhooks.webhooks

from onlineocr_client.errors import WebhookVerificationError


def verify_webhook(
    payload: bytes | str, headers: Mapping[str, str], secret: str | bytes
) -> dict[str, Any]:
    """Check a webhook's signature and timestamp; return its JSON payload as a dict.

    Args:
        payload: the request body exactly as received (bytes, or str).
        headers: the request headers, any mapping (names are matched case-insensitively);
            ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` are needed.
        secret: the webhook secret, ``whsec_...`` (or the raw key bytes).

    Raises:
        WebhookVerificationError (code ``invalid_signature``; also a ``ValueError``):
            missing or malformed headers, no matching signature (tampered body, wrong
            secret), a timestamp more than 5 minutes from now (a replay), a secret that
            is not valid base64, or a body that is not a JSON object.
    """
    try:
        hook = standardwebhooks.Webhook(secret)
    except (
        binascii.Error,
        ValueError,
        TypeError,
        RuntimeError,
        standardwebhooks.webhooks.EmptyWebhookSecretError,
    ) as exc:
        raise WebhookVerificationError(f"The webhook secret is not usable: {exc}") from exc
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    try:
        data = hook.verify(payload, lowered)
    except standardwebhooks.WebhookVerificationError as exc:
        raise WebhookVerificationError(str(exc) or "The webhook did not verify.") from exc
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        # A malformed signature header ("v1" without a comma, bad base64), a body that
        # is not UTF-8, or a signed body that is not JSON.
        raise WebhookVerificationError(f"The webhook is malformed: {exc}") from exc
    if not isinstance(data, dict):
        raise WebhookVerificationError("The webhook's payload is not a JSON object.")
    return data


__all__ = ["verify_webhook"]
