"""The job result page as a document viewer (issue 15: items 1, 3, 4, 5, 11, 12, 13, 14, 16).

With Django's test client for what the server renders (failed pages, the MRZ table,
the export name, "Run again" with preprocessing) and in headless Chromium against a
live server for what the scripts do: zoom, fit, rotate, pan, the text and the word
boxes linked both ways, one tab stop for the image with arrow keys, search across
pages, and pages appearing while a job runs. Screenshots go to
``screenshots/15-job-*.png`` (1366x900 and 390x844).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from app.models import Job, JobStatus, Page
from tests.imaging import render_text
from tests.web.chromium import SCREENSHOTS, requires_chromium, start_chromium, wait_for
from tests.web.conftest import _page_result

PAGES = [
    ["Quarterly invoice total", "paid in full by the customer"],
    ["Second page of the report", "the invoice number is here"],
    ["Third page closes the report"],
]


def _tiff(pages: list[list[str]]) -> bytes:
    """A multi-page TIFF of ``pages`` drawn by :func:`render_text` (what the rows describe)."""
    frames = [render_text(lines).image for lines in pages]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


def _add_page(job: Job, number: int, lines: list[str], *, extra: dict | None = None) -> Page:
    result, width, height, _ = _page_result(number, lines)
    result.update(extra or {})
    return Page.objects.create(
        job=job,
        number=number,
        width=width,
        height=height,
        dpi=300,
        confidence=80.0,
        text=result["text"],
        result=result,
        duration=0.5,
    )


@pytest.fixture
def make_doc(db) -> Callable[..., Job]:
    """A multi-page TIFF job with pages ``done`` read and pages ``failed`` (number -> message)."""

    def build(
        owner: Any,
        *,
        pages: list[list[str]] = PAGES,
        done: tuple[int, ...] | None = None,
        failed: dict[int, str] | None = None,
        status: str = JobStatus.DONE,
        filename: str = "report.tiff",
        error_code: str = "",
        error_message: str = "",
        extra: dict[int, dict] | None = None,
    ) -> Job:
        data = _tiff(pages)
        done = tuple(range(1, len(pages) + 1)) if done is None else done
        job = Job(
            owner=owner,
            filename=filename,
            content_type="image/tiff",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            engine="tesseract",
            languages="eng",
            status=status,
            page_count=len(pages),
            pages_done=len(done),
            result={"engine": "tesseract", "engine_version": "5", "languages": ["eng"]}
            if status == JobStatus.DONE
            else None,
            error_code=error_code,
            error_message=error_message,
        )
        job.file.save(str(job.id), ContentFile(data), save=False)
        job.save()
        for n in done:
            _add_page(job, n, pages[n - 1], extra=(extra or {}).get(n))
        for n, message in (failed or {}).items():
            Page.objects.create(
                job=job,
                number=n,
                status=JobStatus.FAILED,
                error_code=error_code or "invalid_image",
                error_message=message,
            )
        if status == JobStatus.DONE:
            job.text = "\f".join(p.text for p in job.pages.order_by("number"))
            job.save(update_fields=["text"])
        return job

    return build


MRZ = {
    "mrz_detected": True,
    "type_doc": "P",
    "format": "TD3",
    "country": "UTO",
    "surname": "ERIKSSON",
    "names": "ANNA MARIA",
    "number": "L898902C3",
    "nationality": "UTO",
    "date_of_birth": "1974-08-12",
    "expiration_date": "2012-04-15",
    "sex": "F",
    "optional_data": "ZE184226B",
    "raw": [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ],
    "valid_number": True,
    "valid_date_of_birth": True,
    "valid_expiration_date": False,
    "valid_composite": True,
    "valid_personal_number": True,
    "valid_score": 80,
    "bbox": [10, 20, 300, 60],
}


# ---- what the server renders ----------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_page_is_named_in_words_and_the_read_pages_stay_viewable(
    client_for, user, make_doc
) -> None:
    job = make_doc(
        user,
        done=(1, 3),
        failed={2: "The image is truncated or corrupt (OSError)."},
        status=JobStatus.FAILED,
        error_code="invalid_image",
        error_message="Page 2: The image is truncated or corrupt (OSError).",
    )
    html = client_for(user).get(f"/jobs/{job.id}/").content.decode()
    assert "Recognition failed on page 2" in html
    assert "The image is truncated or corrupt." in html
    assert "OSError" not in html and "Error)" not in html
    assert "Pages 1 and 3 were read and are shown below." in html
    assert 'href="#rerun-title"' in html and "Upload the document again" in html
    # Page 1 is shown (its image, words and text), page 2 is a tile that says why.
    assert f'src="/api/ocr/{job.id}/pages/1/image/"' in html
    assert "Quarterly invoice total" in html
    assert "0 × 0" not in html and "Size 0" not in html
    strip = re.search(r'<nav class="thumbs".*?</nav>', html, re.S)[0]
    assert "could not be read" in strip and 'href="?page=3"' in strip
    # Asking for the failed page shows a page that was read instead.
    html2 = client_for(user).get(f"/jobs/{job.id}/?page=2").content.decode()
    assert f'/api/ocr/{job.id}/pages/2/image/"' not in html2


@pytest.mark.django_db
def test_a_job_failed_on_its_only_page_shows_no_empty_viewer(client_for, user, make_job) -> None:
    job = make_job(
        user,
        status=JobStatus.FAILED,
        error_code="internal_error",
        error_message="Unexpected error while processing: KeyError.",
    )
    Page.objects.create(job=job, number=1, status=JobStatus.FAILED, error_code="internal_error")
    html = client_for(user).get(f"/jobs/{job.id}/").content.decode()
    assert "Recognition failed" in html and "What to do" in html
    assert "KeyError" not in html
    for empty in ('id="page-image"', 'id="copy-text"', "<textarea", "0 words", "Size"):
        assert empty not in html, empty


@pytest.mark.django_db
def test_mrz_fields_are_a_table_with_check_digit_validity(client_for, user, make_doc) -> None:
    job = make_doc(user, pages=[["P<UTOERIKSSON"]], extra={1: {"mrz": MRZ}})
    Job.objects.filter(pk=job.pk).update(engine="mrz")
    html = client_for(user).get(f"/jobs/{job.id}/").content.decode()
    table = re.search(r'<table class="kv" id="mrz-table">.*?</table>', html, re.S)[0]
    rows = {
        m[0]: (m[1], m[2])
        for m in re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td>', table)
    }
    assert rows["Surname"][0] == "ERIKSSON" and rows["Given names"][0] == "ANNA MARIA"
    assert rows["Document number"] == ("L898902C3", '<span class="check ok">valid</span>')
    assert rows["Expiration date"] == ("2012-04-15", '<span class="check bad">invalid</span>')
    assert rows["Check digits valid"][0] == "80%"
    assert "L898902C36UTO7408122F1204159ZE184226B" in html
    assert '<rect class="mrz-zone" x="10" y="20" width="290" height="40"' in html


@pytest.mark.django_db
def test_provider_fields_are_a_table_with_confidence(client_for, user, make_doc) -> None:
    fields = {"nome": {"value": "Maria Silva", "confidence": 97.4}, "cpf": "123.456.789-09"}
    job = make_doc(user, pages=[["nome: Maria Silva"]], extra={1: {"fields": fields}})
    html = client_for(user).get(f"/jobs/{job.id}/").content.decode()
    table = re.search(r'<table class="kv" id="fields-table">.*?</table>', html, re.S)[0]
    assert '<th scope="row">Nome</th><td>Maria Silva</td><td>97%</td>' in table
    assert '<th scope="row">Cpf</th><td>123.456.789-09</td><td>–</td>' in table


@pytest.mark.django_db
def test_the_searchable_pdf_of_x_pdf_is_named_x_ocr_pdf(client_for, user, make_job) -> None:
    job = make_job(user, filename="scan.pdf")
    client = client_for(user)
    pdf = client.get(f"/api/ocr/{job.id}/export/?format=pdf")
    assert pdf.status_code == 200
    assert 'filename="scan.ocr.pdf"' in pdf["Content-Disposition"]
    txt = client.get(f"/api/ocr/{job.id}/export/?format=txt")
    assert 'filename="scan.txt"' in txt["Content-Disposition"]
    png = make_job(user, filename="photo.png")
    assert (
        'filename="photo.pdf"'
        in (client.get(f"/api/ocr/{png.id}/export/?format=pdf")["Content-Disposition"])
    )


@pytest.mark.django_db
def test_run_again_takes_preprocessing_options(client_for, user, make_job) -> None:
    job = make_job(user)
    client = client_for(user)
    html = client.get(f"/jobs/{job.id}/").content.decode()
    for field in ('name="rotate"', 'name="deskew"', 'name="clean"', 'name="engine"'):
        assert field in html
    response = client.post(
        f"/jobs/{job.id}/rerun/",
        {"engine": "tesseract", "languages": ["eng"], "rotate": "off", "deskew": "true"},
        follow=True,
    )
    assert "is running again" in response.content.decode()
    job.refresh_from_db()
    assert job.options.get("rotate") == "off" and job.options.get("deskew") is True
    response = client.post(f"/jobs/{job.id}/rerun/", {"clean": "maybe"}, follow=True)
    assert "Not run again" in response.content.decode()


# ---- in the browser --------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    driver = start_chromium(tmp_path_factory.mktemp("viewer-profile"))
    yield driver
    driver.quit()


def _open(browser: Any, live_server: Any, user: Any, path: str) -> None:
    """Sign ``user`` in (session cookie) and open ``path``; wait for the viewer's script."""
    client = Client()
    client.force_login(user)
    browser.get(live_server.url + "/static/img/logo.svg")
    browser.delete_all_cookies()
    browser.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value})
    browser.get(live_server.url + path)


