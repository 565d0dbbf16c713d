"""The admin's job review page and job list (app/admin.py, templates/admin/ocr/job/).

Issue 15, item 10: a job's admin page is a review page (the page image with its word
boxes, the job's facts, each page's text collapsed, human durations, re-run / cancel
/ delete through :mod:`app.services`) with no Save button; the list shows human
durations. With Django's test client for the actions' effects and the rules, and in
headless Chromium as staff at 1366x900 against a real worker (screenshots
``screenshots/15-admin-*.png``).
"""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from PIL import Image

from app.models import Job, JobStatus, Page
from tests.factories import PASSWORD, UserFactory
from tests.imaging import render_text
from tests.web.chromium import SCREENSHOTS, requires_chromium, start_chromium, wait_for
from tests.web.keyboard import Keyboard

#: "2.3 s", "12 s", "1 min 4 s": a duration as a person writes it.
HUMAN_DURATION = re.compile(r"^(\d+\.\d s|\d+ s|\d+ min \d+ s)$")


def _change_url(job: Job) -> str:
    return f"/admin/ocr/job/{job.pk}/change/"


# ---- the review page, through the test client ----------------------------------------


def test_review_page_is_read_only_without_save_buttons(client_for, staff_user, user, make_job):
    job = make_job(user, pages=[["page one here"], ["page two"]])
    client = client_for(staff_user)
    response = client.get(_change_url(job))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Review job" in html
    for name in ("_save", "_continue", "_addanother", "_saveasnew"):
        assert f'name="{name}"' not in html
    assert 'class="submit-row"' not in html
    assert 'id="job_form"' not in html
    # A POST to the page changes nothing: the record is not a form.
    response = client.post(_change_url(job), {"filename": "renamed.png"})
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.filename == "letter.png"


def test_review_page_shows_preview_facts_and_text_per_page_collapsed(
    client_for, staff_user, user, make_job
):
    job = make_job(user, filename="contract.png", pages=[["page one here"], ["page two"]])
    Job.objects.filter(pk=job.pk).update(duration=2.2796)
    Page.objects.filter(job=job, number=2).update(duration=64.2)
    html = client_for(staff_user).get(_change_url(job)).content.decode()
    # The first page's image with its three word boxes; links to the other page.
    assert f'src="/api/ocr/{job.id}/pages/1/image/"' in html
    assert html.count('class="ocr-word') == 3
    assert 'href="?page=2"' in html
    # Human durations, never raw floats.
    assert '<dd id="job-duration">2.3 s</dd>' in html
    assert "1 min 4 s" in html and "0.5 s" in html
    assert "2.2796" not in html and "64.2" not in html
    # The text of each page in its own collapsed <details>; no form feed anywhere.
    assert html.count('<details class="ocr-page-text"') == 2
    assert '<details class="ocr-page-text" id="text-page-1">' in html  # not open
    assert "page one here" in html and "page two" in html
    assert "\f" not in html and "&#12;" not in html
    # Facts: status, owner, file, engine, languages in words.
    assert "contract.png" in html and user.username in html
    assert "English" in html and "Done" in html
    assert f'href="/admin/ocr/job/?owner__id__exact={user.pk}"' in html
    # Actions: re-run and delete; no cancel for a finished job.
    assert f'action="/admin/ocr/job/{job.id}/rerun/"' in html
    assert f'href="/admin/ocr/job/{job.id}/delete/"' in html
    assert 'id="cancel-job"' not in html
    assert "js/admin-job.js" in html


def test_preview_page_is_chosen_by_the_page_parameter(client_for, staff_user, user, make_job):
    job = make_job(user, pages=[["first page"], ["second page words"]])
    client = client_for(staff_user)
    html = client.get(_change_url(job), {"page": "2"}).content.decode()
    assert f'src="/api/ocr/{job.id}/pages/2/image/"' in html
    assert html.count('class="ocr-word') == 3
    assert 'aria-current="page">2<' in html
    for bad in ("99", "abc", "-1", ""):
        response = client.get(_change_url(job), {"page": bad})
        assert response.status_code == 200
        assert f'src="/api/ocr/{job.id}/pages/1/image/"' in response.content.decode()


