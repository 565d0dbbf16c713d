"""The upload page (templates/web/upload.html, static/js/upload.js, static/css/upload.css).

With Django's test client: the engine menu offers only the engines that can run, by
their human names. In headless Chromium: bad files (empty, not an image, too large)
are refused in the browser before anything is sent; each error is said once; failed
and canceled rows can be dismissed; a drop of several files goes as one batch linked
to its page; on a 390x844 phone the drop zone speaks of choosing files and
"Recognise text" is in view without scrolling past the language chips (folded behind
their summary). Screenshots: ``screenshots/15-upload-*.png``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.models import Batch, Job
from tests.factories import PASSWORD, UserFactory
from tests.imaging import render_text
from tests.web.chromium import SCREENSHOTS, requires_chromium, start_chromium, wait_for

UNAVAILABLE_CLOUD = ("clova", "ultraocr", "computervision_vn", "chekin")
OPTION = r'<option value="([^"]*)"[^>]*>(.*?)</option>'
AUTO_TITLE = "Automatic (best engine per page)"


def _options(html: str) -> dict[str, str]:
    """The engine menu as ``{value: shown text}``."""
    select = re.search(r'<select id="engine".*?</select>', html, re.S)
    assert select, "no engine menu"
    return {
        value: re.sub(r"\s+", " ", text).strip()
        for value, text in re.findall(OPTION, select[0], re.S)
    }


@pytest.mark.django_db
def test_the_engine_menu_offers_only_usable_engines_by_their_names(
    client_for, user, client, shipped_defaults
) -> None:
    reported = client.get("/api/engines/").json()
    usable = {e["name"] for e in reported if e["available"]}
    options = _options(client_for(user).get("/").content.decode())
    assert set(options) == usable
    for name in UNAVAILABLE_CLOUD:
        assert name not in options
    assert options["auto"] == "Automatic (best engine per page)"
    assert options["tesseract"] == "Tesseract"
    assert all("not available" not in text and "tesserocr" not in text for text in options.values())
    # The API reports the same human names.
    titles = {e["name"]: e["title"] for e in reported}
    assert titles["auto"] == AUTO_TITLE and titles["tesseract"] == "Tesseract"


@pytest.mark.django_db
def test_an_unusable_default_engine_gives_way_to_the_first_usable_one(
    client_for, user, settings
) -> None:
    settings.OCR_DEFAULT_ENGINE = "clova"  # no credentials in the tests: not available
    html = client_for(user).get("/").content.decode()
    first = next(iter(_options(html)))
    assert f'<option value="{first}" selected>' in html
    assert 'value="clova"' not in html
    # The language chips are those of the engine chosen.
    assert 'name="languages" value="eng"' in html


@pytest.mark.django_db
def test_the_languages_fold_behind_a_summary(client_for, user, shipped_defaults) -> None:
    html = client_for(user).get("/").content.decode()
    box = re.search(r'<details [^>]*id="languages-box">(.*?)</details>', html, re.S)
    assert box and "<summary>" in box[1] and 'id="languages-chosen"' in box[1]
    assert 'name="languages" value="auto" checked' in box[1]
    assert "Auto-detect" in re.search(r"<summary>(.*?)</summary>", box[1], re.S)[1]
    assert 'href="/static/css/upload.css"' in html


# ---------------------------------------------------------------------------
# In headless Chromium.


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


def _sign_in(browser: Any, base: str, username: str) -> None:
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(base + "/accounts/login/")
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form [type=submit]").click()
    wait_for(lambda: browser.find_elements(By.ID, "file-input"), what="the upload page")


def _row(name: str) -> str:
    return f"//li[contains(@class,'file-row')][.//span[@class='file-name'][text()='{name}']]"


def _shot(browser: Any, name: str, *, full: bool = False) -> Path:
    """Save ``screenshots/15-upload-<name>.png``; ``full``: the whole page's height."""
    path = SCREENSHOTS / f"15-upload-{name}.png"
    size = browser.get_window_size()
    if full:
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(size["width"], min(int(height) + 140, 4000))
    browser.save_screenshot(str(path))
    if full:
        browser.set_window_size(size["width"], size["height"])
    return path


