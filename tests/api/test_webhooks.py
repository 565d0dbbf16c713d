"""Webhooks (``/api/webhooks/``, app/services/webhooks.py): endpoints with a secret shown
once, Standard Webhooks signatures checked with the ``standardwebhooks`` library by a
real receiver on loopback, retries with the same message id, give-up, the SSRF guard
on every attempt, redirects not followed, test events, ``callback_url`` on jobs and
batches; and on a real worker: OCR never waits for a slow receiver."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest
import requests
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug import Request as WRequest
from werkzeug import Response as WResponse

from app import services
from app.models import Job, WebhookDelivery, WebhookEndpoint
from app.services import webhooks
from tests.imaging import render_text


class Receiver:
    """A webhook receiver on loopback (pytest-httpserver): answers ``statuses`` in turn
    (then 200) and keeps every request's body and headers."""

    def __init__(self, server: HTTPServer, path: str = "/hook", statuses=(), delay: float = 0):
        self.server, self.path, self.statuses, self.delay = server, path, list(statuses), delay
        self.received: list[tuple[bytes, dict[str, str]]] = []
        server.expect_request(path, method="POST").respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return self.server.url_for(self.path)

    def _handle(self, request: WRequest) -> WResponse:
        self.received.append((request.get_data(), dict(request.headers)))
        if self.delay:
            time.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else 200
        return WResponse("nope" if status >= 300 else "ok", status=status)

    def verified(self, secret: str) -> list[dict]:
        """Every message received, verified with the library (raises if one fails)."""
        return [Webhook(secret).verify(body, headers) for body, headers in self.received]


@pytest.fixture
def sent(monkeypatch) -> list[tuple[int, float | None]]:
    """Delivery tasks sent (delivery id, countdown), kept here instead of the broker, at
    once (a real one is sent after the commit; a test's transaction never commits)."""
    queue: list[tuple[int, float | None]] = []

    def schedule(delivery_id: int, seconds: float) -> None:
        countdown = max(0.0, min(seconds, webhooks._MAX_COUNTDOWN)) or None
        queue.append((delivery_id, countdown))

    monkeypatch.setattr(webhooks, "_schedule", schedule)
    return queue


@pytest.fixture(autouse=True)
def _loopback(settings):
    settings.OCR_URL_ALLOW_PRIVATE = True  # the receivers listen on 127.0.0.1
    settings.OCR_WEBHOOK_RETRY_SECONDS = "1,1"


def _endpoint(client, url: str, **body) -> dict:
    r = client.post("/api/webhooks/", {"url": url, **body}, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def _code(r) -> tuple[int, str, str | None]:
    error = r.json()["error"]
    return r.status_code, error["code"], error.get("field")


def _deliver(sent) -> None:
    """Run the delivery tasks sent so far, as the webhook worker would (due or not)."""
    while sent:
        delivery_id, _ = sent.pop(0)
        WebhookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=None)
        webhooks.delivery_attempt(delivery_id=delivery_id)


