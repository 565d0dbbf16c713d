"""Content-Security-Policy in real headless Chromium: every page works, none reports a violation.

Each page is opened with a listener for ``securitypolicyviolation`` events (W3C CSP3,
section 5.3) installed before the page's own scripts run, and the browser console
is read afterwards: a blocked script, style or image shows in one or the other.
The pages must also have done their work (Swagger UI and ReDoc list the operations,
the job page drew its word boxes), so a policy that blocks them cannot pass.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from app.models import Batch
from app.services import webhooks as webhook_services
from tests.factories import PASSWORD, UserFactory
from tests.web.chromium import SCREENSHOTS, requires_chromium, start_chromium, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    requires_chromium,
]

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(
    e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " +
    e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Headless Chromium keeping its console log, with the violation listener on every page."""
    driver = start_chromium(tmp_path_factory.mktemp("chromium-csp"), console_log=True)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LISTEN})
    yield driver
    driver.quit()


_wait = wait_for


# ReDoc's sidebar shows a logo from cdn.redoc.ly, hard-coded in its bundle (no option
# turns it off). The policy blocks it on purpose: the docs make no third-party request,
# and ReDoc hides the image when it does not load.
BLOCKED_ON_PURPOSE = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _problems(driver) -> list[str]:
    """CSP and Permissions-Policy complaints since the last call (console and events)."""
    found = list(driver.execute_script("return window.__violations || []"))
    for entry in driver.get_log("browser"):
        text = entry["message"]
        if any(
            word in text
            for word in ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy")
        ):
            found.append(text)
    return [p for p in found if BLOCKED_ON_PURPOSE not in p]


def _open(driver, url: str, ready: str, *, selector: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url)
    try:
        _wait(lambda: driver.find_elements(By.CSS_SELECTOR, selector), what=ready)
    except AssertionError as exc:
        raise AssertionError(f"{url}: {exc}; {_problems(driver)}") from None
    time.sleep(0.5)  # late scripts, styles and images of the page


def test_pages_run_under_the_policy_without_violations(chromium, live_server, make_job) -> None:
    from selenium.webdriver.common.by import By

    driver = chromium
    base = live_server.url
    staff = UserFactory(username="csp.admin", is_staff=True, is_superuser=True)
    job = make_job(staff, filename="csp.png")
    pending = make_job(staff, filename="waiting.png", status="pending")
    batch = Batch.objects.create(owner=staff, job_count=1)
    pending.batch = batch
    pending.save(update_fields=["batch"])
    endpoint = webhook_services.endpoint_create(
        owner=staff, url="https://example.org/in", events=list(webhook_services.WEBHOOK_EVENTS)
    )

    driver.get(base + "/accounts/login/")
    assert driver.execute_script("return 1") == 1
    driver.find_element(By.ID, "id_username").send_keys(staff.username)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    _wait(lambda: driver.find_elements(By.ID, "file-input"), what="the upload page")
    problems = {"/accounts/login/ and /": _problems(driver)}

    pages = [
        ("/", "the engines in the upload form", "#file-input"),
        ("/history/", "the job list", "tr.job-row"),
        ("/keys/", "the API keys form", "#id_name"),
        ("/webhooks/", "the endpoint form", "#id_url"),
        (f"/webhooks/{endpoint.uid}/", "the delivery log", "#delivery-log"),
        (f"/jobs/{job.id}/", "the word boxes", "rect.word"),
        (f"/jobs/{pending.id}/", "the progress bar", "#job-progress .bar"),
        ("/history/?view=batches", "the batch list", "tr.batch-row"),
        (f"/batches/{batch.id}/", "the batch's progress bar", "#batch-progress .bar"),
        ("/admin/", "the admin index", "#content-main"),
        ("/admin/ocr/job/", "the admin job list", "#result_list"),
        ("/admin/ocr/apikey/", "the admin API key list", "#changelist"),
        (f"/admin/ocr/job/{job.id}/change/", "the admin job page", ".ocr-word"),
        ("/docs/", "Swagger UI's operations", ".swagger-ui .opblock"),
        ("/redoc/", "ReDoc's operations", "[data-section-id^='operation']"),
        ("/accounts/password_reset/", "the reset form", "#id_email"),
    ]
    policies = {}
    for path, ready, selector in pages:
        _open(driver, base + path, ready, selector=selector)
        problems[path] = _problems(driver)
        policies[path] = driver.execute_async_script(
            "const done = arguments[0]; fetch(location.href, {credentials: 'same-origin'})"
            ".then(r => done(r.headers.get('content-security-policy')), () => done(null));"
        )
        if path in ("/", "/docs/"):
            driver.save_screenshot(str(SCREENSHOTS / f"csp-{path.strip('/') or 'upload'}.png"))

    # The first width of the progress bar arrives without a style attribute.
    width = driver.execute_script(
        "return document.querySelector('#job-progress .bar') && "
        "document.querySelector('#job-progress .bar').style.width"
    )
    assert width is None or width.endswith("%")
    assert {k: v for k, v in problems.items() if v} == {}
    # ... and that is because the pages obey the policy, not because there is none.
    assert {p: v for p, v in policies.items() if not v or "script-src 'self'" not in v} == {}


def test_html_pages_carry_the_policy_headers(client) -> None:
    response = client.get("/accounts/login/")
    directives = dict(
        (d.strip().split(" ", 1) + [""])[:2] for d in response["Content-Security-Policy"].split(";")
    )
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    assert (
        directives["script-src"].startswith("'self'") and "unsafe" not in directives["script-src"]
    )
    assert "unsafe" not in directives["style-src"]
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
    permissions = response["Permissions-Policy"]
    assert "camera=()" in permissions and "microphone=()" in permissions
    assert "clipboard-write=(self)" in permissions


def test_an_inline_style_applies_only_with_this_responses_nonce(client) -> None:
    page = client.get("/docs/")
    style_src = next(
        d for d in page["Content-Security-Policy"].split(";") if d.strip().startswith("style-src")
    )
    nonce = style_src.split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'<style nonce="{nonce}">' in page.content.decode()
    assert nonce not in client.get("/docs/")["Content-Security-Policy"]  # a new one each time
