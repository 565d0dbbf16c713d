"""End to end in real headless Chromium: a live server, the queue, a real worker.

Debian's ``chromium`` and ``chromium-driver`` (installed by ``make test``) are
driven with Selenium; no browser is ever downloaded. Screenshots of every page
go to ``screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_for_job
from tests.factories import PASSWORD, UserFactory
from tests.imaging import render_text
from tests.web.chromium import SCREENSHOTS, requires_chromium, start_chromium, wait_for

MIN_WORD_BOXES = 25  # the rendered paragraph has 32 words

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    requires_chromium,
]


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, downloads: Path) -> Iterator[object]:
    """One headless Chromium for the module, with a fresh profile and a download folder."""
    driver = start_chromium(
        tmp_path_factory.mktemp("chromium-profile"),
        prefs={
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    yield driver
    driver.quit()


@pytest.fixture
def shot(browser) -> Callable[[str], Path]:
    """Save a full-page screenshot as ``screenshots/<name>.png``."""

    def save(name: str) -> Path:
        width = browser.get_window_size()["width"]
        height = browser.execute_script(
            "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"
        )
        browser.set_window_size(width, max(600, min(int(height) + 20, 4000)))
        path = SCREENSHOTS / f"{name}.png"
        browser.save_screenshot(str(path))
        return path

    return save


_wait = wait_for


def _wait_image(browser, selector: str) -> None:
    """Wait until the image matching ``selector`` has loaded (it has pixels)."""
    script = (
        "const i = document.querySelector(arguments[0]); return i && i.complete && i.naturalWidth"
    )
    _wait(lambda: browser.execute_script(script, selector), what=f"image {selector}")


def _sign_in(browser, base: str, username: str, path: str = "/accounts/login/") -> None:
    from selenium.webdriver.common.by import By

    browser.get(base + path)
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form [type=submit], form input[type=submit]").click()


def test_upload_watch_read_copy_download_find_and_delete(
    browser, live_server, celery_worker, shot, downloads, tmp_path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    base = live_server.url
    user = UserFactory(username="office.user")
    browser.set_window_size(1280, 900)

    # Sign in.
    browser.get(base + "/")
    assert "/accounts/login/" in browser.current_url
    shot("01-login")
    browser.find_element(By.ID, "id_username").send_keys(user.username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    _wait(lambda: browser.find_elements(By.ID, "file-input"), what="the upload page")

    # Pick two files with the file input: a real page and a file that is no image.
    page = tmp_path / "letter.png"
    page.write_bytes(render_text().png())
    notes = tmp_path / "notes.txt"
    notes.write_text("just some text, not an image")
    shot("02-upload-empty")
    browser.find_element(By.ID, "file-input").send_keys(f"{page}\n{notes}")
    # The text file is refused in the browser, before anything is sent.
    _wait(
        lambda: "1 file ready" in browser.find_element(By.ID, "selection-summary").text,
        what="the text file to be left out",
    )
    browser.find_element(By.ID, "submit-files").click()

    rows = {
        name: f"//li[contains(@class,'file-row')][.//span[@class='file-name'][text()='{name}']]"
        for name in ("letter.png", "notes.txt")
    }
    failed = _wait(
        lambda: browser.find_element(By.XPATH, rows["notes.txt"] + "[@data-state='failed']"),
        what="the text file to be refused",
    )
    assert (
        "This file type is not supported." in failed.find_element(By.CLASS_NAME, "file-error").text
    )
    done = _wait(
        lambda: browser.find_element(By.XPATH, rows["letter.png"] + "[@data-state='done']"),
        timeout=60,
        what="the page to be recognised",
    )
    assert done.find_element(By.CLASS_NAME, "file-status").text.startswith("Done")
    assert "recognition" in done.find_element(By.CLASS_NAME, "file-preview").text
    shot("03-upload-done")

    # The result page: image, text, word boxes with tooltips.
    done.find_element(By.LINK_TEXT, "Open result").click()
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "rect.word"), what="word boxes")
    _wait_image(browser, "#page-image")
    boxes = browser.find_elements(By.CSS_SELECTOR, "rect.word")
    assert len(boxes) >= MIN_WORD_BOXES
    text = browser.find_element(By.ID, "page-text").get_attribute("value")
    assert "Optical character recognition" in text
    ActionChains(browser).move_to_element(boxes[0]).perform()
    tip = _wait(
        lambda: (
            browser.find_element(By.ID, "word-tip").is_displayed()
            and browser.find_element(By.ID, "word-tip")
        ),
        what="the word tooltip",
    )
    assert "%" in tip.text and tip.text.split(" ")[0] in text
    shot("04-job")

    # Copy: the clipboard holds the text (or, where the browser refuses, "Copied" shows).
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    browser.find_element(By.ID, "copy-text").click()
    _wait(lambda: browser.find_element(By.ID, "copy-text").text.strip() == "Copied", what="Copied")
    clipboard = browser.execute_async_script(
        "const done = arguments[0];navigator.clipboard.readText().then(done, () => done(null));"
    )
    if clipboard is not None:
        assert clipboard == text

    # Download txt.
    browser.find_element(By.CSS_SELECTOR, "a.download[data-format=txt]").click()
    saved = _wait(
        lambda: [p for p in downloads.glob("*.txt") if p.stat().st_size], what="the txt download"
    )
    assert saved[0].name == "letter.txt"
    assert "Optical character recognition" in saved[0].read_text()

    # History: find it by a word of its text, then delete it.
    browser.get(base + "/history/")
    search = browser.find_element(By.ID, "id_q")
    search.send_keys("invoices")
    search.submit()
    _wait(lambda: "q=invoices" in browser.current_url, what="the search")
    rows_found = browser.find_elements(By.CSS_SELECTOR, "tr.job-row")
    assert len(rows_found) == 1 and "letter.png" in rows_found[0].text
    _wait_image(browser, "img.thumb")
    shot("05-history")
    rows_found[0].find_element(By.CSS_SELECTOR, ".js-confirm-delete button").click()
    dialog = _wait(
        lambda: (
            browser.find_element(By.ID, "confirm-delete").is_displayed()
            and browser.find_element(By.ID, "confirm-delete")
        ),
        what="the confirmation dialog",
    )
    assert "letter.png" in dialog.text
    shot("06-history-confirm-delete")
    dialog.find_element(By.ID, "confirm-delete-button").click()
    flash = _wait(lambda: browser.find_element(By.CSS_SELECTOR, ".flash"), what="the flash")
    assert "Deleted" in flash.text and "letter.png" in flash.text
    assert not browser.find_elements(By.CSS_SELECTOR, "tr.job-row")

    # The upload page on a phone-sized screen.
    browser.set_window_size(390, 844)
    browser.get(base + "/")
    browser.find_element(By.ID, "file-input").send_keys(str(page))
    shot("07-upload-phone")
    browser.set_window_size(1280, 900)


def test_admin_filters_opens_and_reruns_a_job(
    browser, live_server, celery_worker, shot, tmp_path
) -> None:
    from rest_framework.test import APIClient
    from selenium.webdriver.common.by import By

    base = live_server.url
    owner = UserFactory(username="clerk")
    admin = UserFactory(username="boss", is_staff=True, is_superuser=True)
    api = APIClient()
    api.force_authenticate(owner)
    ids = []
    for name, lines in (
        ("receipt.png", None),
        ("memo.png", ["Meeting moved to Thursday", "bring the signed forms"]),
    ):
        r = api.post("/api/ocr/", {"image": _upload(render_text(lines).png(), name)})
        assert r.status_code == 202, r.content
        ids.append(r.json()["id"])
    bad = api.post("/api/ocr/", {"image": _upload(b"%PDF-1.4 broken", "broken.pdf")})
    assert bad.status_code >= 400
    for job_id in ids:
        assert wait_for_job(job_id).status == "done"

    browser.delete_all_cookies()
    browser.set_window_size(1280, 900)
    _sign_in(browser, base, admin.username, "/admin/login/?next=/admin/ocr/job/")
    _wait(lambda: "/admin/ocr/job/" in browser.current_url, what="the job list")
    browser.find_element(By.LINK_TEXT, "Done").click()
    _wait(lambda: "status__exact=done" in browser.current_url, what="the status filter")
    names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#result_list tbody a")]
    assert "receipt.png" in names and "memo.png" in names
    shot("08-admin-jobs")

    browser.find_element(By.LINK_TEXT, "memo.png").click()
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, ".ocr-word"), what="the boxes")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".ocr-word")) >= 6
    _wait_image(browser, ".ocr-canvas img")
    shot("09-admin-job")

    browser.find_element(By.ID, "rerun-job").click()
    message = _wait(lambda: browser.find_element(By.CSS_SELECTOR, ".messagelist"), what="message")
    assert "queued again" in message.text
    job = wait_for_job(ids[1], timeout=60)
    assert job.status == "done" and "Thursday" in job.text
    browser.refresh()
    assert "Thursday" in browser.find_element(By.CSS_SELECTOR, ".field-text").text

    # Users: a count of jobs per user and a link to them.
    browser.get(base + "/admin/auth/user/")
    link = browser.find_element(By.LINK_TEXT, "2 jobs")
    link.click()
    _wait(lambda: "owner__id__exact" in browser.current_url, what="the owner's jobs")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")) == 2
    shot("10-admin-users-jobs")


def _upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_register_page(browser, live_server, shot) -> None:
    from selenium.webdriver.common.by import By

    base = live_server.url
    browser.delete_all_cookies()
    browser.set_window_size(1280, 900)
    browser.get(base + "/accounts/register/")
    browser.find_element(By.ID, "id_username").send_keys("newcomer")
    browser.find_element(By.ID, "id_email").send_keys("newcomer@example.com")
    browser.find_element(By.ID, "id_password1").send_keys("short")
    browser.find_element(By.ID, "id_password2").send_keys("short")
    browser.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    _wait(lambda: browser.find_elements(By.CLASS_NAME, "field-error"), what="errors")
    shot("11-register-errors")
    # The form keeps the name and e-mail, never the passwords.
    assert browser.find_element(By.ID, "id_username").get_attribute("value") == "newcomer"
    browser.find_element(By.ID, "id_password1").send_keys("short-but-now-much-longer")
    browser.find_element(By.ID, "id_password2").send_keys("short-but-now-much-longer")
    browser.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    _wait(lambda: browser.find_elements(By.ID, "file-input"), what="the upload page")
    assert "newcomer" in browser.find_element(By.CLASS_NAME, "who").text


RECEIPT = [
    "CORNER BAKERY",
    "12 Market Street",
    "Sourdough loaf        4.20",
    "Butter croissant x2   3.60",
    "Flat white            3.10",
    "SUBTOTAL             10.90",
    "TOTAL EUR            10.90",
    "Card payment approved",
    "Thank you for visiting",
]


def _receipt_photo() -> bytes:
    """A receipt rendered in a monospace font, photographed at an angle on a table in
    uneven light, as a phone JPEG (bench/photos.py's camera simulations)."""
    import sys

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    import photos as sim

    receipt = render_text(
        RECEIPT, size=34, font=Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
    ).image
    frame = sim.FRAME
    sim.FRAME = (1200, 1600)
    try:
        rng = np.random.default_rng(11)
        return sim.jpeg(sim.camera(sim.perspective(receipt, rng), rng))
    finally:
        sim.FRAME = frame


def test_a_phone_photo_of_a_receipt_with_the_default_choices(
    browser, live_server, celery_worker, shot, tmp_path, shipped_defaults
) -> None:
    """A new user's first upload: the defaults (engine and languages detected) on a
    phone photo of a receipt; the language chips keep "Detect automatically" alone."""
    from selenium.webdriver.common.by import By

    base = live_server.url
    user = UserFactory(username="receipt.user")
    browser.set_window_size(1280, 900)
    _sign_in(browser, base, user.username)
    _wait(lambda: browser.find_elements(By.ID, "file-input"), what="the upload page")

    engine = browser.find_element(By.ID, "engine")
    assert engine.get_attribute("value") == "auto"

    def checked() -> list[str]:
        boxes = browser.find_elements(By.CSS_SELECTOR, "#languages input:checked")
        return [b.get_attribute("value") for b in boxes]

    assert checked() == ["auto"]
    browser.find_element(By.CSS_SELECTOR, '#languages input[value="deu"] + span').click()
    assert checked() == ["deu"]  # a language replaces detection
    browser.find_element(By.CSS_SELECTOR, '#languages input[value="deu"] + span').click()
    assert checked() == ["auto"]  # none left: detection comes back
    shot("20-upload-defaults")

    photo = tmp_path / "receipt.jpg"
    photo.write_bytes(_receipt_photo())
    browser.find_element(By.ID, "file-input").send_keys(str(photo))
    browser.find_element(By.ID, "submit-files").click()
    row = "//li[contains(@class,'file-row')][.//span[@class='file-name'][text()='receipt.jpg']]"
    done = _wait(
        lambda: browser.find_element(By.XPATH, row + "[@data-state='done']"),
        timeout=120,
        what="the receipt to be recognised",
    )
    done.find_element(By.LINK_TEXT, "Open result").click()
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "rect.word"), what="word boxes")
    _wait_image(browser, "#page-image")
    text = browser.find_element(By.ID, "page-text").get_attribute("value")
    # Every item and price (Tesseract alone read "4." for "4.20" and "Bye" for "3.60"
    # on this photo: auto keeps PP-OCR's reading; docs/engines-auto.md).
    for word in ("CORNER", "BAKERY", "Sourdough", "croissant", "4.20", "3.60", "3.10"):
        assert word in text, text
    assert text.count("10.90") == 2 and "TOTAL EUR" in text and "Thank you" in text, text
    shot("21-receipt-result")
