"""Issue 15's "done means": a new user's walk, keyboard only and with the mouse.

Real headless Chromium (Debian's ``chromium`` driven by Selenium), a live server and
a real Celery worker, as ``test_browser.py``. Two walks, each in the light and the
dark colour scheme (``prefers-color-scheme`` emulated over CDP):

* keyboard only at 1366 x 900: sign up, upload, open the result, move between the
  words of the page image with the arrow keys, copy the text, then History by its
  ``h`` shortcut, search with ``/`` and open the job -- counting Tab presses to each
  target and checking that the focused element always shows a focus ring;
* the mouse at 390 x 844 (a phone): the same walk plus every page a user reaches,
  each checked for horizontal scrolling and saved as a screenshot
  (``screenshots/15-walk-*.png``) for a person to look at.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.imaging import render_text
from tests.web.chromium import SCREENSHOTS, requires_chromium, start_chromium, wait_for
from tests.web.keyboard import Keyboard

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    requires_chromium,
]

SCHEMES = ["light", "dark"]

_NO_SIDEWAYS_SCROLL = (
    "return [document.documentElement.scrollWidth, window.innerWidth,"
    " Array.from(document.querySelectorAll('body *')).filter(e => {"
    "   const r = e.getBoundingClientRect(); return r.width && r.right > window.innerWidth + 1;"
    " }).slice(0, 5).map(e => e.tagName + '.' + (e.getAttribute('class') || '') + '#' + e.id)]"
)


#: Buttons whose label does not fit in them (text spilling over the button's border).
_SPILLING_BUTTONS = (
    "return Array.from(document.querySelectorAll('.btn, button')).filter(b => {"
    "  const r = b.getBoundingClientRect();"
    "  return r.width > 0 && getComputedStyle(b).visibility !== 'hidden'"
    "    && b.scrollWidth > b.clientWidth + 2;"
    "}).map(b => b.textContent.trim().slice(0, 30))"
)


@pytest.fixture
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh headless Chromium (a new user: no cookies, no stored theme)."""
    driver = start_chromium(tmp_path_factory.mktemp("walk-profile"))
    yield driver
    driver.quit()


def _window(browser: Any, width: int, height: int, scheme: str) -> None:
    """A window whose page viewport is exactly ``width`` x ``height`` CSS px (a phone's
    when narrow), with the system colour scheme ``scheme`` (light or dark) emulated."""
    browser.set_window_size(width, height)
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )


def _shot(browser: Any, name: str, *, full: bool = True) -> Path:
    """Save the page as ``screenshots/15-walk-<name>.png``.

    ``full``: the whole page beyond the viewport (fixed layers such as a dialog's
    backdrop then cover only the viewport's part); else what the window shows.
    """
    import base64

    # Let finite transitions end (a done row's bar grows to full width in 0.3 s).
    wait_for(
        lambda: browser.execute_script(
            "return document.getAnimations().every(a => a.playState !== 'running'"
            " || a.effect.getTiming().iterations === Infinity)"
        ),
        timeout=3,
        what="transitions to end",
    )
    path = SCREENSHOTS / f"15-walk-{name}.png"
    if not full:
        browser.save_screenshot(str(path))
        return path
    data = browser.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )["data"]
    path.write_bytes(base64.b64decode(data))
    return path


def _page_png(tmp_path: Path, name: str, lines: list[str] | None = None) -> Path:
    path = tmp_path / name
    path.write_bytes(render_text(lines).png() if lines else render_text().png())
    return path


def _active_box(browser: Any) -> dict[str, float] | None:
    return browser.execute_script(
        "const r = document.querySelector('#boxes rect.word.active');"
        "if (!r) return null; const b = r.getBoundingClientRect();"
        "return {x: b.left, y: b.top, label: r.getAttribute('data-label')}"
    )


