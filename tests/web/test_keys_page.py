"""The API keys page (/keys/, app/web/keys.py): make a key (shown once), list, revoke.

With Django's test client for the rules, and in headless Chromium as a user does it
(screenshots ``screenshots/15-keys-*.png`` at 1366x900 and 390x844).
"""

from __future__ import annotations

import pytest
import requests
from django.test import Client

from app.models import ApiKey
from tests.factories import PASSWORD, UserFactory
from tests.web.chromium import SCREENSHOTS, requires_chromium, start_chromium, wait_for


def _signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_a_key_made_on_the_page_is_shown_once_then_only_its_prefix():
    user = UserFactory()
    client = _signed_in(user)
    made = client.post("/keys/", {"name": "scanner", "expires": "30"})
    assert made.status_code == 200
    assert "no-store" in made["Cache-Control"]
    key = ApiKey.objects.get(owner=user)
    raw = made.context["created"]["raw"]
    assert raw.startswith(key.prefix + ".") and raw in made.content.decode()
    assert key.expiry_date is not None and key.name == "scanner"

    listed = client.get("/keys/").content.decode()
    assert raw not in listed and key.prefix in listed and "scanner" in listed


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["", "tab\there", "x" * 51])
def test_a_bad_name_is_refused_on_the_page(name):
    client = _signed_in(UserFactory())
    r = client.post("/keys/", {"name": name, "expires": ""})
    assert r.status_code == 400 and r.context["form"].errors["name"]
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_revoking_asks_first_and_only_ones_own_key():
    user, other = UserFactory(), UserFactory()
    client = _signed_in(user)
    client.post("/keys/", {"name": "to revoke", "expires": ""})
    key = ApiKey.objects.get(owner=user)
    url = f"/keys/{key.uid}/revoke/"
    assert "Revoke this key?" in client.get(url).content.decode()
    assert not ApiKey.objects.get(pk=key.pk).revoked
    assert _signed_in(other).post(url).status_code == 404
    r = client.post(url, follow=True)
    assert r.redirect_chain[-1][0] == "/keys/"
    assert "Revoked the key" in r.content.decode()
    assert ApiKey.objects.get(pk=key.pk).revoked
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_the_page_needs_a_sign_in():
    r = Client().get("/keys/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_make_copy_use_and_revoke_a_key_in_the_browser(live_server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    user = UserFactory()
    base = live_server.url
    browser = start_chromium(tmp_path / "profile")
    try:
        browser.set_window_size(1366, 900)
        browser.get(base + "/accounts/login/?next=/keys/")
        browser.find_element(By.ID, "id_username").send_keys(user.username)
        browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form [type=submit]").click()
        wait_for(lambda: browser.find_element(By.ID, "id_name"), what="the keys page")
        assert "No API keys yet" in browser.page_source

        browser.find_element(By.ID, "id_name").send_keys("nightly scan import")
        Select(browser.find_element(By.ID, "id_expires")).select_by_visible_text("1 year")
        browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
        field = wait_for(lambda: browser.find_element(By.ID, "new-key-value"), what="the key")
        raw = field.get_attribute("value")
        browser.find_element(By.ID, "copy-key").click()
        status = wait_for(
            lambda: browser.find_element(By.ID, "copy-key-status").text, what="copy status"
        )
        assert "clipboard" in status or "Ctrl+C" in status
        browser.save_screenshot(str(SCREENSHOTS / "15-keys-1-made.png"))
        # Reloading the page that shows the key does not make a second key.
        browser.refresh()
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "table.keys"), what="the list")
        assert raw not in browser.page_source
        assert ApiKey.objects.filter(owner=user).count() == 1

        # The key works against the API; the page shows it only this once.
        r = requests.get(f"{base}/api/history/", headers={"X-API-Key": raw}, timeout=10)
        assert r.status_code == 200, r.text
        browser.get(base + "/keys/")
        assert raw not in browser.page_source
        row = browser.find_element(By.CSS_SELECTOR, "table.keys tbody tr")
        assert "nightly scan import" in row.text and raw[:8] in row.text
        cells = row.find_elements(By.TAG_NAME, "td")
        assert cells[3].text == "just now"
        assert "in about 12 months" in cells[4].text
        browser.save_screenshot(str(SCREENSHOTS / "15-keys-2-list.png"))
        browser.set_window_size(390, 844)
        assert wait_for(
            lambda: browser.execute_script(
                "return document.documentElement.scrollWidth"
                " <= document.documentElement.clientWidth"
            ),
            what="no sideways scrolling",
        )
        name_cell = row.find_element(By.CSS_SELECTOR, "td.name-cell")
        assert name_cell.location["x"] < 60  # no empty thumbnail column on a phone
        browser.save_screenshot(str(SCREENSHOTS / "15-keys-3-phone.png"))
        browser.set_window_size(1366, 900)

        row.find_element(By.LINK_TEXT, "Revoke").click()
        wait_for(lambda: "Revoke this key?" in browser.page_source, what="the confirmation")
        browser.find_element(By.CSS_SELECTOR, "form button.btn-danger").click()
        wait_for(lambda: "Revoked the key" in browser.page_source, what="the revocation")
        browser.save_screenshot(str(SCREENSHOTS / "15-keys-4-revoked.png"))
        r = requests.get(f"{base}/api/history/", headers={"X-API-Key": raw}, timeout=10)
        assert r.status_code == 401 and r.json()["error"]["code"] == "authentication_failed"
    finally:
        browser.quit()


@pytest.mark.django_db
def test_staff_see_everyones_keys_in_the_admin_and_revoke_them():
    from app import services

    staff = UserFactory(is_staff=True, is_superuser=True)
    owner = UserFactory()
    key, raw = services.key_create(owner=owner, name="owner's script")
    services.key_create(owner=UserFactory(), name="someone else's")
    admin = _signed_in(staff)
    html = admin.get("/admin/ocr/apikey/").content.decode()
    assert "owner&#x27;s script" in html and "someone else&#x27;s" in html
    assert key.prefix in html and owner.username in html and raw not in html
    found = admin.get("/admin/ocr/apikey/", {"q": owner.username}).content.decode()
    assert "owner&#x27;s script" in found and "someone else" not in found

    r = admin.post(
        "/admin/ocr/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    assert "1 API key revoked." in r.content.decode()
    assert ApiKey.objects.get(pk=key.pk).revoked
    assert ApiKey.objects.filter(revoked=False).count() == 1
    # The key's page shows no hash to edit and no way to un-revoke it.
    page = admin.get(f"/admin/ocr/apikey/{key.pk}/change/").content.decode()
    assert key.hashed_key not in page and 'name="revoked"' not in page


def test_times_read_in_rough_words():
    from datetime import UTC, datetime, timedelta

    from app.web.keys import ago, expires_in

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert ago(None) == "" and ago(now - timedelta(seconds=20), now) == "just now"
    assert ago(now - timedelta(minutes=5, seconds=10), now) == "5\xa0minutes ago"
    assert ago(now - timedelta(days=3, hours=5), now) == "3\xa0days ago"
    assert expires_in(None, now) == "" and expires_in(now - timedelta(days=1), now) == ""
    assert expires_in(now + timedelta(hours=3), now) == "in less than a day"
    assert expires_in(now + timedelta(days=1), now) == "in 1 day"
    assert expires_in(now + timedelta(days=30), now) == "in 30 days"
    assert expires_in(now + timedelta(days=90), now) == "in about 3 months"
    assert expires_in(now + timedelta(days=365), now) == "in about 12 months"