@pytest.mark.django_db
def test_an_endpoint_gets_a_secret_once_and_can_be_changed_and_removed(auth_client):
    made = _endpoint(auth_client, "https://example.org/hooks", events=["job.done"])
    assert made["secret"].startswith("whsec_") and len(base64.b64decode(made["secret"][6:])) == 24
    assert made["events"] == ["job.done"] and made["enabled"] is True
    listed = auth_client.get("/api/webhooks/").json()["results"]
    assert [e["id"] for e in listed] == [made["id"]] and "secret" not in listed[0]
    url = f"/api/webhooks/{made['id']}/"
    changed = auth_client.patch(
        url, {"events": ["batch.done", "job.failed"], "enabled": False}, format="json"
    )
    assert changed.json()["events"] == ["job.failed", "batch.done"]
    assert changed.json()["enabled"] is False
    assert "secret" not in auth_client.get(url).json()
    assert auth_client.delete(url).status_code == 204
    assert _code(auth_client.get(url))[:2] == (404, "not_found")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"url": "ftp://example.org/x"}, "url_forbidden", "url"),
        ({"url": "http://10.1.2.3/hook"}, "url_forbidden", "url"),
        ({"url": "http://169.254.169.254/latest"}, "url_forbidden", "url"),
        ({"url": "https://example.org/x", "events": ["job.started"]}, "invalid", "events"),
        ({"url": "https://example.org/x", "events": []}, "invalid", "events"),
    ],
)
def test_bad_endpoints_are_refused(auth_client, settings, body, code, field):
    settings.OCR_URL_ALLOW_PRIVATE = False
    r = auth_client.post("/api/webhooks/", body, format="json")
    assert r.status_code == 400 and _code(r)[1:] == (code, field)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_a_callback_url_needs_an_endpoint_to_sign_it(auth_client):
    body = {"image_base64": base64.b64encode(render_text().png()).decode()}
    r = auth_client.post(
        "/api/ocr/", {**body, "callback_url": "https://example.org/cb"}, format="json"
    )
    assert _code(r) == (400, "invalid", "callback_url")
    assert not Job.objects.exists()
    _endpoint(auth_client, "https://example.org/hooks")
    r = auth_client.post(
        "/api/ocr/", {**body, "callback_url": "https://example.org/cb"}, format="json"
    )
    assert r.status_code == 202
    assert Job.objects.get().callback_url == "https://example.org/cb"


@pytest.mark.django_db
def test_a_job_end_is_signed_and_verified_by_the_library(
    auth_client, httpserver, sent, django_capture_on_commit_callbacks
):
    hooks = Receiver(httpserver, "/hooks")
    callback = Receiver(httpserver, "/callback")
    endpoint = _endpoint(auth_client, hooks.url, events=["job.done", "job.failed"])
    r = auth_client.post(
        "/api/ocr/",
        {
            "image_base64": base64.b64encode(render_text(["Signed"]).png()).decode(),
            "metadata": {"ref": 9},
            "callback_url": callback.url,
        },
        format="json",
    )
    job_id = r.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        services.job_start(job_id=job_id)
    assert len(sent) == 2
    _deliver(sent)

    for receiver in (hooks, callback):
        [message] = receiver.verified(endpoint["secret"])  # both signed with the one secret
        assert message["type"] == "job.done"
        data = message["data"]
        assert data["id"] == job_id and data["status"] == "done" and data["metadata"] == {"ref": 9}
        assert data["url"].endswith(f"/api/ocr/{job_id}/") and "result" not in data
        body, headers = receiver.received[0]
        assert headers["Webhook-Id"].startswith("msg_")
        assert abs(int(headers["Webhook-Timestamp"]) - time.time()) < 60
        with pytest.raises(WebhookVerificationError):  # tampered, or another secret
            Webhook(endpoint["secret"]).verify(body.replace(b"done", b"fail"), headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(webhooks.new_secret()).verify(body, headers)
    log = auth_client.get(f"/api/webhooks/{endpoint['id']}/deliveries/").json()["results"]
    assert {d["status"] for d in log} == {"succeeded"} and {d["attempts"] for d in log} == {1}
    assert all(d["last_status_code"] == 200 and d["last_latency_ms"] is not None for d in log)


@pytest.mark.django_db
def test_failed_deliveries_are_retried_with_the_same_message_then_given_up(
    auth_client, httpserver, sent
):
    flaky = Receiver(httpserver, "/flaky", statuses=[500, 503])
    endpoint = WebhookEndpoint.objects.get(uid=_endpoint(auth_client, flaky.url)["id"])
    webhooks.endpoint_send_test(endpoint=endpoint)
    [(delivery_id, countdown)] = sent
    assert countdown is None  # the first attempt at once
    for _ in range(3):
        [(_, countdown)] = sent
        sent.clear()
        WebhookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=None)
        webhooks.delivery_attempt(delivery_id=delivery_id)
        if sent:
            assert 0.8 <= sent[0][1] <= 1.2  # the retry schedule with +-20 % jitter
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 3, 200)
    assert len({headers["Webhook-Id"] for _, headers in flaky.received}) == 1
    assert [m["type"] for m in flaky.verified(endpoint.secret)] == ["webhook.test"] * 3

    dead = Receiver(httpserver, "/dead", statuses=[500] * 10)
    endpoint = WebhookEndpoint.objects.get(uid=_endpoint(auth_client, dead.url)["id"])
    delivery = webhooks.endpoint_send_test(endpoint=endpoint)
    _deliver(sent)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)  # first try + 2 retries
    assert delivery.last_status_code == 500 and delivery.last_response == "nope"