def test_a_long_document_links_a_window_of_pages(client_for, staff_user, user, make_job):
    job = make_job(user, pages=[[f"page {n}"] for n in range(1, 31)])
    html = client_for(staff_user).get(_change_url(job), {"page": "15"}).content.decode()
    start = html.index('class="ocr-pager"')
    nav = html[start : html.index("</nav>", start)]
    numbers = [int(n) for n in re.findall(r'href="\?page=(\d+)">\d+<', nav)]
    assert numbers == [1, 13, 14, 16, 17, 30]
    assert nav.count("…") == 2 and 'aria-current="page">15<' in nav
    assert 'rel="prev"' in nav and 'rel="next"' in nav


def test_a_failed_job_shows_the_error_in_words_and_no_empty_viewer(
    client_for, staff_user, user, make_job
):
    from app.errors import ERROR_CODES

    job = make_job(
        user,
        status=JobStatus.FAILED,
        error_code="invalid_image",
        error_message="Page 1: the image is truncated.",
    )
    html = client_for(staff_user).get(_change_url(job)).content.decode()
    assert "ocr-canvas" not in html and "ocr-word" not in html
    assert "No page was read" in html
    assert ERROR_CODES["invalid_image"].message in html
    assert "Page 1: the image is truncated." in html and "invalid_image" in html


def test_a_job_stored_without_page_rows_has_its_text_split_at_page_breaks(
    client_for, staff_user, user, make_job
):
    job = make_job(user, pages=[["alpha"], ["beta"]])
    job.pages.all().delete()
    html = client_for(staff_user).get(_change_url(job)).content.decode()
    assert html.count('<details class="ocr-page-text"') == 2
    assert "\f" not in html
    assert "No page has a result." in html


def test_a_job_without_an_owner_is_reviewable(client_for, staff_user, user, make_job):
    job = make_job(user)
    Job.objects.filter(pk=job.pk).update(owner=None)
    response = client_for(staff_user).get(_change_url(job))
    assert response.status_code == 200
    assert "sent without an account" in response.content.decode()


def test_page_tasks_show_their_run_time_in_words(client_for, staff_user, user, make_job):
    from datetime import timedelta

    from django.utils import timezone

    from app.models import PageTask

    job = make_job(user)
    start = timezone.now()
    PageTask.objects.create(
        job=job,
        number=1,
        state="done",
        attempts=1,
        worker="w1@host",
        started_at=start,
        finished_at=start + timedelta(seconds=2.28),
    )
    html = client_for(staff_user).get(_change_url(job)).content.decode()
    assert "Page tasks (1)" in html and "w1@host" in html and "2.3 s" in html


# ---- actions ---------------------------------------------------------------------------


def test_cancel_ends_an_unfinished_job_and_refuses_a_finished_one(
    client_for, staff_user, user, make_job
):
    job = make_job(user, status=JobStatus.PENDING)
    client = client_for(staff_user)
    html = client.get(_change_url(job)).content.decode()
    assert f'action="/admin/ocr/job/{job.id}/cancel/"' in html and 'id="cancel-job"' in html
    assert "No page is done yet" in html
    assert client.get(f"/admin/ocr/job/{job.id}/cancel/").status_code == 405
    response = client.post(f"/admin/ocr/job/{job.id}/cancel/", follow=True)
    assert response.redirect_chain[-1][0] == _change_url(job)
    assert "Canceled “letter.png”." in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED and job.finished_at is not None
    # Again: the service refuses, the page says why, nothing changes.
    response = client.post(f"/admin/ocr/job/{job.id}/cancel/", follow=True)
    assert "nothing to cancel" in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED


