"""The webhooks pages (/webhooks/, app/web/webhooks.py): endpoints with a signing secret
shown once, their settings, Replace secret, Delete, Send test event and the delivery log.

With Django's test client for the rules, and in headless Chromium as a user does it,
against a real receiver on loopback (pytest-httpserver) and a real webhook worker
(screenshots ``screenshots/15-webhooks-*.png`` at 1366x900 and 390x844, light and dark).
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug import Request as WRequest
from werkzeug import Response as WResponse

from app.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.services import webhooks as webhook_services
from tests.factories import PASSWORD, UserFactory
from tests.web.chromium import SCREENSHOTS, requires_chromium, start_chromium, wait_for

ALL_EVENTS = list(webhook_services.WEBHOOK_EVENTS)


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_an_endpoint_made_on_the_page_shows_its_secret_once(settings):
    settings.OCR_URL_ALLOW_PRIVATE = False
    user = UserFactory()
    client = _signed_in(user)
    made = client.post(
        "/webhooks/", {"url": "https://example.org/ocr-events", "events": ["job.done"]}
    )
    assert made.status_code == 200
    assert "no-store" in made["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get(owner=user)
    assert endpoint.url == "https://example.org/ocr-events" and endpoint.events == ["job.done"]
    html = made.content.decode()
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in html
    assert "shown only this once" in html

    listed = client.get("/webhooks/").content.decode()
    assert endpoint.secret not in listed
    assert "https://example.org/ocr-events" in listed and "job.done" in listed
    assert "None yet" in listed and "Enabled" in listed


@pytest.mark.django_db
def test_the_form_starts_with_every_event_and_a_host_without_scheme_is_https():
    client = _signed_in(UserFactory())
    page = client.get("/webhooks/").content.decode()
    for event in ALL_EVENTS:
        assert f'value="{event}"' in page
    assert len(re.findall(r'name="events" value="[a-z.]+" id="[^"]+" checked', page)) == len(
        ALL_EVENTS
    )
    client.post("/webhooks/", {"url": "hooks.example.org/in", "events": ALL_EVENTS})
    assert WebhookEndpoint.objects.get().url == "https://hooks.example.org/in"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"url": "", "events": ["job.done"]}, "url", "required"),
        ({"url": "not a url at all", "events": ["job.done"]}, "url", "valid URL"),
        ({"url": "ftp://example.org/in", "events": ["job.done"]}, "url", "http"),
        ({"url": "http://10.1.2.3/in", "events": ["job.done"]}, "url", "private"),
        ({"url": "http://169.254.169.254/latest", "events": ["job.done"]}, "url", "address"),
        ({"url": "https://example.org/in", "events": []}, "events", "at least one event"),
        ({"url": "https://example.org/in", "events": ["job.started"]}, "events", "valid choice"),
    ],
)
def test_bad_endpoints_are_refused_on_the_page_in_words(settings, body, field, words):
    settings.OCR_URL_ALLOW_PRIVATE = False
    client = _signed_in(UserFactory())
    r = client.post("/webhooks/", body)
    assert r.status_code == 400
    errors = " ".join(r.context["form"].errors[field])
    assert words in errors, errors
    assert errors in r.content.decode().replace("&#x27;", "'")
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_a_user_has_at_most_the_apis_number_of_endpoints(settings):
    user = UserFactory()
    for i in range(webhook_services.MAX_ENDPOINTS_PER_USER):
        webhook_services.endpoint_create(
            owner=user, url=f"https://example.org/{i}", events=["job.done"]
        )
    r = _signed_in(user).post(
        "/webhooks/", {"url": "https://example.org/x", "events": ["job.done"]}
    )
    assert r.status_code == 400
    assert "at most 20 webhook endpoints" in r.content.decode()


@pytest.mark.django_db
def test_settings_change_replace_the_secret_and_delete():
    user = UserFactory()
    endpoint = webhook_services.endpoint_create(
        owner=user, url="https://example.org/in", events=ALL_EVENTS
    )
    old_secret = endpoint.secret
    client = _signed_in(user)
    page = f"/webhooks/{endpoint.uid}/"
    html = client.get(page).content.decode()
    assert "No deliveries yet" in html and old_secret not in html

    saved = client.post(
        page, {"url": "https://example.org/other", "events": ["job.failed", "batch.done"]}
    )
    assert saved.status_code == 302 and saved["Location"] == page
    endpoint.refresh_from_db()
    assert endpoint.url == "https://example.org/other"
    assert endpoint.events == ["job.failed", "batch.done"] and endpoint.enabled is False
    assert endpoint.secret == old_secret
    bad = client.post(page, {"url": "https://example.org/x", "events": []})
    assert bad.status_code == 400 and "Choose at least one event." in bad.content.decode()
    # Back to enabled, and the form shows it.
    client.post(page, {"url": endpoint.url, "events": ["job.done"], "enabled": "on"})
    endpoint.refresh_from_db()
    assert endpoint.enabled is True and endpoint.events == ["job.done"]

    ask = client.get(f"{page}secret/").content.decode()
    assert "Replace the signing secret?" in ask
    replaced = client.post(f"{page}secret/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret and endpoint.secret.startswith("whsec_")
    assert endpoint.secret in replaced.content.decode() and "no-store" in replaced["Cache-Control"]
    assert endpoint.secret not in client.get(page).content.decode()

    assert "Delete this endpoint?" in client.get(f"{page}delete/").content.decode()
    gone = client.post(f"{page}delete/", follow=True)
    assert gone.redirect_chain[-1][0] == "/webhooks/"
    assert "Deleted the endpoint https://example.org/other" in gone.content.decode()
    assert not WebhookEndpoint.objects.exists()
    assert client.get(page).status_code == 404


@pytest.mark.django_db
def test_send_test_event_puts_a_delivery_at_the_top_of_the_log(monkeypatch):
    scheduled: list[int] = []
    monkeypatch.setattr(webhook_services, "_schedule", lambda pk, seconds: scheduled.append(pk))
    user = UserFactory()
    endpoint = webhook_services.endpoint_create(
        owner=user, url="https://example.org/in", events=["batch.done"]
    )
    client = _signed_in(user)
    r = client.post(f"/webhooks/{endpoint.uid}/test/", follow=True)
    assert r.redirect_chain[-1][0] == f"/webhooks/{endpoint.uid}/"
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event == "webhook.test" and scheduled == [delivery.pk]
    html = r.content.decode()
    assert "Sent a test event" in html and "Test event" in html and "Queued" in html
    assert 'data-live="1"' in html  # the page refreshes the log until the answer comes

    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, attempts=8, last_status_code=503, last_response="down"
    )
    html = client.get(f"/webhooks/{endpoint.uid}/").content.decode()
    assert "Failed" in html and "503" in html and 'data-live="0"' in html
    assert "Failed, " in client.get("/webhooks/").content.decode()
    assert client.get(f"/webhooks/{endpoint.uid}/test/").status_code == 405


@pytest.mark.django_db
def test_another_users_endpoint_is_not_found_and_the_pages_need_a_sign_in():
    owner = UserFactory()
    endpoint = webhook_services.endpoint_create(
        owner=owner, url="https://example.org/in", events=ALL_EVENTS
    )
    other = _signed_in(UserFactory())
    base = f"/webhooks/{endpoint.uid}/"
    for url in (base, f"{base}secret/", f"{base}delete/"):
        assert other.get(url).status_code == 404
    for url in (base, f"{base}test/", f"{base}secret/", f"{base}delete/"):
        assert (
            other.post(url, {"url": "https://evil.example/", "events": ALL_EVENTS}).status_code
            == 404
        )
    endpoint.refresh_from_db()
    assert endpoint.url == "https://example.org/in" and not endpoint.deliveries.exists()
    assert endpoint.url not in other.get("/webhooks/").content.decode()
    assert other.get("/webhooks/00000000-0000-0000-0000-000000000000/").status_code == 404
    for url in ("/webhooks/", base):
        r = Client().get(url)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


# --- in the browser ---------------------------------------------------------------------


class Receiver:
    """A webhook receiver on loopback answering ``status``; keeps each request."""

    def __init__(self, server: HTTPServer, path: str, status: int) -> None:
        self.server, self.path, self.status = server, path, status
        self.received: list[tuple[bytes, dict[str, str]]] = []
        server.expect_request(path, method="POST").respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return self.server.url_for(self.path)

    def _handle(self, request: WRequest) -> WResponse:
        self.received.append((request.get_data(), dict(request.headers)))
        return WResponse(
            "thanks" if self.status < 300 else "down for maintenance", status=self.status
        )


def _no_horizontal_scroll(browser) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def _row(browser, status_text: str):
    from selenium.webdriver.common.by import By

    for row in browser.find_elements(By.CSS_SELECTOR, "#delivery-log tr.delivery"):
        if status_text in row.text:
            return row
    return None


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_add_an_endpoint_send_a_test_event_and_read_the_log_in_the_browser(
    live_server, tmp_path, settings, httpserver
):
    """A user adds two endpoints on the page, copies the secret, sends test events: the
    log shows the answer of each (200 delivered, 503 retrying) without a reload; the
    receiver checks the signature with the Standard Webhooks library; the secret is
    replaced and the next message is signed with the new one; one endpoint is deleted."""
    from selenium.webdriver.common.by import By

    from tests.conftest import TEST_QUEUE, start_worker

    # The receivers listen on 127.0.0.1: allowed here, as tests/api/test_webhooks.py
    # does, in this process (the page) and in a webhook worker of its own (the session's
    # worker keeps the service's default, which refuses loopback).
    settings.OCR_URL_ALLOW_PRIVATE = True
    settings.OCR_WEBHOOK_QUEUE = queue = f"{TEST_QUEUE}-webhooks-page"
    worker = start_worker(
        tmp_path / "hooks.log",
        concurrency=1,
        queue=queue,
        env_extra={
            "OCR_URL_ALLOW_PRIVATE": "true",
            "OCR_WEBHOOK_QUEUE": queue,
            "OCR_WEBHOOK_RETRY_SECONDS": "3600",
        },
    )
    ok = Receiver(httpserver, "/ok", 200)
    down = Receiver(httpserver, "/down", 503)
    user = UserFactory()
    base = live_server.url
    browser = start_chromium(tmp_path / "profile", console_log=True)
    try:
        browser.set_window_size(1366, 900)
        browser.get(base + "/accounts/login/?next=/keys/")
        browser.find_element(By.ID, "id_username").send_keys(user.username)
        browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form [type=submit]").click()
        wait_for(lambda: browser.find_element(By.ID, "id_name"), what="the keys page")
        # The header leads to the page.
        browser.find_element(By.CSS_SELECTOR, "nav.nav a[href='/webhooks/']").click()
        wait_for(lambda: "No webhook endpoints yet" in browser.page_source, what="the page")
        current = browser.find_element(By.CSS_SELECTOR, "nav.nav a[aria-current=page]")
        assert current.get_attribute("textContent").strip() == "Webhooks"

        # A refused address: the page comes back with the error, the focus on the field.
        browser.find_element(By.ID, "id_url").send_keys("ftp://files.example.org/in")
        browser.find_element(By.CSS_SELECTOR, "form.webhook-form button[type=submit]").click()
        wait_for(lambda: browser.find_elements(By.ID, "url-error"), what="the error")
        assert browser.switch_to.active_element.get_attribute("id") == "id_url"
        browser.find_element(By.ID, "id_url").clear()

        # Add the endpoint that answers 200, for job events only.
        browser.find_element(By.ID, "id_url").send_keys(ok.url)
        browser.find_element(By.CSS_SELECTOR, "input[name=events][value='batch.done']").click()
        browser.find_element(By.CSS_SELECTOR, "form.webhook-form button[type=submit]").click()
        field = wait_for(lambda: browser.find_element(By.ID, "new-secret-value"), what="secret")
        # Shown once: its Copy button has the focus, ready for Enter.
        assert browser.switch_to.active_element.get_attribute("id") == "copy-secret"
        secret = field.get_attribute("value")
        assert secret.startswith("whsec_")
        browser.find_element(By.ID, "copy-secret").click()
        status = wait_for(
            lambda: browser.find_element(By.ID, "copy-secret-status").text, what="copy status"
        )
        assert "clipboard" in status or "Ctrl+C" in status
        row = browser.find_element(By.CSS_SELECTOR, "table.endpoints tbody tr")
        assert ok.url in row.text and "batch.done" not in row.text and "job.done" in row.text
        browser.save_screenshot(str(SCREENSHOTS / "15-webhooks-1-added.png"))
        endpoint = WebhookEndpoint.objects.get(url=ok.url)
        assert endpoint.events == ["job.done", "job.failed", "job.canceled"]
        # A reload shows the list without the secret and makes no second endpoint.
        browser.refresh()
        wait_for(lambda: "table" in browser.page_source, what="the list again")
        assert secret not in browser.page_source
        assert WebhookEndpoint.objects.count() == 1

        # Its page: send a test event; the log shows the answer without a reload.
        browser.find_element(By.LINK_TEXT, "Log & settings").click()
        wait_for(lambda: "No deliveries yet" in browser.page_source, what="the empty log")
        browser.find_element(By.ID, "send-test").click()
        delivered = wait_for(lambda: _row(browser, "Delivered"), timeout=45, what="delivered")
        cells = delivered.find_elements(By.TAG_NAME, "td")
        assert "Test event" in cells[0].text and "webhook.test" in cells[0].text
        assert cells[3].text.startswith("200") and cells[4].text == "1"
        assert "Sent a test event" in browser.page_source
        [(body, headers)] = ok.received
        message = Webhook(secret).verify(body, headers)
        assert message["type"] == "webhook.test" and message["data"]["endpoint"] == str(
            endpoint.uid
        )
        more = delivered.find_element(By.XPATH, "following-sibling::tr[1]")
        more.find_element(By.TAG_NAME, "summary").click()
        facts = more.find_element(By.CSS_SELECTOR, ".delivery-facts").text
        assert (
            "thanks" in facts
            and '"type": "webhook.test"' in facts
            and headers["Webhook-Id"] in facts
        )
        browser.save_screenshot(str(SCREENSHOTS / "15-webhooks-2-delivered.png"))

        # Replace the secret: the next message is signed with the new one only.
        browser.find_element(By.PARTIAL_LINK_TEXT, "Replace secret").click()
        wait_for(lambda: "Replace the signing secret?" in browser.page_source, what="ask")
        browser.find_element(By.CSS_SELECTOR, "form button.btn-danger").click()
        new_secret = wait_for(
            lambda: browser.find_element(By.ID, "new-secret-value").get_attribute("value"),
            what="the new secret",
        )
        assert new_secret.startswith("whsec_") and new_secret != secret
        browser.find_element(By.ID, "send-test").click()
        wait_for(lambda: len(ok.received) == 2, timeout=45, what="the second message")
        body, headers = ok.received[1]
        assert Webhook(new_secret).verify(body, headers)["type"] == "webhook.test"
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body, headers)
        wait_for(
            lambda: (
                len(browser.find_elements(By.CSS_SELECTOR, "#delivery-log tr.delivery")) == 2
                and _row(browser, "Queued") is None
                and _row(browser, "Sending") is None
            ),
            timeout=45,
            what="two delivered rows",
        )

        # A second endpoint that answers 503: the log says so, and when it tries again.
        browser.get(base + "/webhooks/")
        browser.find_element(By.ID, "id_url").send_keys(down.url)
        browser.find_element(By.CSS_SELECTOR, "form.webhook-form button[type=submit]").click()
        wait_for(lambda: browser.find_element(By.ID, "new-secret-value"), what="second secret")
        browser.find_element(By.LINK_TEXT, "send it a test event").click()
        wait_for(lambda: browser.find_element(By.ID, "send-test"), what="its page").click()
        retrying = wait_for(lambda: _row(browser, "Retrying"), timeout=45, what="retrying")
        cells = retrying.find_elements(By.TAG_NAME, "td")
        assert cells[3].text.startswith("503") and cells[4].text == "1"
        assert "next try" in cells[1].text
        wait_for(lambda: browser.find_element(By.ID, "log-live").text == "", what="log idle")
        browser.save_screenshot(str(SCREENSHOTS / "15-webhooks-3-retrying.png"))

        # Phone width: no horizontal scrolling, on the log and on the list.
        browser.set_window_size(390, 844)
        assert wait_for(lambda: _no_horizontal_scroll(browser), what="no sideways scroll")
        browser.save_screenshot(str(SCREENSHOTS / "15-webhooks-4-log-phone.png"))
        browser.get(base + "/webhooks/")
        rows = browser.find_elements(By.CSS_SELECTOR, "table.endpoints tbody tr")
        assert len(rows) == 2 and "Delivered" in rows[0].text and "Waiting" in rows[1].text
        assert _no_horizontal_scroll(browser)
        browser.save_screenshot(str(SCREENSHOTS / "15-webhooks-5-list-phone.png"))
        browser.set_window_size(1366, 900)

        # Dark mode follows the system: the page's own styles use the theme's colours.
        browser.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
        )
        browser.get(base + f"/webhooks/{endpoint.uid}/")
        wait_for(lambda: _row(browser, "Delivered"), what="the log in the dark")
        background = browser.execute_script(
            "return getComputedStyle(document.querySelector('.log-card')).backgroundColor"
        )
        assert background != "rgb(255, 255, 255)"
        browser.save_screenshot(str(SCREENSHOTS / "15-webhooks-6-dark.png"))
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

        # Delete the failing one (with its log).
        browser.get(base + "/webhooks/")
        browser.find_element(By.CSS_SELECTOR, f"a[aria-label='Delete {down.url}']").click()
        wait_for(lambda: "Delete this endpoint?" in browser.page_source, what="the question")
        browser.find_element(By.CSS_SELECTOR, "form button.btn-danger").click()
        wait_for(lambda: "Deleted the endpoint" in browser.page_source, what="the deletion")
        assert [e.url for e in WebhookEndpoint.objects.all()] == [ok.url]
        browser.save_screenshot(str(SCREENSHOTS / "15-webhooks-7-list.png"))
        assert not WebhookDelivery.objects.filter(url=down.url).exists()
        assert len(down.received) == 1
        assert "Traceback" not in worker.output()
        # Every page ran under the site's Content-Security-Policy without a violation.
        console = [entry["message"] for entry in browser.get_log("browser")]
        assert [m for m in console if "Content Security Policy" in m] == [], console
        log = json.loads(ok.received[0][0])
        assert log["data"]["message"] == "A test event from onlineocr."
    finally:
        browser.quit()
        worker.stop()