@pytest.mark.django_db
def test_every_attempt_goes_through_the_address_guard_and_redirects_are_answers(
    auth_client, httpserver, sent, settings
):
    moved = Receiver(httpserver, "/moved", statuses=[302])
    endpoint = WebhookEndpoint.objects.get(uid=_endpoint(auth_client, moved.url)["id"])
    delivery = webhooks.endpoint_send_test(endpoint=endpoint)
    settings.OCR_URL_ALLOW_PRIVATE = False  # loopback is refused from now on
    _deliver(sent)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and moved.received == []
    assert delivery.last_response.startswith("url_forbidden")

    settings.OCR_URL_ALLOW_PRIVATE = True
    delivery = webhooks.endpoint_send_test(endpoint=endpoint)
    [(delivery_id, _)] = sent
    sent.clear()
    webhooks.delivery_attempt(delivery_id=delivery_id)
    delivery.refresh_from_db()
    assert delivery.last_status_code == 302 and delivery.status == "pending"  # retried later
    assert len(moved.received) == 1  # the Location was not followed


@pytest.mark.django_db
def test_a_duplicate_or_early_task_sends_nothing(auth_client, httpserver, sent):
    receiver = Receiver(httpserver, "/once")
    endpoint = WebhookEndpoint.objects.get(uid=_endpoint(auth_client, receiver.url)["id"])
    delivery = webhooks.endpoint_send_test(endpoint=endpoint)
    webhooks.delivery_attempt(delivery_id=delivery.pk)
    assert webhooks.delivery_attempt(delivery_id=delivery.pk) is None  # a duplicate
    assert len(receiver.received) == 1
    later = webhooks.endpoint_send_test(endpoint=endpoint)
    WebhookDelivery.objects.filter(pk=later.pk).update(
        next_attempt_at=later.created_at + timedelta(hours=5)
    )
    sent.clear()
    assert webhooks.delivery_attempt(delivery_id=later.pk) is None  # not due: sleeps on
    assert sent == [(later.pk, 600)] and len(receiver.received) == 1


