"""What every page shares (templates/base.html, static/js/site.js, static/css/app.css):
styled 404/403/500 pages, the phone header, dark mode, keyboard shortcuts, sign-out.

With Django's test client (DEBUG is False in tests, so Django renders the error
templates) and in headless Chromium at 1366x900 and 390x844; screenshots
``screenshots/15-site-*.png``. This module is also the URLconf of the tests that need
a view that fails (``@pytest.mark.urls``): the project's URLs plus two that raise.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.template import loader
from django.test import Client
from django.urls import path

from app.models import Batch, Job
from onlineocr import urls as project_urls
from tests.factories import PASSWORD, UserFactory
from tests.web.chromium import SCREENSHOTS, requires_chromium, start_chromium, wait_for


def _fail(request: Any) -> Any:
    raise RuntimeError("a bug")


def _forbid(request: Any) -> Any:
    raise PermissionDenied


urlpatterns = [
    path("test-fails/", _fail),
    path("test-forbidden/", _forbid),
    *project_urls.urlpatterns,
]
handler404 = project_urls.handler404
handler500 = project_urls.handler500

THIS = "tests.web.test_site_pages"


# ---- error pages -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_typo_a_deleted_job_and_another_users_job_get_the_styled_404(make_job, client_for):
    user, other = UserFactory(), UserFactory()
    client = client_for(user)
    deleted = make_job(user)
    deleted_url = f"/jobs/{deleted.id}/"
    Job.objects.filter(pk=deleted.pk).delete()
    for url in ("/no-such-page/", deleted_url, f"/jobs/{make_job(other).id}/"):
        response = client.get(url)
        assert response.status_code == 404, url
        html = response.content.decode()
        assert response["Content-Type"].startswith("text/html")
        assert "<h1" in html and "Page not found" in html, url
        assert 'class="topbar"' in html and "css/app.css" in html  # the site's layout
        assert 'href="/history/"' in html and user.username in html  # navigation, signed in
        assert "Upload a document" in html
    anonymous = Client().get("/no-such-page/").content.decode()
    assert "Page not found" in anonymous and 'href="/accounts/login/"' in anonymous


@pytest.mark.django_db
def test_the_api_keeps_its_json_404(client_for):
    response = client_for(UserFactory()).get("/api/no-such-thing/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.urls(THIS)
def test_permission_denied_gets_the_styled_403(client_for):
    response = client_for(UserFactory()).get("/test-forbidden/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot open this page" in html and 'class="topbar"' in html
    assert 'href="/history/"' in html


@pytest.mark.django_db
@pytest.mark.urls(THIS)
def test_a_server_error_gets_the_styled_500(settings):
    assert settings.DEBUG is False
    user = UserFactory()
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.get("/test-fails/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert 'class="topbar"' in html and "css/app.css" in html and "js/site.js" in html
    assert 'href="/"' in html and 'href="/history/"' in html
    assert "RuntimeError" not in html and "a bug" not in html  # nothing of the exception
    assert user.username not in html  # rendered without the request or the user
    api = client.get("/api/ocr/not-a-job/")  # under /api/ errors stay JSON
    assert api["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_the_500_page_needs_no_context_and_no_database(django_assert_num_queries):
    """Django renders 500.html with an empty context: no request, no context processors."""
    with django_assert_num_queries(0):
        html = loader.get_template("500.html").render()
    assert "Something went wrong on our side" in html and "/static/css/app.css" in html


# ---- accounts wording and sign-out ---------------------------------------------


@pytest.mark.django_db
def test_sign_in_and_sign_up_both_say_username():
    client = Client()
    for url in ("/accounts/login/", "/accounts/register/"):
        html = client.get(url).content.decode()
        assert ">Username<" in html, url
        assert "User name" not in html, url


@pytest.mark.django_db
def test_signing_out_says_so():
    user = UserFactory()
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    html = response.content.decode()
    assert "You have been signed out." in html and "Sign in" in html
    assert "_auth_user_id" not in client.session
    # Only once: the next page no longer says it.
    assert "signed out" not in client.get("/accounts/login/").content.decode()


# ---- in Chromium ------------------------------------------------------------------


def _luminance(css: str) -> float:
    """Relative luminance (0 black .. 1 white) of a CSS ``rgb()``/``rgba()`` colour."""
    parts = [float(p) for p in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]

    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in parts)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


#: Visible elements with their own text whose colour is too close to the background
#: behind them (WCAG contrast < 3): what dark mode must never leave on a page.
_LOW_CONTRAST_JS = """
function lum(c) {
  const m = c.match(/[\\d.]+/g); if (!m) return null;
  const a = m.length > 3 ? parseFloat(m[3]) : 1;
  const v = m.slice(0, 3).map(x => {
    x = x / 255;
    return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
  });
  return {l: 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2], a: a};
}
function bgOf(el) {
  for (let e = el; e; e = e.parentElement) {
    const b = lum(getComputedStyle(e).backgroundColor);
    if (b && b.a > 0.5) return b.l;
  }
  return lum(getComputedStyle(document.body).backgroundColor).l;
}
const bad = [];
for (const el of document.querySelectorAll('body *')) {
  if (['SCRIPT', 'STYLE', 'svg', 'path', 'IMG', 'OPTION'].includes(el.tagName)) continue;
  const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own) continue;
  const r = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  if (!r.width || !r.height || s.visibility === 'hidden' || parseFloat(s.opacity) < 0.5) continue;
  // Zero counts on the batch page are faint on purpose, in both themes.
  const skip = '.visually-hidden, .skip-link, .who-label, .boxes, .word-tip, [disabled], '
    + '.disabled, .stat-zero';
  if (el.closest(skip)) continue;
  const fg = lum(s.color).l, bg = bgOf(el);
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  const what = el.tagName.toLowerCase() + '.' + el.className;
  const text = el.textContent.trim().slice(0, 30);
  if (ratio < 3) bad.push(what + ' "' + text + '" ' + ratio.toFixed(2));
}
return bad;
"""


def _sign_in(browser: Any, base: str, user: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(base + "/accounts/login/")
    browser.find_element(By.ID, "id_username").send_keys(user.username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form [type=submit]").click()
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".who"), what="signed in")


def _press(browser: Any, keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(keys).perform()


def _no_horizontal_scroll(browser: Any) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def _body_luminance(browser: Any) -> float:
    return _luminance(
        browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    )


def _set_system_theme(browser: Any, value: str) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": value}]},
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_phone_header_is_one_row_with_brand_menu_and_user_name(live_server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    user = UserFactory(username="margaret.hamilton")
    base = live_server.url
    browser = start_chromium(tmp_path / "profile", console_log=True)
    try:
        browser.set_window_size(1366, 900)
        _sign_in(browser, base, user)
        bar = browser.find_element(By.ID, "topbar")
        assert bar.size["height"] < 70
        assert not browser.find_element(By.ID, "menu-button").is_displayed()
        assert browser.find_element(By.CSS_SELECTOR, ".nav").is_displayed()
        who = browser.find_element(By.CSS_SELECTOR, ".who")
        assert who.is_displayed() and who.text.endswith(user.username)
        browser.save_screenshot(str(SCREENSHOTS / "15-site-header-wide.png"))

        browser.set_window_size(390, 844)
        browser.get(base + "/")
        bar = browser.find_element(By.ID, "topbar")
        brand = browser.find_element(By.CSS_SELECTOR, ".brand span")
        menu_button = browser.find_element(By.ID, "menu-button")
        toggle = browser.find_element(By.ID, "theme-toggle")
        assert bar.size["height"] < 70, bar.size  # one row
        for element in (brand, menu_button, toggle):
            assert element.is_displayed()
            top = element.location["y"]
            assert bar.location["y"] <= top and top + element.size["height"] <= bar.size["height"]
        assert brand.text == "onlineocr"
        assert not browser.find_element(By.CSS_SELECTOR, ".nav").is_displayed()
        assert _no_horizontal_scroll(browser)
        browser.save_screenshot(str(SCREENSHOTS / "15-site-header-phone.png"))

        menu_button.click()
        assert menu_button.get_attribute("aria-expanded") == "true"
        who = browser.find_element(By.CSS_SELECTOR, ".who")
        assert who.is_displayed() and who.text == f"Signed in as {user.username}"
        assert browser.find_element(By.LINK_TEXT, "API keys").is_displayed()
        assert _no_horizontal_scroll(browser)
        browser.save_screenshot(str(SCREENSHOTS / "15-site-header-phone-menu.png"))
        _press(browser, Keys.ESCAPE)
        assert menu_button.get_attribute("aria-expanded") == "false"
        assert not browser.find_element(By.CSS_SELECTOR, ".nav").is_displayed()

        menu_button.click()
        browser.find_element(By.LINK_TEXT, "History").click()
        wait_for(lambda: browser.current_url.endswith("/history/"), what="history")
        assert browser.find_element(By.CSS_SELECTOR, ".brand span").is_displayed()
        assert _no_horizontal_scroll(browser)

        # Sign out from the phone menu: the sign-in page says so.
        browser.find_element(By.ID, "menu-button").click()
        browser.find_element(By.XPATH, "//button[normalize-space()='Sign out']").click()
        wait_for(lambda: "You have been signed out." in browser.page_source, what="signed out")
        browser.save_screenshot(str(SCREENSHOTS / "15-site-signed-out-phone.png"))
        csp = [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
        assert csp == []
    finally:
        browser.quit()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_dark_mode_follows_the_system_has_a_remembered_toggle_and_reads_everywhere(
    live_server, tmp_path, make_job
):
    from selenium.webdriver.common.by import By

    user = UserFactory()
    job = make_job(user, pages=[["Quarterly invoice total", "paid in full"]])
    batch = Batch.objects.create(owner=user, job_count=1, engine="tesseract", languages="eng")
    Job.objects.filter(pk=job.pk).update(batch=batch)
    Batch.objects.filter(pk=batch.pk).update(status="done")
    base = live_server.url
    browser = start_chromium(tmp_path / "profile")
    try:
        browser.set_window_size(1366, 900)
        _sign_in(browser, base, user)
        assert _body_luminance(browser) > 0.8  # light by default

        _set_system_theme(browser, "dark")
        pages = {
            "upload": "/",
            "history": "/history/",
            "job": f"/jobs/{job.id}/",
            "keys": "/keys/",
            "batches": "/batches/",
            "webhooks": "/webhooks/",
            "batch": f"/batches/{batch.id}/",
            "404": "/no-such-page/",
        }
        problems = {}
        for name, url in pages.items():
            browser.get(base + url)
            assert _body_luminance(browser) < 0.05, name
            toggle = browser.find_element(By.ID, "theme-toggle")
            assert toggle.get_attribute("aria-pressed") == "true"
            h1 = browser.find_element(By.TAG_NAME, "h1")
            assert _luminance(h1.value_of_css_property("color")) > 0.6, name
            bad = browser.execute_script(_LOW_CONTRAST_JS)
            if bad:
                problems[name] = bad
            browser.save_screenshot(str(SCREENSHOTS / f"15-site-dark-{name}.png"))
        browser.set_window_size(390, 844)
        for name in ("upload", "job"):
            browser.get(base + pages[name])
            assert _no_horizontal_scroll(browser), name
            browser.save_screenshot(str(SCREENSHOTS / f"15-site-dark-{name}-phone.png"))
        browser.set_window_size(1366, 900)
        assert problems == {}, problems

        # The toggle overrides the system and is remembered.
        browser.get(base + "/")
        browser.find_element(By.ID, "theme-toggle").click()
        assert _body_luminance(browser) > 0.8
        assert browser.execute_script("return localStorage.getItem('ocr-theme')") == "light"
        browser.get(base + "/history/")
        assert _body_luminance(browser) > 0.8
        assert browser.find_element(By.ID, "theme-toggle").get_attribute("aria-pressed") == "false"
        _press(browser, "t")  # the shortcut switches it back
        assert _body_luminance(browser) < 0.05
        assert browser.execute_script("return localStorage.getItem('ocr-theme')") == "dark"
        _set_system_theme(browser, "light")
        browser.refresh()
        assert _body_luminance(browser) < 0.05  # the choice wins over the system
    finally:
        browser.quit()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_keyboard_shortcuts_and_their_overlay(live_server, tmp_path, make_job):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    user = UserFactory()
    make_job(user)
    base = live_server.url
    browser = start_chromium(tmp_path / "profile")
    try:
        browser.set_window_size(1366, 900)
        _sign_in(browser, base, user)
        browser.get(base + "/")
        dialog = browser.find_element(By.ID, "shortcuts")
        assert not dialog.is_displayed()
        _press(browser, "?")
        wait_for(lambda: dialog.is_displayed(), what="the shortcuts overlay")
        text = dialog.text
        for line in ("Keyboard shortcuts", "Upload page", "History", "API keys", "Esc"):
            assert line in text, line
        browser.save_screenshot(str(SCREENSHOTS / "15-site-shortcuts.png"))
        _press(browser, Keys.ESCAPE)
        wait_for(lambda: not dialog.is_displayed(), what="the overlay closed")

        _press(browser, "h")
        wait_for(lambda: browser.current_url.endswith("/history/"), what="h: history")
        _press(browser, "/")
        active = browser.switch_to.active_element
        assert active.get_attribute("type") == "search" and active.get_attribute("name") == "q"
        active.send_keys("uh")  # typing in a field is not a shortcut
        assert browser.current_url.endswith("/history/")
        active.send_keys(Keys.ESCAPE)
        browser.find_element(By.TAG_NAME, "h1").click()
        _press(browser, "k")
        wait_for(lambda: browser.current_url.endswith("/keys/"), what="k: keys")
        _press(browser, "/")  # no search here: goes to the history's search
        wait_for(lambda: browser.current_url.endswith("/history/#search"), what="/: search")
        active = browser.switch_to.active_element
        assert active.get_attribute("name") == "q"
        browser.find_element(By.TAG_NAME, "h1").click()
        _press(browser, "u")
        wait_for(lambda: browser.current_url == base + "/", what="u: upload")

        # The footer's button opens the same list, with the mouse or on a phone.
        browser.set_window_size(390, 844)
        dialog = browser.find_element(By.ID, "shortcuts")
        button = browser.find_element(By.CSS_SELECTOR, "[data-open-shortcuts]")
        browser.execute_script("arguments[0].scrollIntoView()", button)
        button.click()
        wait_for(lambda: dialog.is_displayed(), what="overlay from the footer")
        assert _no_horizontal_scroll(browser)
        browser.save_screenshot(str(SCREENSHOTS / "15-site-shortcuts-phone.png"))
        dialog.find_element(By.CSS_SELECTOR, "[data-close-shortcuts]").click()
        wait_for(lambda: not dialog.is_displayed(), what="overlay closed by its button")
    finally:
        browser.quit()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls(THIS)
@requires_chromium
def test_error_pages_in_the_browser(live_server, tmp_path):
    from selenium.webdriver.common.by import By

    user = UserFactory()
    base = live_server.url
    browser = start_chromium(tmp_path / "profile", console_log=True)
    try:
        browser.set_window_size(1366, 900)
        _sign_in(browser, base, user)
        shots = {"404": "/jobs/00000000-0000-0000-0000-000000000000/", "403": "/test-forbidden/"}
        shots["500"] = "/test-fails/"
        for code, url in shots.items():
            browser.get(base + url)
            assert browser.find_element(By.CSS_SELECTOR, ".error-code").text == code
            assert browser.find_element(By.CSS_SELECTOR, ".brand").is_displayed()
            assert browser.find_element(By.LINK_TEXT, "Upload a document").is_displayed()
            browser.save_screenshot(str(SCREENSHOTS / f"15-site-error-{code}.png"))
        browser.set_window_size(390, 844)
        for code, url in shots.items():
            browser.get(base + url)
            assert _no_horizontal_scroll(browser), code
            assert browser.find_element(By.ID, "topbar").size["height"] < 70, code
            browser.save_screenshot(str(SCREENSHOTS / f"15-site-error-{code}-phone.png"))
        browser.find_element(By.LINK_TEXT, "Your history").click()
        wait_for(lambda: browser.current_url.endswith("/history/"), what="history from 500")
        csp = [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
        assert csp == []
    finally:
        browser.quit()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_swagger_authorize_offers_jwt_and_api_key_and_try_it_out_works(live_server, tmp_path):
    from selenium.webdriver.common.by import By

    from app.services.keys import key_create

    user = UserFactory()
    _, raw = key_create(owner=user, name="docs")
    base = live_server.url
    browser = start_chromium(tmp_path / "profile", console_log=True)
    try:
        browser.set_window_size(1366, 900)
        browser.get(base + "/docs/")
        history = wait_for(
            lambda: browser.find_element(By.ID, "operations-ocr-api_history_list"),
            what="the operations",
        )
        assert "List and search your jobs" in history.text  # a summary, not the id
        tags = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-tag")]
        assert not any(t.split("\n")[0].strip() == "api" for t in tags), tags
        browser.find_element(By.CSS_SELECTOR, ".btn.authorize").click()
        modal = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".modal-ux"), what="modal")
        text = modal.text
        assert "jwtAuth" in text and "Bearer" in text and "ApiKeyAuth" in text, text
        browser.save_screenshot(str(SCREENSHOTS / "15-site-swagger-authorize.png"))
        for container in modal.find_elements(By.CSS_SELECTOR, ".auth-container"):
            if "ApiKeyAuth" in container.text:
                container.find_element(By.CSS_SELECTOR, "input").send_keys(raw)
                container.find_element(By.CSS_SELECTOR, "button.authorize").click()
                break
        else:
            raise AssertionError("no API key form")
        wait_for(lambda: "Logout" in modal.text, what="authorized")
        modal.find_element(By.CSS_SELECTOR, "button.btn-done").click()

        history.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
        wait_for(lambda: history.find_element(By.CSS_SELECTOR, ".try-out__btn"), what="try").click()
        wait_for(lambda: history.find_element(By.CSS_SELECTOR, ".execute"), what="exec").click()
        status = wait_for(
            lambda: (
                history.find_element(
                    By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"
                ).text
            ),
            what="the live response",
        )
        assert status.strip() == "200", status
        browser.execute_script("arguments[0].scrollIntoView()", history)
        browser.save_screenshot(str(SCREENSHOTS / "15-site-swagger-tried.png"))
        csp = [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
        assert csp == []

        browser.get(base + "/redoc/")
        wait_for(lambda: "Sign in: get an access" in browser.page_source, what="ReDoc")
        assert "api_engines_list" not in browser.find_element(By.TAG_NAME, "body").text
        browser.save_screenshot(str(SCREENSHOTS / "15-site-redoc.png"))
    finally:
        browser.quit()


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_and_a_bad_request_get_styled_pages():
    from django.test import Client

    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/history/delete/", {"ids": []})
    assert response.status_code == 403
    html = response.content.decode()
    assert "This form could not be sent" in html and 'class="topbar"' in html
    # More ids than the bulk delete takes: Django's bad_request, in the site's layout.
    client = Client()
    client.force_login(user)
    ids = [str(__import__("uuid").uuid4()) for _ in range(101)]
    response = client.post("/history/delete/", {"ids": ids})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This request could not be taken" in html and 'class="topbar"' in html