def test_rerun_resets_the_job_through_the_service(
    client_for, staff_user, user, make_job, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr("app.services.jobs.job_enqueue", lambda *, job: queued.append(job.pk))
    job = make_job(user, pages=[["one"], ["two"]])
    client = client_for(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/ocr/job/{job.id}/rerun/", follow=True)
    assert "“letter.png” is queued again." in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.text == "" and job.pages.count() == 0
    assert queued == [job.pk]
    assert client.get(f"/admin/ocr/job/{job.id}/rerun/").status_code == 405


def test_delete_asks_first_then_removes_the_job_and_its_file(
    client_for, staff_user, user, make_job, django_capture_on_commit_callbacks
):
    from pathlib import Path

    job = make_job(user)
    stored = Path(job.file.path)
    client = client_for(staff_user)
    confirm = client.get(f"/admin/ocr/job/{job.id}/delete/")
    assert confirm.status_code == 200 and b"Are you sure" in confirm.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/ocr/job/{job.id}/delete/", {"post": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == "/admin/ocr/job/"
    assert not Job.objects.filter(pk=job.pk).exists() and not stored.exists()


def test_actions_need_the_change_permission(client_for, user, make_job):
    job = make_job(user, status=JobStatus.PENDING)
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_job"))
    client = client_for(viewer)
    html = client.get(_change_url(job)).content.decode()
    assert "Review job" in html
    assert 'id="rerun-job"' not in html and 'id="cancel-job"' not in html
    assert 'id="delete-job"' not in html
    assert client.post(f"/admin/ocr/job/{job.id}/rerun/").status_code == 403
    assert client.post(f"/admin/ocr/job/{job.id}/cancel/").status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING
    # Not staff at all: the admin's sign-in page.
    response = client_for(user).post(f"/admin/ocr/job/{job.id}/cancel/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_unknown_job_is_a_redirect_with_a_message_or_404(client_for, staff_user):
    import uuid

    missing = uuid.uuid4()
    client = client_for(staff_user)
    response = client.get(f"/admin/ocr/job/{missing}/change/", follow=True)
    assert response.status_code == 200 and "doesn’t exist" in response.content.decode()
    assert client.post(f"/admin/ocr/job/{missing}/cancel/").status_code == 404
    assert client.post(f"/admin/ocr/job/{missing}/rerun/").status_code == 404


# ---- the list --------------------------------------------------------------------------


def test_the_list_shows_human_durations_and_keeps_its_filters(
    client_for, staff_user, user, make_job
):
    quick = make_job(user, filename="quick.png")
    slow = make_job(user, filename="slow.png")
    Job.objects.filter(pk=quick.pk).update(duration=2.2796)
    Job.objects.filter(pk=slow.pk).update(duration=64.4)
    html = client_for(staff_user).get("/admin/ocr/job/").content.decode()
    cells = re.findall(r'<td class="field-duration_display">([^<]*)</td>', html)
    assert sorted(cells) == ["1 min 4 s", "2.3 s"]
    assert "2.2796" not in html
    for heading in ("By status", "By engine", "By source", "By owner", "By created at"):
        assert heading in html


# ---- in the browser --------------------------------------------------------------------


def _a4_pdf(pages: list[list[str]]) -> bytes:
    """A PDF of A4 pages (100 DPI) with ``pages``' lines drawn near the top."""
    images = []
    for lines in pages:
        page = Image.new("RGB", (827, 1169), "white")
        page.paste(render_text(lines, size=22).image.convert("RGB"), (0, 0))
        images.append(page)
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=100)
    return buf.getvalue()


def _shot(browser, name: str, scroll_to: str = "") -> None:
    """Save ``screenshots/15-admin-<name>.png`` of the window, scrolled to ``scroll_to``."""
    if scroll_to:
        browser.execute_script(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'start'});", scroll_to
        )
    browser.save_screenshot(str(SCREENSHOTS / f"15-admin-{name}.png"))
    browser.execute_script("window.scrollTo(0, 0);")


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_staff_review_a_job_in_chromium(live_server, celery_worker, tmp_path):
    from rest_framework.test import APIClient
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from tests.conftest import wait_for_job

    base = live_server.url
    owner = UserFactory(username="clerk")
    staff = UserFactory(username="boss", is_staff=True, is_superuser=True)
    api = APIClient()
    api.force_authenticate(owner)
    lines_1 = [
        "Quarterly report of the northern office",
        "Revenue grew in every month of the quarter",
        "The new warehouse opened in March",
        "Staff costs stayed within the budget",
    ] * 5
    lines_2 = ["Second page: signatures and dates", "Approved by the board"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("report.pdf", _a4_pdf([lines_1, lines_2]), "application/pdf")
    response = api.post("/api/ocr/", {"image": upload})
    assert response.status_code == 202, response.content
    job = wait_for_job(response.json()["id"], timeout=120)
    assert job.status == "done" and job.page_count == 2
    # A job nobody runs, to cancel from its page.
    png = render_text(["waiting"]).png()
    waiting = Job(owner=owner, filename="waiting.png", content_type="image/png", size=len(png))
    waiting.file.save(str(waiting.id), ContentFile(png), save=False)
    waiting.save()

    browser = start_chromium(tmp_path / "profile")
    try:
        browser.set_window_size(1366, 900)
        browser.get(base + "/admin/login/?next=/admin/ocr/job/")
        browser.find_element(By.ID, "id_username").send_keys(staff.username)
        browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form input[type=submit]").click()
        wait_for(lambda: browser.find_elements(By.ID, "result_list"), what="the job list")

        # The list: human durations, the filters kept.
        cells = [
            c.text for c in browser.find_elements(By.CSS_SELECTOR, "td.field-duration_display")
        ]
        assert any(HUMAN_DURATION.match(c) for c in cells), cells
        assert all(HUMAN_DURATION.match(c) or c == "–" for c in cells), cells
        assert browser.find_element(By.ID, "changelist-filter").is_displayed()
        assert browser.find_element(By.TAG_NAME, "h1").text == "Jobs"
        _shot(browser, "list")

        # The keyboard alone: Tab from the top of the list to the job (every stop has a
        # name: the thumbnail is no second, nameless link), Enter opens its review page.
        keys = Keyboard(browser)
        keys.tab_to("el.textContent.trim() === 'report.pdf'", "admin: the job", limit=40)
        assert all(keys.stops), f"a tab stop without a name: {keys.stops}"
        keys.press(Keys.ENTER)

        # The review page: reasonable height, no Save, the preview with its boxes.
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".ocr-word"), what="the boxes")
        wait_for(
            lambda: browser.execute_script(
                "const i = document.querySelector('.ocr-canvas img');"
                "return i.complete && i.naturalWidth > 0;"
            ),
            what="the page image",
        )
        height = browser.execute_script("return document.documentElement.scrollHeight")
        assert height < 1600, height  # was 6,467 px with the whole text dumped
        print("review page height", height, browser.execute_script("return innerHeight"))
        assert not browser.find_elements(By.CSS_SELECTOR, "input[name=_save], .submit-row")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Review job"
        words = browser.find_elements(By.CSS_SELECTOR, ".ocr-word")
        assert len(words) >= 40
        image = browser.find_element(By.CSS_SELECTOR, ".ocr-canvas img").rect
        assert image["height"] <= 0.8 * 900 + 2, image  # the whole page fits the window
        for word in words[:5]:
            box = word.rect
            assert (
                image["x"] <= box["x"]
                and box["x"] + box["width"] <= image["x"] + 1 + (image["width"])
            )
            assert image["y"] <= box["y"] <= image["y"] + image["height"] * 0.5
        facts = browser.find_element(By.CSS_SELECTOR, ".ocr-review-facts").rect
        assert facts["x"] > image["x"] + image["width"] - 1 and facts["y"] < image["y"] + 60
        texts = browser.find_element(By.CSS_SELECTOR, ".ocr-texts").rect
        assert texts["x"] == facts["x"] and texts["y"] < image["y"] + image["height"]
        assert HUMAN_DURATION.match(browser.find_element(By.ID, "job-duration").text)
        # Texts collapsed: a summary per page with its excerpt, the text hidden.
        pages = browser.find_elements(By.CSS_SELECTOR, "details.ocr-page-text")
        assert len(pages) == 2 and not any(p.get_attribute("open") for p in pages)
        summary = pages[0].find_element(By.TAG_NAME, "summary").text
        assert "Page 1" in summary and "Quarterly" in summary
        assert not pages[0].find_element(By.CSS_SELECTOR, ".ocr-text").is_displayed()
        _shot(browser, "review")

        toggle = browser.find_element(By.ID, "toggle-texts")
        assert toggle.text == "Expand all"
        toggle.click()
        assert all(p.get_attribute("open") for p in pages) and toggle.text == "Collapse all"
        text = pages[1].find_element(By.CSS_SELECTOR, ".ocr-text").text
        assert "Approved by the board" in text and "\f" not in text
        _shot(browser, "review-texts-open", scroll_to=".ocr-texts")
        toggle.click()
        assert not any(p.get_attribute("open") for p in pages)
        # A page's text opens by the keyboard too (Enter on its summary).
        browser.execute_script(
            "arguments[0].focus()", pages[0].find_element(By.TAG_NAME, "summary")
        )
        keys.press(Keys.ENTER)
        assert pages[0].get_attribute("open") and not pages[1].get_attribute("open")
        keys.press(Keys.ENTER)

        # At phone width: nothing scrolls sideways; each page's excerpt gets a row of
        # its own under the label and the counts instead of a sliver beside them.
        browser.set_window_size(390, 844)
        widths = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], widths
        excerpt = pages[0].find_element(By.CSS_SELECTOR, ".ocr-page-excerpt").rect
        label = pages[0].find_element(By.CSS_SELECTOR, ".ocr-page-label").rect
        assert excerpt["width"] >= 200 and excerpt["y"] > label["y"], (excerpt, label)
        _shot(browser, "review-phone", scroll_to=".ocr-texts")
        browser.set_window_size(1366, 900)

        # Django admin's dark theme: the page follows it.
        browser.execute_script("localStorage.setItem('theme', 'dark');")
        browser.refresh()
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".ocr-word"), what="the boxes")
        background = browser.execute_script(
            "return getComputedStyle(document.querySelector('.ocr-canvas')).backgroundColor"
        )
        assert background not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), background
        _shot(browser, "review-dark")
        browser.execute_script("localStorage.setItem('theme', 'light');")
        browser.refresh()

        # Page 2 in the preview.
        browser.find_element(By.CSS_SELECTOR, ".ocr-pager a[href='?page=2']").click()
        wait_for(
            lambda: (
                "/pages/2/image/"
                in browser.find_element(By.CSS_SELECTOR, ".ocr-canvas img").get_attribute("src")
            ),
            what="page 2 in the preview",
        )

        # Re-run, by the keyboard: the page's first action after the breadcrumbs.
        browser.execute_script("document.activeElement.blur(); window.scrollTo(0, 0);")
        keys.tab_to("el.id === 'rerun-job'", "admin: Re-run", limit=15)
        keys.press(Keys.ENTER)
        message = wait_for(
            lambda: browser.find_element(By.CSS_SELECTOR, ".messagelist"), what="the message"
        )
        assert "queued again" in message.text
        job = wait_for_job(job.id, timeout=120)
        assert job.status == "done" and "Approved" in job.text

        # Cancel the waiting job from its page.
        browser.get(base + _change_url(waiting))
        assert "No page is done yet" in browser.find_element(By.CSS_SELECTOR, ".ocr-empty").text
        _shot(browser, "pending")
        browser.find_element(By.ID, "cancel-job").click()
        message = wait_for(
            lambda: browser.find_element(By.CSS_SELECTOR, ".messagelist"), what="the message"
        )
        assert "Canceled" in message.text
        assert not browser.find_elements(By.ID, "cancel-job")
        waiting.refresh_from_db()
        assert waiting.status == "canceled"

        # Delete it: Django's confirmation, then the list without it.
        browser.find_element(By.ID, "delete-job").click()
        wait_for(lambda: "/delete/" in browser.current_url, what="the confirmation")
        browser.find_element(By.CSS_SELECTOR, "form input[type=submit]").click()
        wait_for(lambda: browser.current_url.endswith("/admin/ocr/job/"), what="the list")
        assert "waiting.png" not in browser.find_element(By.ID, "result_list").text
        assert not Job.objects.filter(pk=waiting.pk).exists()
    finally:
        browser.quit()