@pytest.mark.parametrize("scheme", SCHEMES)
def test_keyboard_only_walk_upload_result_copy_history(
    browser, live_server, celery_worker, tmp_path, scheme
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base = live_server.url
    _window(browser, 1366, 900, scheme)
    keys = Keyboard(browser, on_hidden_focus=lambda n: _shot(browser, f"focus-missing-{n}"))
    name = f"kb-{scheme}"

    # Sign up: Tab to the first field, type, Tab between fields, Enter to send.
    browser.get(base + "/accounts/register/")
    tabs = keys.tab_to("el.id === 'id_username'", "sign-up: user name", limit=15)
    assert tabs <= 12, f"{tabs} Tabs to the first field of the sign-up form"
    keys.press(f"walker.{scheme}")
    keys.press(Keys.TAB)
    keys.check_focus("sign-up")
    for _ in range(3):  # the e-mail, then the password twice
        field = browser.switch_to.active_element.get_attribute("id")
        if field == "id_email":
            keys.press(f"walker.{scheme}@example.org")
        if field in ("id_password1", "id_password2"):
            keys.press(PASSWORD)
        if field == "id_password2":
            break
        keys.press(Keys.TAB)
        keys.check_focus("sign-up")
    assert browser.switch_to.active_element.get_attribute("id") == "id_password2"
    keys.press(Keys.ENTER)
    wait_for(lambda: browser.find_elements(By.ID, "file-input"), what="the upload page")
    _shot(browser, f"{name}-upload")

    # Upload: Tab to the file input. A file dialog cannot be driven headless, so the
    # path is typed into the focused input (what choosing a file in the dialog does).
    tabs = keys.tab_to("el.id === 'file-input'", "upload: file input")
    assert tabs <= 12, f"{tabs} Tabs to the file input"
    browser.switch_to.active_element.send_keys(str(_page_png(tmp_path, "letter.png")))
    wait_for(
        lambda: "1 file ready" in browser.find_element(By.ID, "selection-summary").text,
        what="the file to be ready",
    )
    tabs = keys.tab_to("el.id === 'submit-files'", "upload: Recognise text")
    # Through the engine menu, the languages summary and each language chip (a form's
    # own controls): 13 with the 10 Tesseract languages of the test machine.
    assert tabs <= 15, f"{tabs} Tabs from the file input to Recognise text"
    keys.press(Keys.ENTER)
    # The button is disabled once pressed: the focus goes on to the list of files
    # (not back to the top of the page), where the file's progress and links are.
    assert browser.switch_to.active_element.get_attribute("id") == "file-list"
    keys.check_focus("upload: the list of files")
    wait_for(
        lambda: browser.find_element(By.CSS_SELECTOR, "li.file-row[data-state='done']"),
        timeout=90,
        what="the page to be recognised",
    )
    _shot(browser, f"{name}-upload-done")
    tabs = keys.tab_to("el.textContent.trim() === 'Open result'", "upload: Open result")
    assert tabs <= 8, f"{tabs} Tabs to Open result"
    keys.press(Keys.ENTER)

    # The result: one tab stop for the page image; arrow keys move between words.
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "rect.word"), what="word boxes")
    assert not browser.find_elements(By.CSS_SELECTOR, "#boxes rect.word:not([tabindex='-1'])"), (
        "the word boxes are no tab stops of their own"
    )
    tabs = keys.tab_to("el.id === 'boxes'", "result: page image")
    assert tabs <= 25, f"{tabs} Tabs to the page image"
    keys.press(Keys.ARROW_RIGHT)
    first = wait_for(lambda: _active_box(browser), what="a highlighted word")
    keys.press(Keys.ARROW_RIGHT)
    second = wait_for(
        lambda: (box := _active_box(browser)) and box["label"] != first["label"] and box,
        what="the next word",
    )
    assert second["x"] > first["x"], "ArrowRight moves the highlight to the right"
    keys.press(Keys.ARROW_DOWN)
    below = wait_for(
        lambda: (box := _active_box(browser)) and box["y"] > second["y"] and box,
        what="a word on the next line",
    )
    assert below["y"] > second["y"]
    keys.check_focus("result: page image after arrows")
    # The keys the toolbar's tooltips name: P fits the page, W the width.
    keys.press("p")
    wait_for(
        lambda: browser.find_element(By.ID, "fit-page").get_attribute("aria-pressed") == "true",
        what="P to fit the page",
    )
    keys.press("w")
    wait_for(
        lambda: browser.find_element(By.ID, "fit-width").get_attribute("aria-pressed") == "true",
        what="W to fit the width",
    )
    assert browser.execute_script(
        "return document.getElementById('boxes').contains(document.activeElement)"
    ), "the focus stays on the page image"
    _shot(browser, f"{name}-result-word")
    tabs = keys.tab_to("el.id === 'copy-text'", "result: Copy")
    assert tabs <= 8, f"{tabs} Tabs from the page image to Copy"
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    keys.press(Keys.ENTER)
    wait_for(
        lambda: (
            "Copied" in browser.find_element(By.ID, "copy-text").text
            or "opied" in browser.find_element(By.ID, "copy-status").text
        ),
        what="the copy confirmation",
    )
    _shot(browser, f"{name}-result-copied")

    # The viewer's skip link jumps past the page image to the text, Copy next.
    browser.refresh()
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "rect.word"), what="word boxes")
    tabs = keys.tab_to("el.classList.contains('viewer-skip')", "result: skip the image")
    keys.press(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "text-panel"
    assert keys.tab_to("el.id === 'copy-text'", "result: Copy after the skip") == 1

    # "?" lists the shortcuts; Esc closes the list and gives the focus back.
    keys.press("?")
    wait_for(lambda: browser.find_element(By.ID, "shortcuts").is_displayed(), what="the list")
    _shot(browser, f"{name}-shortcuts", full=False)
    keys.press(Keys.ESCAPE)
    wait_for(lambda: not browser.find_element(By.ID, "shortcuts").is_displayed(), what="closed")
    assert browser.switch_to.active_element.get_attribute("id") == "copy-text"

    # "/" finds in the text; on a scrolled page the field is not left hidden under the
    # sticky top bar.
    browser.execute_script("window.scrollTo(0, 400)")
    keys.press("/")
    assert browser.switch_to.active_element.get_attribute("id") == "find-input"
    field_top, bar_bottom = browser.execute_script(
        "return [document.getElementById('find-input').getBoundingClientRect().top,"
        " document.getElementById('topbar').getBoundingClientRect().bottom]"
    )
    assert field_top >= bar_bottom, (field_top, bar_bottom)
    keys.check_focus("result: find in the text")
    keys.press(Keys.TAB)  # out of the field, so that the next letter is a shortcut

    # API keys by their shortcut: a new key is shown once, its Copy button focused.
    keys.press("k")
    wait_for(lambda: "/keys/" in browser.current_url, what="the keys page")
    keys.tab_to("el.id === 'id_name'", "keys: name", limit=20)
    keys.press("walk script", Keys.ENTER)
    wait_for(lambda: browser.find_elements(By.ID, "new-key-value"), what="the new key")
    assert browser.switch_to.active_element.get_attribute("id") == "copy-key"
    keys.check_focus("keys: Copy the new key")

    # History by its shortcut, search with "/", open the job with the keyboard.
    keys.press("h")
    wait_for(lambda: "/history/" in browser.current_url, what="the history page")
    keys.press("/")
    assert browser.switch_to.active_element.get_attribute("id") == "id_q"
    keys.check_focus("history: search field")
    keys.press("invoices", Keys.ENTER)
    wait_for(lambda: "q=invoices" in browser.current_url, what="the search")
    _shot(browser, f"{name}-history-search")
    # The search reloads the page: the skip link (first Tab) jumps past the top bar;
    # then the filters (Chromium's date fields take three Tabs each: month, day, year),
    # the bulk-delete bar and the sortable column heads come before the first row.
    assert keys.tab_to("el.classList.contains('skip-link')", "history: skip link") == 1
    keys.press(Keys.ENTER)
    tabs = keys.tab_to("el.classList.contains('job-link')", "history: the job", limit=60)
    assert tabs <= 25, f"{tabs} Tabs from the skip link to the job found"
    keys.press(Keys.ENTER)
    wait_for(lambda: "/jobs/" in browser.current_url, what="the job page")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "rect.word"), what="word boxes")
    _shot(browser, f"{name}-result-again")

    # Bulk delete by the keyboard: tick the job (Space), back to the bar's button,
    # Enter; the dialog opens on Cancel, Tab to the red button, Enter.
    keys.press("h")
    wait_for(lambda: "/history/" in browser.current_url, what="the history page")
    keys.tab_to(
        "el.type === 'checkbox'"
        " && (el.getAttribute('aria-label') || '').startsWith('Select letter')",
        "history: tick the job",
        limit=60,
    )
    keys.press(Keys.SPACE)
    keys.tab_to("el.id === 'bulk-delete-button'", "history: Delete 1 job", limit=15, back=True)
    keys.press(Keys.ENTER)
    wait_for(
        lambda: browser.find_element(By.ID, "confirm-bulk-delete").is_displayed(), what="dialog"
    )
    assert browser.switch_to.active_element.text.strip() == "Cancel"
    keys.check_focus("history: the dialog's Cancel")
    keys.tab_to("el.id === 'confirm-bulk-button'", "history: confirm", limit=3)
    keys.press(Keys.ENTER)
    wait_for(lambda: "Deleted" in browser.find_element(By.TAG_NAME, "main").text, what="deleted")
    assert "Deleted \u201cletter.png\u201d." in browser.find_element(By.TAG_NAME, "main").text
    assert not browser.find_elements(By.CSS_SELECTOR, "a.job-link"), "no job left in the list"
    print("Tab presses:", keys.counts)
    assert not keys.invisible, f"focus not visible at: {keys.invisible}"