def _image_loaded(browser: Any) -> None:
    wait_for(
        lambda: browser.execute_script(
            "const i = document.getElementById('page-image');"
            "return i && i.complete && i.naturalWidth"
        ),
        what="the page image",
    )


def _show(browser: Any, live_server: Any, user: Any, job: Job) -> None:
    """``job``'s page in a 1366 x 900 window, signed in as ``user``, its image loaded."""
    browser.set_window_size(1366, 900)
    _open(browser, live_server, user, f"/jobs/{job.id}/")
    _image_loaded(browser)


def _shot(browser: Any, name: str) -> None:
    browser.save_screenshot(str(SCREENSHOTS / f"15-job-{name}.png"))


def _rect(browser: Any, element: Any) -> dict[str, float]:
    return browser.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width};",
        element,
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_text_and_boxes_are_linked_both_ways(browser, live_server, user, make_doc) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    job = make_doc(user)
    _show(browser, live_server, user, job)
    image = browser.find_element(By.ID, "page-image")
    scale = _rect(browser, image)["width"] / int(
        browser.find_element(By.ID, "page-canvas").get_attribute("data-width")
    )
    # The text panel is wide prose, not a 38-character monospace box.
    body = browser.find_element(By.ID, "text-body")
    assert _rect(browser, body)["width"] > 400
    assert "mono" not in body.value_of_css_property("font-family").lower()
    assert len(body.find_elements(By.CSS_SELECTOR, ".tb")) == 1
    assert [p.text for p in body.find_elements(By.CSS_SELECTOR, ".tl")] == PAGES[0]

    # Text -> box: hovering "invoice" in the text highlights its box, where it is drawn.
    word = body.find_element(By.XPATH, ".//span[@class='tw'][text()='invoice']")
    ActionChains(browser).move_to_element(word).perform()
    box = browser.find_element(
        By.CSS_SELECTOR, f"rect.word[data-w='{word.get_attribute('data-w')}']"
    )
    wait_for(lambda: "active" in box.get_attribute("class"), what="the linked box")
    drawn = _rect(browser, box)
    img = _rect(browser, image)
    assert abs(drawn["left"] - (img["left"] + int(box.get_attribute("x")) * scale)) < 2
    assert abs(drawn["top"] - (img["top"] + int(box.get_attribute("y")) * scale)) < 2
    # Hovering a line (between words) highlights all of its boxes.
    line = body.find_elements(By.CSS_SELECTOR, ".tl")[1]
    ActionChains(browser).move_to_element_with_offset(
        line, -_rect(browser, line)["width"] / 2 + 1, 0
    ).perform()

    # Box -> text: hovering a box highlights its word in the text, with a tooltip.
    other = browser.find_elements(By.CSS_SELECTOR, "rect.word")[4]
    ActionChains(browser).move_to_element(other).perform()
    span = body.find_element(By.CSS_SELECTOR, f".tw[data-w='{other.get_attribute('data-w')}']")
    wait_for(lambda: "active" in span.get_attribute("class"), what="the linked word")
    assert browser.find_element(By.ID, "word-tip").is_displayed()
    assert span.text in browser.find_element(By.ID, "word-tip").text
    _shot(browser, "linked-hover")

    # Selecting text highlights the boxes of every selected word.
    browser.execute_script(
        "const l = document.querySelectorAll('#text-body .tl')[1];"
        "const r = document.createRange(); r.selectNodeContents(l);"
        "const s = getSelection(); s.removeAllRanges(); s.addRange(r);"
    )
    wait_for(
        lambda: len(browser.find_elements(By.CSS_SELECTOR, "rect.word.selected")) == 6,
        what="the selected line's boxes",
    )
    _shot(browser, "linked-selection")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_a_word_pointed_at_in_the_text_is_brought_into_sight_in_a_tall_viewer(
    browser, live_server, user, make_doc
) -> None:
    """A long receipt at fit width: the viewer reaches below the window's bottom.
    Pointing at a word whose box is in that hidden part scrolls the viewer (not the
    window) until the box is on screen."""
    from selenium.webdriver.common.by import By

    lines = [f"Item {n} costs {n}.95 today" for n in range(1, 41)]
    job = make_doc(user, pages=[lines])
    _show(browser, live_server, user, job)
    viewport = browser.find_element(By.ID, "viewport")
    window_height = browser.execute_script("return innerHeight")
    assert _rect(browser, viewport)["bottom"] > window_height, "the viewer goes below the fold"
    # The first word whose box is in the viewer but below the window.
    index = browser.execute_script(
        "const h = innerHeight, v = arguments[0].getBoundingClientRect();"
        "const r = [...document.querySelectorAll('#boxes rect.word')].find(r => {"
        "  const b = r.getBoundingClientRect(); return b.top > h && b.bottom < v.bottom; });"
        "return r ? r.dataset.w : null;",
        viewport,
    )
    assert index is not None, "a box in the part of the viewer below the window"
    browser.execute_script(
        "document.querySelector(`#text-body .tw[data-w='${arguments[0]}']`)"
        ".dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));",
        index,
    )
    box = browser.find_element(By.CSS_SELECTOR, f"rect.word[data-w='{index}']")
    bar = _rect(browser, browser.find_element(By.ID, "topbar"))["bottom"]
    wait_for(
        lambda: (
            bar <= _rect(browser, box)["top"] and _rect(browser, box)["bottom"] <= window_height
        ),
        what="the pointed word's box on screen",
    )
    assert browser.execute_script("return scrollY") == 0, "the window itself did not scroll"
    _shot(browser, "linked-tall-viewer")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_zoom_fit_rotate_pinch_and_pan(browser, live_server, user, make_doc) -> None:
    from selenium.webdriver.common.by import By

    job = make_doc(user)
    _show(browser, live_server, user, job)
    viewport = browser.find_element(By.ID, "viewport")
    image = browser.find_element(By.ID, "page-image")
    natural = int(browser.find_element(By.ID, "page-canvas").get_attribute("data-width"))
    vw = browser.execute_script("return arguments[0].clientWidth", viewport)
    fit_width = _rect(browser, image)["width"]
    assert abs(fit_width - (vw - 2)) < 3  # fit width at first
    level = browser.find_element(By.ID, "zoom-level")
    start = int(level.text.rstrip("%"))

    browser.find_element(By.ID, "zoom-in").click()
    browser.find_element(By.ID, "zoom-in").click()
    assert abs(_rect(browser, image)["width"] - fit_width * 1.5625) < 3
    assert (
        int(level.text.rstrip("%")) == round(start * 1.5625)
        or abs(int(level.text.rstrip("%")) - start * 1.5625) <= 1
    )
    # A box stays on its word when zoomed.
    box = browser.find_elements(By.CSS_SELECTOR, "rect.word")[0]
    scale = _rect(browser, image)["width"] / natural
    assert (
        abs(
            _rect(browser, box)["left"]
            - (_rect(browser, image)["left"] + int(box.get_attribute("x")) * scale)
        )
        < 2
    )

    # Pan: a mouse drag scrolls the zoomed page.
    from selenium.webdriver.common.action_chains import ActionChains

    before = browser.execute_script("return arguments[0].scrollLeft", viewport)
    ActionChains(browser).move_to_element(viewport).click_and_hold().move_by_offset(
        -150, -40
    ).release().perform()
    after = browser.execute_script("return arguments[0].scrollLeft", viewport)
    assert after - before > 100, (before, after)
    _shot(browser, "zoomed")

    # Ctrl+wheel zooms out around the pointer.
    width = _rect(browser, image)["width"]
    browser.execute_script(
        "const v = arguments[0], r = v.getBoundingClientRect();"
        "v.dispatchEvent(new WheelEvent('wheel', {deltaY: 200, ctrlKey: true, bubbles: true,"
        " cancelable: true, clientX: r.left + 50, clientY: r.top + 50}));",
        viewport,
    )
    assert _rect(browser, image)["width"] < width * 0.6

    # Pinch: two touch points moving apart zoom in.
    width = _rect(browser, image)["width"]
    r = _rect(browser, viewport)
    cx, cy = r["left"] + 200, r["top"] + 120

    def touch(kind: str, spread: float) -> None:
        points = (
            []
            if kind == "touchEnd"
            else [
                {"x": cx - spread, "y": cy, "id": 1},
                {"x": cx + spread, "y": cy, "id": 2},
            ]
        )
        browser.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", 40)
    for spread in (60, 80, 100):
        touch("touchMove", spread)
    touch("touchEnd", 0)
    assert _rect(browser, image)["width"] > width * 1.8, (width, _rect(browser, image)["width"])

    # Fit page: the whole page is visible in the viewport.
    browser.find_element(By.ID, "fit-page").click()
    img, port = _rect(browser, image), _rect(browser, viewport)
    assert img["right"] <= port["right"] + 1 and img["bottom"] <= port["bottom"] + 1
    assert browser.find_element(By.ID, "fit-page").get_attribute("aria-pressed") == "true"

    # Rotate view: a quarter turn swaps the stage's sides; the boxes turn with the image.
    browser.find_element(By.ID, "fit-width").click()
    stage = browser.find_element(By.ID, "stage")
    w0, h0 = stage.size["width"], stage.size["height"]
    browser.find_element(By.ID, "rotate-view").click()
    w1, h1 = stage.size["width"], stage.size["height"]
    assert w1 < w0 * 1.01 and h1 > h0  # turned, fitted to the width again
    shown = _rect(browser, image)
    assert shown["width"] < shown["bottom"] - shown["top"]  # landscape page stands up
    first = _rect(browser, browser.find_elements(By.CSS_SELECTOR, "rect.word")[0])
    # Turned clockwise: the first word (top left) is now at the top right.
    assert first["left"] > (shown["left"] + shown["right"]) / 2
    _shot(browser, "rotated")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_keyboard_one_tab_stop_arrows_and_skip_link(browser, live_server, user, make_doc) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    job = make_doc(user)
    _show(browser, live_server, user, job)
    focused = lambda: browser.switch_to.active_element  # noqa: E731

    # The skip link is the viewer's first tab stop, shown when focused; it jumps to the text.
    skip = browser.find_element(By.CSS_SELECTOR, ".viewer-skip")
    browser.execute_script("arguments[0].focus()", skip)
    assert skip.is_displayed() and _rect(browser, skip)["left"] >= 0
    skip.send_keys(Keys.ENTER)
    wait_for(lambda: focused().get_attribute("id") == "text-panel", what="the skip link")

    # From the "Word boxes" switch, one Tab reaches the image.
    browser.execute_script("document.getElementById('toggle-boxes').focus()")
    focused().send_keys(Keys.TAB)
    assert focused().get_attribute("id") == "boxes"
    # Arrow keys move between words (with the tooltip), down to the next line.
    focused().send_keys(Keys.ARROW_RIGHT)
    assert focused().get_attribute("data-w") == "0"
    focused().send_keys(Keys.ARROW_RIGHT)
    assert focused().get_attribute("data-w") == "1"
    assert browser.find_element(By.ID, "word-tip").text.startswith("invoice")
    span = browser.find_element(By.CSS_SELECTOR, ".tw[data-w='1']")
    assert "active" in span.get_attribute("class")
    focused().send_keys(Keys.ARROW_DOWN)
    assert focused().get_attribute("data-l") == "1" and focused().get_attribute("data-w") == "3"
    focused().send_keys(Keys.END)
    assert focused().get_attribute("data-w") == str(
        len(browser.find_elements(By.CSS_SELECTOR, "rect.word")) - 1
    )
    _shot(browser, "keyboard")
    # Tab leaves the image at once; Copy is a few Tabs away (the page strip between).
    presses = 0
    while focused().get_attribute("id") != "copy-text" and presses < 20:
        focused().send_keys(Keys.TAB)
        presses += 1
        assert focused().tag_name != "rect"
    assert focused().get_attribute("id") == "copy-text" and presses <= 5, presses


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_search_counts_hits_across_pages_and_marks_them_on_the_image(
    browser, live_server, user, make_doc
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    job = make_doc(user)
    _show(browser, live_server, user, job)
    find = browser.find_element(By.ID, "find-input")
    find.send_keys("invoice")
    status = browser.find_element(By.ID, "find-status")
    wait_for(lambda: "1 match on this page" in status.text, what="the hit count")
    assert "2 in all pages" in status.text
    hits = browser.find_elements(By.CSS_SELECTOR, "rect.word.hit")
    assert len(hits) == 1 and hits[0].get_attribute("data-label").startswith("invoice")
    links = browser.find_elements(By.CSS_SELECTOR, "#find-pages a")
    assert [a.text for a in links] == ["Page 2: 1 match"]
    find.send_keys(Keys.ENTER)
    assert "hit-current" in hits[0].get_attribute("class")
    assert "Match 1 of 1" in status.text
    _shot(browser, "search")
    # A phrase across words; then the hit on page 2, with the query kept.
    find.clear()
    find.send_keys("the report")
    wait_for(lambda: "No match on this page" in status.text, what="no hit here")
    assert "2 on other pages" in status.text
    browser.find_element(By.CSS_SELECTOR, "#find-pages a").click()
    wait_for(lambda: "page=2" in browser.current_url, what="page 2")
    _image_loaded(browser)
    wait_for(
        lambda: len(browser.find_elements(By.CSS_SELECTOR, "rect.word.hit")) == 2,
        what="two boxes of the phrase on page 2",
    )
    assert browser.find_element(By.ID, "find-input").get_attribute("value") == "the report"
    assert "1 match on this page" in browser.find_element(By.ID, "find-status").text


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_pages_appear_as_they_finish_while_the_job_runs(
    browser, live_server, user, make_doc
) -> None:
    from selenium.webdriver.common.by import By

    job = make_doc(user, done=(), status=JobStatus.PROCESSING)
    browser.set_window_size(1366, 900)
    _open(browser, live_server, user, f"/jobs/{job.id}/")
    assert browser.find_elements(By.ID, "job-progress") and not browser.find_elements(
        By.ID, "viewer"
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, ".thumb-item.waiting")) == 3
    _shot(browser, "running-empty")

    # Page 2 is read first: the page shows it without being asked.
    _add_page(job, 2, PAGES[1])
    Job.objects.filter(pk=job.pk).update(pages_done=1)
    wait_for(lambda: browser.find_elements(By.ID, "viewer"), timeout=20, what="the first read page")
    _image_loaded(browser)
    assert "Second page of the report" in browser.find_element(By.ID, "text-body").text
    assert browser.find_elements(By.ID, "job-progress")

    # Page 1 follows: it joins the page strip while page 2 stays in view.
    _add_page(job, 1, PAGES[0])
    Job.objects.filter(pk=job.pk).update(pages_done=2)
    wait_for(
        lambda: browser.find_elements(By.CSS_SELECTOR, ".thumb-item.done[data-page='1'] img"),
        timeout=20,
        what="page 1 in the strip",
    )
    assert "Second page of the report" in browser.find_element(By.ID, "text-body").text
    previous = browser.find_element(By.CSS_SELECTOR, ".pager a[rel=prev]")
    assert previous.get_attribute("href").endswith("?page=1")
    wait_for(
        lambda: browser.execute_script(
            "const i = document.querySelector(\".thumb-item[data-page='1'] img\");"
            "return i.complete && i.naturalWidth"
        ),
        what="page 1's thumbnail",
    )
    # Search covers the page that came in meanwhile.
    browser.find_element(By.ID, "find-input").send_keys("customer")
    wait_for(
        lambda: "1 on other pages" in browser.find_element(By.ID, "find-status").text,
        what="search over the new page",
    )
    _shot(browser, "running-partial")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_failed_page_and_fields_at_both_sizes(
    browser, live_server, user, make_doc, width, height
) -> None:
    from selenium.webdriver.common.by import By

    job = make_doc(
        user,
        done=(1, 3),
        failed={2: "The image is truncated or corrupt (OSError)."},
        status=JobStatus.FAILED,
        error_code="invalid_image",
        error_message="Page 2: The image is truncated or corrupt (OSError).",
    )
    browser.set_window_size(width, height)
    _open(browser, live_server, user, f"/jobs/{job.id}/")
    _image_loaded(browser)
    card = browser.find_element(By.ID, "failure")
    assert "Recognition failed on page 2" in card.text and "OSError" not in card.text
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, overflow
    size = "phone" if width < 500 else "desktop"
    browser.set_window_size(
        width, min(3000, browser.execute_script("return document.body.scrollHeight") + 40)
    )
    _shot(browser, f"failed-{size}")

    mrz = make_doc(
        user, pages=[["P<UTOERIKSSON"]], extra={1: {"mrz": MRZ}}, filename="passport.png"
    )
    browser.set_window_size(width, height)
    browser.get(live_server.url + f"/jobs/{mrz.id}/")
    _image_loaded(browser)
    table = browser.find_element(By.ID, "mrz-table")
    assert "ERIKSSON" in table.text and "invalid" in table.text
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, overflow
    if width > 1000:  # beside the image
        assert table.location["x"] > _rect(browser, browser.find_element(By.ID, "viewer"))["right"]
    browser.set_window_size(
        width, min(3000, browser.execute_script("return document.body.scrollHeight") + 40)
    )
    _shot(browser, f"mrz-{size}")
    browser.set_window_size(width, height)


