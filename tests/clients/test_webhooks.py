"""verify_webhook against payloads signed with standardwebhooks, as the service signs them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from onlineocr_client import OnlineOcrError, WebhookVerificationError, verify_webhook
from standardwebhooks import Webhook

SECRET = "whsec_" + base64.b64encode(b"a very secret webhook key 32 b!!").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another webhook key, not the one").decode()
EVENT = {"type": "job.done", "data": {"id": "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"}}


def signed(body: str, *, secret: str = SECRET, when: datetime | None = None) -> dict[str, str]:
    when = when or datetime.now(UTC)
    msg_id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, when, body),
    }


def test_a_valid_webhook_gives_its_payload():
    body = json.dumps(EVENT)
    assert verify_webhook(body.encode(), signed(body), SECRET) == EVENT
    # header names in any case (as frameworks hand them over), the body as str too
    headers = {k.title(): v for k, v in signed(body).items()}
    assert verify_webhook(body, headers, SECRET) == EVENT


def test_a_tampered_body_is_refused():
    body = json.dumps(EVENT)
    headers = signed(body)
    tampered = body.replace("job.done", "job.failed").encode()
    with pytest.raises(WebhookVerificationError) as exc:
        verify_webhook(tampered, headers, SECRET)
    assert exc.value.code == "invalid_signature"
    assert isinstance(exc.value, OnlineOcrError) and isinstance(exc.value, ValueError)


def test_the_wrong_secret_is_refused():
    body = json.dumps(EVENT)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body.encode(), signed(body, secret=OTHER_SECRET), SECRET)


def test_an_old_timestamp_is_refused_even_when_correctly_signed():
    body = json.dumps(EVENT)
    old = datetime.now(UTC) - timedelta(minutes=10)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify_webhook(body.encode(), signed(body, when=old), SECRET)


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-signature": None},
        {"webhook-id": None},
        {"webhook-timestamp": "yesterday"},
        {"webhook-signature": "v1"},
        {"webhook-signature": "v1,%%%not-base64"},
    ],
)
def test_missing_or_malformed_headers_are_refused(change):
    body = json.dumps(EVENT)
    headers = signed(body)
    for name, value in change.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body.encode(), headers, SECRET)


def test_a_signed_body_that_is_not_a_json_object_is_refused():
    for body in ("[1, 2]", "not json"):
        with pytest.raises(WebhookVerificationError):
            verify_webhook(body.encode(), signed(body), SECRET)


def test_an_unusable_secret_is_refused():
    body = json.dumps(EVENT)
    with pytest.raises(WebhookVerificationError, match="secret"):
        verify_webhook(body.encode(), signed(body), "whsec_")


def test_the_services_own_signer_verifies():
    # The service signs its deliveries with app.services.webhooks.sign: the client must
    # accept exactly those headers (and its whsec_ secrets).
    webhooks = pytest.importorskip("app.services.webhooks")
    secret = webhooks.new_secret()
    body = json.dumps(EVENT)
    headers = webhooks.sign(secret, "msg_from_the_service", body)
    assert verify_webhook(body.encode(), headers, secret) == EVENT
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body.encode(), headers, webhooks.new_secret())