def _menu(browser: Any, link_text: str) -> None:
    """Follow a link of the top bar, opening the phone menu first when it is collapsed."""
    from selenium.webdriver.common.by import By

    button = browser.find_element(By.ID, "menu-button")
    if button.is_displayed() and button.get_attribute("aria-expanded") != "true":
        button.click()
    wait_for(
        lambda: browser.find_element(By.LINK_TEXT, link_text).is_displayed(),
        what=f"the {link_text} link",
    )
    browser.find_element(By.LINK_TEXT, link_text).click()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_mouse_walk_at_phone_width_never_scrolls_sideways(
    browser, live_server, celery_worker, tmp_path, scheme
) -> None:
    from selenium.webdriver.common.by import By

    base = live_server.url
    _window(browser, 390, 844, scheme)
    wide: dict[str, Any] = {}

    def check(page: str) -> None:
        wait_for(
            lambda: browser.execute_script("return document.readyState") == "complete",
            what=page,
        )
        scroll_width, inner, culprits = browser.execute_script(_NO_SIDEWAYS_SCROLL)
        if scroll_width > inner:
            wide[page] = (scroll_width, inner, culprits)
        spilling = browser.execute_script(_SPILLING_BUTTONS)
        if spilling:
            wide[f"{page} (button labels spill over)"] = spilling
        _shot(browser, f"phone-{scheme}-{page}")

    # Sign up with the mouse.
    browser.get(base + "/")
    check("sign-in")
    browser.find_element(By.LINK_TEXT, "Create one").click()
    wait_for(lambda: browser.find_elements(By.ID, "id_password2"), what="the sign-up form")
    check("sign-up")
    browser.find_element(By.ID, "id_username").send_keys(f"phone.{scheme}")
    browser.find_element(By.ID, "id_email").send_keys(f"phone.{scheme}@example.org")
    browser.find_element(By.ID, "id_password1").send_keys(PASSWORD)
    browser.find_element(By.ID, "id_password2").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    wait_for(lambda: browser.find_elements(By.ID, "file-input"), what="the upload page")
    check("upload")

    # Two files at once: one batch.
    first = _page_png(tmp_path, "letter.png")
    second = _page_png(tmp_path, "memo.png", ["Second page of the memo", "signed today"])
    browser.find_element(By.ID, "file-input").send_keys(f"{first}\n{second}")
    wait_for(
        lambda: "2 files ready" in browser.find_element(By.ID, "selection-summary").text,
        what="two files ready",
    )
    button = browser.find_element(By.ID, "submit-files")
    top = browser.execute_script("return arguments[0].getBoundingClientRect().bottom", button)
    assert top <= 844, "Recognise text is on the first screen of a phone"
    button.click()
    wait_for(
        lambda: len(browser.find_elements(By.CSS_SELECTOR, "li.file-row[data-state='done']")) == 2,
        timeout=120,
        what="both files recognised",
    )
    check("upload-done")

    # The result: tap a word box, copy.
    browser.find_element(By.LINK_TEXT, "Open result").click()
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "rect.word"), what="word boxes")
    check("result")
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    copy = browser.find_element(By.ID, "copy-text")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", copy)
    copy.click()
    wait_for(lambda: "Copied" in copy.text, what="Copied")
    check("result-copied")

    # History, its batches tab, the batch.
    _menu(browser, "History")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "tr.job-row"), what="history rows")
    check("history")
    browser.find_element(By.LINK_TEXT, "Batches").click()
    wait_for(lambda: "view=batches" in browser.current_url, what="the batches tab")
    check("batches")
    browser.get(browser.find_element(By.CSS_SELECTOR, "a[href*='/batches/']").get_attribute("href"))
    wait_for(lambda: "/batches/" in browser.current_url, what="the batch page")
    check("batch")

    # API keys: make one.
    _menu(browser, "API keys")
    wait_for(lambda: "/keys/" in browser.current_url, what="the keys page")
    check("keys")
    browser.find_element(By.NAME, "name").send_keys("phone import")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait_for(lambda: browser.find_elements(By.ID, "new-key-value"), what="the new key")
    check("keys-created")

    # Webhooks: add one, open its log.
    _menu(browser, "Webhooks")
    wait_for(lambda: "/webhooks/" in browser.current_url, what="the webhooks page")
    check("webhooks")
    browser.find_element(By.NAME, "url").send_keys("https://example.org/ocr-events")
    browser.find_element(By.CSS_SELECTOR, "form.webhook-form button[type=submit]").click()
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "a.endpoint-url"), what="the endpoint")
    check("webhooks-created")
    browser.find_element(By.CSS_SELECTOR, "a.endpoint-url").click()
    wait_for(lambda: browser.current_url.rstrip("/").count("/") >= 4, what="the webhook log")
    check("webhook-log")

    # A page that does not exist.
    browser.get(f"{base}/jobs/{uuid.uuid4()}/")
    check("404")

    # Sign out, then the pages of a signed-out user.
    button = browser.find_element(By.ID, "menu-button")
    if button.is_displayed():
        button.click()
    wait_for(
        lambda: browser.find_element(
            By.XPATH, "//button[normalize-space()='Sign out']"
        ).is_displayed(),
        what="Sign out",
    )
    browser.find_element(By.XPATH, "//button[normalize-space()='Sign out']").click()
    wait_for(
        lambda: "signed out" in browser.find_element(By.ID, "main").text,
        what="the signed-out confirmation",
    )
    check("signed-out")
    browser.get(base + "/accounts/password_reset/")
    check("password-reset")
    browser.get(base + "/accounts/login/")
    check("sign-in-again")
    assert not wide, f"pages wider than the phone, or buttons too narrow: {wide}"