@pytest.mark.django_db
def test_the_test_event_endpoint_and_a_batch_end(
    auth_client, httpserver, sent, django_capture_on_commit_callbacks
):
    receiver = Receiver(httpserver, "/events")
    endpoint = _endpoint(auth_client, receiver.url, events=["batch.done"])
    r = auth_client.post(f"/api/webhooks/{endpoint['id']}/test/")
    assert r.status_code == 202 and r.json()["event"] == "webhook.test"
    _deliver(sent)
    with django_capture_on_commit_callbacks(execute=True):
        batch = auth_client.post(
            "/api/batches/",
            {
                "items": [
                    {"image_base64": base64.b64encode(render_text([t]).png()).decode()}
                    for t in ("One", "Two")
                ]
            },
            format="json",
        ).json()
    for job in batch["jobs"]:
        with django_capture_on_commit_callbacks(execute=True):
            services.job_start(job_id=job["id"])
    _deliver(sent)
    messages = receiver.verified(endpoint["secret"])
    assert [m["type"] for m in messages] == ["webhook.test", "batch.done"]  # no job.* events
    data = messages[1]["data"]
    assert data["id"] == batch["id"] and data["status"] == "done"
    assert data["counts"]["done"] == 2 and data["pages_done"] == 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_on_a_real_worker_ocr_never_waits_for_a_slow_receiver(live_server, tmp_path, settings):
    """Two receivers on loopback: one fails twice then takes the third attempt, one
    hangs past the timeout. The job ends as fast as without them; the webhook worker
    (threads, its own queue, as ``make run`` starts it) delivers and retries."""
    from tests.conftest import TEST_QUEUE, start_worker, wait_until
    from tests.factories import UserFactory

    env = {
        "OCR_URL_ALLOW_PRIVATE": "true",
        "OCR_WEBHOOK_RETRY_SECONDS": "0.5,0.5,0.5",
        "OCR_WEBHOOK_TIMEOUT": "4",
        "OCR_WEBHOOK_QUEUE": f"{TEST_QUEUE}-hooks",
    }
    # A queue of its own: the session's worker (tests/conftest.py) must not take these
    # jobs (it would send their events with its own settings).
    settings.OCR_QUEUE = settings.OCR_PROVIDER_QUEUE = queue = f"{TEST_QUEUE}-hooked-ocr"
    httpserver = HTTPServer(threaded=True)  # the slow receiver must not hold the other
    httpserver.start()
    ocr = start_worker(tmp_path / "ocr.log", concurrency=1, env_extra=env, queue=queue)
    hooks = start_worker(
        tmp_path / "hooks.log", concurrency=4, env_extra=env, queue=env["OCR_WEBHOOK_QUEUE"]
    )
    try:
        flaky = Receiver(httpserver, "/flaky", statuses=[500, 500])
        slow = Receiver(httpserver, "/slow", delay=6)
        user = UserFactory()
        _, key = services.key_create(owner=user, name="hooks")
        http = requests.Session()
        http.headers["X-API-Key"] = key
        base = live_server.url
        made = [
            http.post(f"{base}/api/webhooks/", json={"url": r.url}, timeout=10).json()
            for r in (flaky, slow)
        ]
        png = base64.b64encode(render_text(["Hooked"]).png()).decode()
        first = http.post(f"{base}/api/ocr/?wait=30", json={"image_base64": png}, timeout=60).json()
        second = http.post(
            f"{base}/api/ocr/?wait=30", json={"image_base64": png}, timeout=60
        ).json()
        assert first["status"] == second["status"] == "done"
        # The second job did not wait for the slow receiver of the first one's event.
        assert second["duration"] < 3, second["duration"]

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(flaky.received) < 4:
            time.sleep(0.2)
        done = [m["data"]["id"] for m in flaky.verified(made[0]["secret"])]
        assert sorted(set(done)) == sorted([first["id"], second["id"]])
        deliveries = WebhookDelivery.objects.filter(url=flaky.url).order_by("created_at")
        assert [d.status for d in deliveries] == ["succeeded", "succeeded"]
        # The first two requests failed (500): each message was retried, with its own id
        # (an attempt may also time out on a loaded machine and be retried once more).
        assert sum(d.attempts for d in deliveries) >= 4
        assert len({headers["Webhook-Id"] for _, headers in flaky.received}) == 2

        def slow_timed_out():
            log = http.get(f"{base}/api/webhooks/{made[1]['id']}/deliveries/", timeout=10)
            return any(d["last_response"].startswith("timeout") for d in log.json()["results"])

        wait_until(slow_timed_out, 20, "the slow receiver's attempt to time out")
        assert "Traceback" not in ocr.output() and "Traceback" not in hooks.output()
        assert json.loads(slow.received[0][0])["type"] == "job.done"
    finally:
        ocr.stop()
        hooks.stop()
        httpserver.clear()
        httpserver.stop()


@pytest.mark.django_db
def test_a_private_address_is_taken_when_the_service_allows_them(auth_client, settings):
    settings.OCR_URL_ALLOW_PRIVATE = True  # e.g. a receiver on this machine
    assert _endpoint(auth_client, "http://127.0.0.1:8199/hooks")["url"].startswith("http://127.")
    settings.OCR_URL_ALLOW_PRIVATE = False
    r = auth_client.post("/api/webhooks/", {"url": "http://127.0.0.1:8199/x"}, format="json")
    assert _code(r) == (400, "url_forbidden", "url")