def test_the_thumbnails_are_real_images(client_for, user, make_doc) -> None:
    job = make_doc(user)
    image = client_for(user).get(f"/api/ocr/{job.id}/pages/3/image/?max_width=160")
    assert image.status_code == 200
    assert Image.open(io.BytesIO(image.content)).width == 160


@pytest.mark.django_db
def test_the_text_keeps_blocks_and_lines_in_reading_order(client_for, user, make_doc) -> None:
    job = make_doc(user, pages=[["Title line", "first paragraph", "second paragraph"]])
    page = job.pages.get()
    lines = page.result["blocks"][0]["lines"]
    page.result["blocks"] = [
        {"bbox": lines[0]["bbox"], "confidence": 80.0, "lines": lines[:1]},
        {"bbox": lines[1]["bbox"], "confidence": 80.0, "lines": lines[1:]},
    ]
    page.save()
    html = client_for(user).get(f"/jobs/{job.id}/").content.decode()
    blocks = re.findall(r'<div class="tb">(.*?)</div>', html, re.S)
    texts = [re.findall(r'<p class="tl" data-l="(\d+)">(.*?)</p>', b) for b in blocks]
    assert [[n for n, _ in b] for b in texts] == [["0"], ["1", "2"]]
    words = re.findall(r'<span class="tw" data-w="(\d+)">(.*?)</span>', html)
    assert [w for _, w in words] == ["Title", "line", "first", "paragraph", "second", "paragraph"]
    assert [int(i) for i, _ in words] == list(range(6))
    boxes = re.findall(r'<rect class="word \w+"[^>]*data-w="(\d+)" data-l="(\d+)"', html)
    assert boxes == [("0", "0"), ("1", "0"), ("2", "1"), ("3", "1"), ("4", "2"), ("5", "2")]
    assert html.count('tabindex="0"') >= 1 and 'tabindex="-1" data-w="0"' in html


@pytest.mark.django_db
def test_a_canceled_job_shows_its_read_pages_and_which_were_not_read(
    client_for, user, make_doc
) -> None:
    job = make_doc(user, done=(1,), status=JobStatus.CANCELED)
    html = client_for(user).get(f"/jobs/{job.id}/").content.decode()
    assert "Recognition was canceled" in html and "Quarterly invoice total" in html
    strip = re.search(r'<nav class="thumbs".*?</nav>', html, re.S)[0]
    assert strip.count("not read") == 2 and "waiting" not in strip
    assert 'id="run-again"' in html and 'id="cancel-job"' not in html