def _show(browser: Any, element: Any) -> None:
    """Scroll ``element`` to the middle of the window; let the progress bars settle."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    time.sleep(0.5)


def _no_horizontal_scroll(browser: Any) -> None:
    widths = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_bad_files_are_refused_in_the_browser_and_ended_rows_dismissed(
    browser, live_server, settings, tmp_path
) -> None:
    from selenium.webdriver.common.by import By

    settings.OCR_QUEUE = "nobody-listens-here"  # jobs stay pending: the test plays the worker
    user = UserFactory(username="desk.clerk")
    _sign_in(browser, live_server.url, user.username)
    browser.set_window_size(1366, 900)

    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    notes = tmp_path / "notes.txt"
    notes.write_text("just some words, no image")
    huge = tmp_path / "huge-scan.png"
    with huge.open("wb") as out:
        out.write(render_text().png())
        out.truncate(settings.OCR_MAX_UPLOAD_BYTES + 1024 * 1024)
    good = tmp_path / "letter.png"
    good.write_bytes(render_text().png())
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n but then nothing of an image")
    chosen = [empty, notes, huge, good, broken]
    browser.find_element(By.ID, "file-input").send_keys("\n".join(map(str, chosen)))

    expected = {
        "empty.png": ("empty_file", "This file is empty (0 bytes). Choose another copy."),
        "notes.txt": ("unsupported_format", "This file type is not supported."),
        "huge-scan.png": ("file_too_large", "the limit is 20.0 MB per file"),
    }
    for name, (code, words) in expected.items():
        row = wait_for(
            lambda name=name: browser.find_element(By.XPATH, _row(name) + "[@data-state='failed']"),
            what=f"{name} to be refused",
        )
        assert row.get_attribute("data-error") == code
        assert row.find_element(By.CLASS_NAME, "file-status").text == "Not uploaded"
        error = row.find_element(By.CLASS_NAME, "file-error").text
        assert words in error, error
        # Said once: one sentence of what is wrong, one of what to do.
        assert error.count("not supported") <= 1 and error.count("limit") <= 1, error
        assert len(re.findall(r"[.!?](\s|$)", error)) <= 2, error
        assert row.find_element(By.XPATH, ".//button[text()='Remove']")
    wait_for(
        lambda: "2 files ready" in browser.find_element(By.ID, "selection-summary").text,
        what="the two acceptable files to be counted",
    )
    assert not Job.objects.exists() and not Batch.objects.exists()  # nothing was sent
    _shot(browser, "refused", full=True)

    # Remove the refused files (the focus moves to the next row's button), and the
    # good one for now: the broken PNG goes alone and the server refuses it.
    for name in ("empty.png", "notes.txt", "huge-scan.png", "letter.png"):
        browser.find_element(By.XPATH, _row(name) + "//button[text()='Remove']").click()
        assert not browser.find_elements(By.XPATH, _row(name))
        focused = browser.switch_to.active_element
        assert focused.tag_name in ("button", "a", "input"), focused.tag_name
    browser.find_element(By.ID, "submit-files").click()
    refused = wait_for(
        lambda: browser.find_element(By.XPATH, _row("broken.png") + "[@data-state='failed']"),
        what="the server to refuse the broken PNG",
    )
    assert refused.find_element(By.CLASS_NAME, "file-status").text == "Not accepted"
    error = refused.find_element(By.CLASS_NAME, "file-error").text
    assert error == (
        "The file could not be read as an image or PDF. It may be empty or damaged;"
        " upload another copy."
    ), error
    _show(browser, refused)
    _shot(browser, "not-accepted")
    refused.find_element(By.XPATH, ".//button[text()='Dismiss']").click()
    assert not browser.find_elements(By.XPATH, _row("broken.png"))

    # Two good files sent alone (one at a time): one is canceled, the other fails
    # in the "worker"; both can be dismissed, and stay in History.
    second = tmp_path / "memo.png"
    second.write_bytes(render_text(["A short memo", "about nothing"]).png())
    for path in (good, second):
        browser.find_element(By.ID, "file-input").send_keys(str(path))
        wait_for(
            lambda: "1 file ready" in browser.find_element(By.ID, "selection-summary").text,
            what="the file to be checked",
        )
        browser.find_element(By.ID, "submit-files").click()
        wait_for(
            lambda path=path: browser.find_element(
                By.XPATH, _row(path.name) + "[@data-state='pending']"
            ),
            what=f"{path.name} to be queued",
        )
    letter = browser.find_element(By.XPATH, _row("letter.png"))
    letter.find_element(By.XPATH, ".//button[text()='Cancel']").click()
    wait_for(lambda: letter.get_attribute("data-state") == "canceled", what="the cancel")
    memo_job = Job.objects.get(filename="memo.png")
    Job.objects.filter(pk=memo_job.pk).update(
        status="failed",
        error_code="invalid_image",
        error_message="Page 1: The image is truncated or corrupt (OSError)",
        page_count=1,
    )
    memo = wait_for(
        lambda: browser.find_element(By.XPATH, _row("memo.png") + "[@data-state='failed']"),
        what="the failure to show",
    )
    error = memo.find_element(By.CLASS_NAME, "file-error").text
    assert "Page 1: The image is truncated or corrupt." in error
    assert "OSError" not in error and error.count("could not be read") == 1
    memo.find_element(By.LINK_TEXT, "Details")
    _show(browser, memo)
    _shot(browser, "failed-and-canceled")
    for row in (memo, letter):
        row.find_element(By.XPATH, ".//button[text()='Dismiss']").click()
    assert not browser.find_elements(By.CSS_SELECTOR, "li.file-row")
    assert Job.objects.filter(owner=user).count() == 2  # dismissed, not deleted


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_a_drop_of_several_files_is_one_batch_linked_to_its_page(
    browser, live_server, celery_worker
) -> None:
    from selenium.webdriver.common.by import By

    user = UserFactory(username="batch.dropper")
    _sign_in(browser, live_server.url, user.username)
    browser.set_window_size(1366, 900)
    # Three PNGs drawn in the page, dropped on the drop zone as a file manager would.
    browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const lines = ["Invoice number one", "Second delivery note", "Third receipt"];
        Promise.all(lines.map((line, i) => new Promise((resolve) => {
          const canvas = document.createElement("canvas");
          canvas.width = 900; canvas.height = 200;
          const ctx = canvas.getContext("2d");
          ctx.fillStyle = "white"; ctx.fillRect(0, 0, 900, 200);
          ctx.fillStyle = "black"; ctx.font = "48px sans-serif";
          ctx.fillText(line, 40, 110);
          canvas.toBlob((blob) => resolve(new File([blob], "drop-" + (i + 1) + ".png",
            {type: "image/png"})), "image/png");
        }))).then((files) => {
          const data = new DataTransfer();
          files.forEach((f) => data.items.add(f));
          const zone = document.getElementById("dropzone");
          for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true,
              cancelable: true}));
          }
          done();
        });
        """
    )
    wait_for(
        lambda: "3 files ready" in browser.find_element(By.ID, "selection-summary").text,
        what="the dropped files",
    )
    assert "one batch" in browser.find_element(By.ID, "selection-summary").text
    assert browser.find_element(By.ID, "submit-files").text == "Recognise text in 3 files"
    browser.find_element(By.ID, "submit-files").click()
    group = wait_for(
        lambda: browser.find_element(By.CSS_SELECTOR, "li.batch-group[data-batch-id]"),
        what="the batch in the queue",
    )
    batch = Batch.objects.get(owner=user)
    assert batch.job_count == 3
    link = group.find_element(By.LINK_TEXT, "Open batch")
    assert link.get_attribute("href").endswith(f"/batches/{batch.id}/")
    assert len(group.find_elements(By.CSS_SELECTOR, "li.file-row")) == 3
    wait_for(
        lambda: group.get_attribute("data-state") == "done",
        timeout=120,
        what="the batch to end",
    )
    _show(browser, group)
    _shot(browser, "batch-drop")
    link.click()
    wait_for(lambda: f"/batches/{batch.id}/" in browser.current_url, what="the batch page")
    assert browser.find_elements(By.CSS_SELECTOR, "tr.batch-job-row")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_on_a_phone_the_button_is_in_view_and_the_page_speaks_of_choosing(
    browser, live_server, settings, shipped_defaults, tmp_path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    settings.OCR_QUEUE = "nobody-listens-here"
    user = UserFactory(username="phone.user")
    _sign_in(browser, live_server.url, user.username)
    page = tmp_path / "receipt.png"
    page.write_bytes(render_text().png())

    # A wide screen: "Drop files here", the chips open, the engine's name whole.
    browser.set_window_size(1366, 900)
    browser.get(live_server.url + "/")
    zone = browser.find_element(By.ID, "dropzone")
    assert "Drop files here" in zone.text and "Choose files or take a photo" not in zone.text
    details = browser.find_element(By.ID, "languages-box")
    assert details.get_attribute("open") is not None
    assert browser.find_element(By.CSS_SELECTOR, "#languages .chip").is_displayed()
    select = browser.find_element(By.ID, "engine")
    assert select.find_element(By.CSS_SELECTOR, "option:checked").text == (
        "Automatic (best engine per page)"
    )
    room = browser.execute_script(
        """
        const s = arguments[0], css = getComputedStyle(s);
        const ctx = document.createElement("canvas").getContext("2d");
        ctx.font = css.fontWeight + " " + css.fontSize + " " + css.fontFamily;
        const text = ctx.measureText(s.options[s.selectedIndex].text).width;
        const inner = s.clientWidth - parseFloat(css.paddingLeft) - parseFloat(css.paddingRight);
        return [text, inner - 20];  // about 20 px for the arrow
        """,
        select,
    )
    assert room[0] <= room[1], f"the engine name is cut: {room}"
    _no_horizontal_scroll(browser)
    _shot(browser, "desktop")

    # A phone: "Choose files", the languages folded, the button in view.
    browser.set_window_size(390, 844)
    browser.get(live_server.url + "/")
    zone = browser.find_element(By.ID, "dropzone")
    assert "Choose files or take a photo" in zone.text and "Drop files here" not in zone.text
    details = browser.find_element(By.ID, "languages-box")
    assert details.get_attribute("open") is None
    assert not browser.find_element(By.CSS_SELECTOR, "#languages .chip").is_displayed()
    summary = details.find_element(By.TAG_NAME, "summary")
    assert summary.text.split() == ["Languages", "Auto-detect", "Change"], summary.text
    chosen = browser.find_element(By.ID, "languages-chosen")
    assert browser.execute_script(
        "return arguments[0].scrollWidth <= arguments[0].clientWidth", chosen
    ), "the chosen languages are cut"
    browser.find_element(By.ID, "file-input").send_keys(str(page))
    wait_for(
        lambda: "1 file ready" in browser.find_element(By.ID, "selection-summary").text,
        what="the file to be ready",
    )
    browser.execute_script("window.scrollTo(0, 0)")
    button = browser.find_element(By.ID, "submit-files")
    bottom, viewport = browser.execute_script(
        "return [arguments[0].getBoundingClientRect().bottom, window.innerHeight]", button
    )
    _shot(browser, "phone")
    assert bottom <= viewport, f"Recognise text ends at {bottom} px, the screen at {viewport}"
    _no_horizontal_scroll(browser)

    # With the keyboard: the summary opens the chips; choosing French says so.
    summary.send_keys(Keys.ENTER)
    wait_for(lambda: details.get_attribute("open") is not None, what="the languages to open")
    french = browser.find_element(By.XPATH, "//label[@class='chip'][span[text()='French']]")
    assert french.is_displayed()
    french.click()
    summary.send_keys(Keys.ENTER)
    wait_for(lambda: details.get_attribute("open") is None, what="the languages to close")
    assert summary.text.startswith("Languages") and "French" in summary.text
    assert "Auto-detect" not in summary.text
    _no_horizontal_scroll(browser)
    browser.find_element(By.ID, "submit-files").click()
    wait_for(
        lambda: browser.find_element(By.XPATH, _row("receipt.png") + "[@data-state='pending']"),
        what="the upload",
    )
    assert Job.objects.get(owner=user).languages == "fra"
    _shot(browser, "phone-sent", full=True)
    # Dark mode (the colours come from app.css's variables only).
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    browser.execute_script("window.scrollTo(0, 0)")
    _shot(browser, "phone-dark")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    browser.set_window_size(1366, 900)
