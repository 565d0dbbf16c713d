"""History (/history/, app/web/views.py ``history`` and ``history_delete``): what the
filter form says about an inverted date range, sorting by column, the engine filter,
where a search matched (``selectors.job_search_matches``), and bulk delete.

With Django's test client for the rules, and in headless Chromium as a user does it
(screenshots ``screenshots/15-history-*.png`` at 1366x900 and 390x844).
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from app import selectors
from app.models import Job, JobStatus
from tests.factories import PASSWORD, UserFactory
from tests.web.chromium import SCREENSHOTS, requires_chromium, start_chromium, wait_for

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:
    """The job names of the listed rows, top to bottom."""
    return [row["job"].filename for row in response.context["rows"]]


def _stored(job: Job) -> Path:
    return Path(django_settings.MEDIA_ROOT) / job.file.name


# ---- the date range ----------------------------------------------------------------


def test_an_inverted_date_range_says_what_is_wrong_and_how_to_fix_it(client_for, user, make_job):
    old = make_job(user, filename="old.png")
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    make_job(user, filename="new.png")
    today = timezone.localdate()
    later, earlier = today.isoformat(), (today - timedelta(days=7)).isoformat()

    r = client_for(user).get("/history/", {"date_from": later, "date_to": earlier})
    assert r.status_code == 200
    page = r.content.decode()
    assert "No job matches" not in page
    error = page.split('id="filter-errors"', 1)[1].split("</div>", 1)[0]
    assert "is before" in error and "swap the dates" in error
    assert today.strftime("%b") in error  # the dates in words, as the list shows them
    assert f'href="?date_from={earlier}&amp;date_to={later}"' in error  # "Swap the dates"
    assert page.count('aria-invalid="true"') == 2
    # The list is not limited by the wrong range (the error says so) ...
    assert sorted(_names(r)) == ["new.png", "old.png"]
    # ... and the swapped range is what was meant.
    swapped = client_for(user).get("/history/", {"date_from": earlier, "date_to": later})
    assert _names(swapped) == ["new.png"] and "filter-errors" not in swapped.content.decode()


def test_other_filters_still_apply_next_to_an_inverted_range(client_for, user, make_job):
    make_job(user, filename="alpha.png", pages=[["zebra crossing"]])
    make_job(user, filename="beta.png", pages=[["mountain pass"]])
    today = timezone.localdate()
    r = client_for(user).get(
        "/history/",
        {"q": "zebra", "date_from": today.isoformat(), "date_to": "2020-01-01"},
    )
    assert _names(r) == ["alpha.png"] and "1 job matches your filters" in r.content.decode()


def test_the_batch_list_says_the_same_about_an_inverted_range(client_for, user):
    r = client_for(user).get(
        "/history/", {"view": "batches", "date_from": "2026-02-01", "date_to": "2026-01-01"}
    )
    assert r.status_code == 200 and "is before" in r.content.decode()


# ---- sorting -------------------------------------------------------------------------


def _three_jobs(make_job, user) -> dict[str, Job]:
    jobs = {
        "b-two-pages.png": make_job(user, filename="b-two-pages.png", pages=[["a"], ["b"]]),
        "c-running.png": make_job(user, filename="c-running.png", status=JobStatus.PROCESSING),
        "a-quick.png": make_job(user, filename="a-quick.png"),
    }
    Job.objects.filter(pk=jobs["b-two-pages.png"].pk).update(duration=9.0)
    Job.objects.filter(pk=jobs["a-quick.png"].pk).update(duration=0.5)
    now = timezone.now()
    for i, name in enumerate(["b-two-pages.png", "c-running.png", "a-quick.png"]):
        Job.objects.filter(pk=jobs[name].pk).update(created_at=now - timedelta(hours=3 - i))
    return jobs


def test_columns_sort_both_ways_and_the_headers_say_how(client_for, user, make_job):
    _three_jobs(make_job, user)
    client = client_for(user)

    default = client.get("/history/")
    assert _names(default) == ["a-quick.png", "c-running.png", "b-two-pages.png"]
    head = default.content.decode().split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert (
        '<th scope="col" aria-sort="descending"><a class="sort" href="?ordering=created_at">Date'
        in head
    )
    assert 'href="?ordering=filename">Name</a>' in head
    assert 'href="?ordering=-duration">Duration</a>' in head  # largest first on a first click

    by_name = client.get("/history/", {"ordering": "filename"})
    assert _names(by_name) == ["a-quick.png", "b-two-pages.png", "c-running.png"]
    assert 'aria-sort="ascending"><a class="sort" href="?ordering=-filename">Name' in (
        by_name.content.decode()
    )
    assert _names(client.get("/history/", {"ordering": "-filename"}))[0] == "c-running.png"
    assert _names(client.get("/history/", {"ordering": "-page_count"}))[0] == "b-two-pages.png"
    assert _names(client.get("/history/", {"ordering": "created_at"}))[0] == "b-two-pages.png"
    # An unfinished job has no duration: last either way, as in the API.
    assert _names(client.get("/history/", {"ordering": "duration"})) == [
        "a-quick.png",
        "b-two-pages.png",
        "c-running.png",
    ]
    assert _names(client.get("/history/", {"ordering": "-duration"}))[-1] == "c-running.png"
    by_status = client.get("/history/", {"ordering": "status"})
    assert [row["job"].status for row in by_status.context["rows"]] == [
        "done",
        "done",
        "processing",
    ]


def test_sorting_keeps_the_filters_and_pages_keep_the_sort(client_for, user, make_job):
    for i in range(22):
        make_job(user, filename=f"scan-{i:02d}.png")
    client = client_for(user)
    r = client.get("/history/", {"q": "scan", "ordering": "filename"})
    page = r.content.decode()
    assert _names(r)[0] == "scan-00.png"
    assert 'href="?q=scan&amp;ordering=filename&amp;page=2"' in page
    assert 'href="?q=scan&amp;ordering=-filename">Name' in page
    # The search form carries the sort (the phone layout's menu).
    assert re.search(r'<option value="filename" selected>Name, A to Z</option>', page)
    second = client.get("/history/", {"q": "scan", "ordering": "filename", "page": 2})
    assert _names(second) == ["scan-20.png", "scan-21.png"]


def test_an_unknown_sort_is_explained_not_a_500(client_for, user, make_job):
    make_job(user)
    r = client_for(user).get("/history/", {"ordering": "owner__password"})
    assert r.status_code == 200 and "Sort by:" in r.content.decode()
    assert len(r.context["rows"]) == 1


# ---- the engine filter ---------------------------------------------------------------


def test_the_engine_filter_offers_the_engines_used_and_filters(client_for, user, make_job):
    make_job(user, filename="tess.png")
    paddle = make_job(user, filename="paddle.png")
    Job.objects.filter(pk=paddle.pk).update(engine="ppocr")
    client = client_for(user)

    page = client.get("/history/").content.decode()
    menu = page.split('name="engine"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="([^"]*)"', menu) == ["", "ppocr", "tesseract"]
    assert "Any engine" in menu and "mrz" not in menu  # only the engines of one's jobs

    only = client.get("/history/", {"engine": "ppocr"})
    assert _names(only) == ["paddle.png"] and "matches your filters" in only.content.decode()
    unknown = client.get("/history/", {"engine": "nonesuch"})
    assert unknown.status_code == 200 and "Engine:" in unknown.content.decode()
    assert len(unknown.context["rows"]) == 2


# ---- where the search matched --------------------------------------------------------


def test_search_shows_a_highlighted_snippet_and_the_page_of_the_match(client_for, user, make_job):
    filler = "lorem ipsum dolor sit amet " * 8
    job = make_job(
        user,
        filename="report.png",
        pages=[["Cover page only"], [filler + "the <b>Zebra</b> & friends crossed " + filler]],
    )
    r = client_for(user).get("/history/", {"q": "zebra"})
    page = r.content.decode()
    snippet = page.split('<p class="snippet">', 1)[1].split("</p>", 1)[0]
    assert f'<a class="snippet-page" href="/jobs/{job.id}/?page=2">Page 2</a>' in snippet
    text = snippet.split('<span class="snippet-text">', 1)[1].split("</span>", 1)[0]
    assert "&lt;b&gt;<mark>Zebra</mark>&lt;/b&gt; &amp; friends" in text  # escaped, as found
    assert text.startswith("\u2026") and text.endswith("\u2026")
    visible = re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").replace("&gt;", ">")
    assert 60 <= len(visible.replace("&amp;", "&")) <= 90
    assert "<b>" not in page.split('class="job-link">', 1)[1].split("</a>", 1)[0]


def test_a_match_in_the_name_is_marked_there(client_for, user, make_job):
    make_job(user, filename="Invoice-<March>.png", pages=[["nothing of note"]])
    page = client_for(user).get("/history/", {"q": "invoice"}).content.decode()
    link = page.split('class="job-link">', 1)[1].split("</a>", 1)[0]
    assert link == "<mark>Invoice</mark>-&lt;March&gt;.png"
    assert '<p class="snippet">' not in page  # no text match, no snippet
    plain = client_for(user).get("/history/").content.decode()
    assert "<mark>" not in plain


def test_snippets_at_the_start_and_end_of_a_short_text(user, make_job):
    start = make_job(user, filename="s.png", pages=[["Zebra first, then nothing else"]])
    end = make_job(user, filename="e.png", pages=[["nothing else, then a zebra"]])
    found = selectors.job_search_matches(job_ids=[start.id, end.id], query="ZEBRA")
    assert found[start.id].snippet_html == "<mark>Zebra</mark> first, then nothing else"
    assert found[end.id].snippet_html == "nothing else, then a <mark>zebra</mark>"
    assert found[start.id].page == 1
    assert selectors.job_search_matches(job_ids=[start.id], query=" ") == {}


def test_a_snippet_keeps_to_the_page_of_the_match(user, make_job):
    job = make_job(user, pages=[["Cover sheet"], ["Invoice total", "due"], ["Terms apply"]])
    found = selectors.job_search_matches(job_ids=[job.id], query="total")[job.id]
    assert found.snippet_html == "Invoice <mark>total</mark> due" and found.page == 2
    last = selectors.job_search_matches(job_ids=[job.id], query="terms")[job.id]
    assert last.snippet_html == "<mark>Terms</mark> apply" and last.page == 3


def test_a_long_text_is_cut_at_words_around_the_match(user, make_job):
    words = " ".join(f"word{i}" for i in range(400))
    job = make_job(user, pages=[[words]])
    found = selectors.job_search_matches(job_ids=[job.id], query="word200", width=80)
    snippet = str(found[job.id].snippet_html)
    assert snippet.startswith("\u2026word19") and snippet.endswith("\u2026")
    assert "<mark>word200</mark>" in snippet
    inner = snippet.strip("\u2026").replace("<mark>", "").replace("</mark>", "")
    assert all(re.fullmatch(r"word\d+", w) for w in inner.split(" "))  # whole words only
    assert 60 <= len(inner) <= 80


# ---- bulk delete ---------------------------------------------------------------------


def test_history_offers_bulk_selection_with_a_csrf_form(client_for, user, make_job):
    job = make_job(user)
    page = client_for(user).get("/history/", {"q": "letter"}).content.decode()
    assert '<form method="post" action="/history/delete/" id="bulk-delete"' in page
    assert 'name="csrfmiddlewaretoken"' in page.split('id="bulk-delete"', 1)[1].split("</form>")[0]
    assert f'name="ids" value="{job.id}" form="bulk-delete"' in page
    assert 'name="next" value="q=letter"' in page
    assert 'id="select-all"' in page and 'id="confirm-bulk-delete"' in page


def test_bulk_delete_asks_first_without_javascript(client_for, user, make_job):
    a, b = make_job(user, filename="a.png"), make_job(user, filename="b.png")
    r = client_for(user).post("/history/delete/", {"ids": [a.id, b.id], "next": "q=png"})
    assert r.status_code == 200
    page = r.content.decode()
    assert "Delete 2 jobs?" in page and "a.png" in page and "b.png" in page
    assert 'name="confirm" value="yes"' in page and 'href="/history/?q=png"' in page
    assert Job.objects.filter(owner=user).count() == 2


def test_bulk_delete_removes_only_ones_own_jobs_and_their_files(
    client_for, user, other_user, make_job, django_capture_on_commit_callbacks
):
    mine = [make_job(user, filename=f"mine-{i}.png") for i in range(3)]
    kept = make_job(user, filename="kept.png")
    theirs = make_job(other_user, filename="theirs.png")
    paths = [_stored(job) for job in mine]
    ids = [job.id for job in mine] + [theirs.id, uuid.uuid4(), "not-a-uuid", mine[0].id]
    with django_capture_on_commit_callbacks(execute=True):
        r = client_for(user).post(
            "/history/delete/",
            {"ids": ids, "confirm": "yes", "next": "status=done&ordering=filename&evil=1"},
            follow=True,
        )
    assert r.redirect_chain[-1] == ("/history/?status=done&ordering=filename", 302)
    page = r.content.decode()
    assert "Deleted 3 jobs." in page
    assert "2 of the selected jobs were not found" in page  # theirs and the unknown one
    assert list(Job.objects.filter(owner=user)) == [kept]
    assert Job.objects.filter(pk=theirs.pk).exists() and _stored(theirs).exists()
    assert not any(path.exists() for path in paths)


def test_bulk_delete_of_stale_or_foreign_ids_is_never_a_500(client_for, user, other_user, make_job):
    theirs = make_job(other_user)
    client = client_for(user)
    r = client.post("/history/delete/", {"ids": [theirs.id], "confirm": "yes"}, follow=True)
    assert r.status_code == 200 and "1 of the selected jobs was not found" in r.content.decode()
    assert Job.objects.filter(pk=theirs.pk).exists()
    asked = client.post("/history/delete/", {"ids": [uuid.uuid4()]})
    assert asked.status_code == 200 and "Nothing to delete" in asked.content.decode()
    none = client.post("/history/delete/", {"ids": ["x", ""], "confirm": "yes"}, follow=True)
    assert none.redirect_chain[-1][0] == "/history/"
    assert "Select the jobs to delete first." in none.content.decode()
    too_many = client.post("/history/delete/", {"ids": [uuid.uuid4() for _ in range(101)]})
    assert too_many.status_code == 400


def test_bulk_delete_needs_a_post_a_sign_in_and_the_csrf_token(user, make_job):
    job = make_job(user)
    assert Client().post("/history/delete/", {"ids": [job.id], "confirm": "yes"}).status_code == 302
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(user)
    assert guarded.get("/history/delete/").status_code == 405
    refused = guarded.post("/history/delete/", {"ids": [job.id], "confirm": "yes"})
    assert refused.status_code == 403
    assert Job.objects.filter(pk=job.pk).exists()


# ---- in the browser ------------------------------------------------------------------


def _no_horizontal_scroll(browser: Any) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_search_sort_filter_and_bulk_delete_in_the_browser(live_server, make_job, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    user = UserFactory()
    make_job(user, filename="memo.png", pages=[["Meeting moved to Thursday", "bring forms"]])
    make_job(
        user,
        filename="invoice-march.png",
        pages=[["Cover sheet"], ["Invoice total due by Thursday the 14th", "paid in full"]],
    )
    paddle = make_job(user, filename="receipt.png", pages=[["Coffee 3.20", "Total 3.20"]])
    Job.objects.filter(pk=paddle.pk).update(engine="ppocr")
    make_job(user, filename="zz-pending.png", status=JobStatus.PENDING)
    base = live_server.url
    browser = start_chromium(tmp_path / "profile", console_log=True)

    def names() -> list[str]:
        return [e.text for e in browser.find_elements(By.CSS_SELECTOR, "tr.job-row .job-link")]

    try:
        browser.set_window_size(1366, 900)
        browser.get(base + "/accounts/login/?next=/history/")
        browser.find_element(By.ID, "id_username").send_keys(user.username)
        browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form [type=submit]").click()
        wait_for(lambda: len(names()) == 4, what="the history list")

        # Search: where the text matched, highlighted, with the page it is on.
        search = browser.find_element(By.ID, "id_q")
        search.send_keys("thursday")
        search.submit()
        wait_for(lambda: "q=thursday" in browser.current_url and len(names()) == 2, what="search")
        snippets = browser.find_elements(By.CSS_SELECTOR, "tr.job-row .snippet")
        assert len(snippets) == 2
        marks = browser.find_elements(By.CSS_SELECTOR, "tr.job-row .snippet mark")
        assert [m.text for m in marks] == ["Thursday", "Thursday"]
        invoice = next(s for s in snippets if "Page 2" in s.text)
        assert "Invoice total due by Thursday the 14th" in invoice.text
        assert (
            invoice.find_element(By.LINK_TEXT, "Page 2").get_attribute("href").endswith("?page=2")
        )
        mark = marks[0]
        assert mark.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"
        browser.save_screenshot(str(SCREENSHOTS / "15-history-search-snippet.png"))
        dark = [{"name": "prefers-color-scheme", "value": "dark"}]
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": dark})
        browser.save_screenshot(str(SCREENSHOTS / "15-history-search-snippet-dark.png"))
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

        # Sort by name: a click on the header, again for the other way round.
        browser.find_element(By.LINK_TEXT, "Reset").click()
        wait_for(lambda: len(names()) == 4, what="the reset list")
        browser.find_element(By.CSS_SELECTOR, "th a.sort[href*='filename']").click()
        wait_for(lambda: "ordering=filename" in browser.current_url, what="the sort")
        assert names() == sorted(names()) and names()[0] == "invoice-march.png"
        th = browser.find_element(By.XPATH, "//th[.//a[text()='Name']]")
        assert th.get_attribute("aria-sort") == "ascending"
        browser.save_screenshot(str(SCREENSHOTS / "15-history-sorted.png"))
        th.find_element(By.TAG_NAME, "a").click()
        wait_for(lambda: "ordering=-filename" in browser.current_url, what="the reverse sort")
        assert names()[0] == "zz-pending.png"

        # The engine filter keeps the sort.
        Select(browser.find_element(By.ID, "id_engine")).select_by_value("ppocr")
        browser.find_element(By.CSS_SELECTOR, "#history-filters button[type=submit]").click()
        wait_for(lambda: "engine=ppocr" in browser.current_url, what="the engine filter")
        assert names() == ["receipt.png"] and "ordering=-filename" in browser.current_url

        # An inverted date range (typed, so the pickers' limits do not stop it).
        browser.get(base + "/history/")
        today = timezone.localdate()
        browser.execute_script(
            "document.getElementById('id_date_from').value = arguments[0];"
            "document.getElementById('id_date_to').value = arguments[1];"
            "document.getElementById('history-filters').submit();",
            today.isoformat(),
            (today - timedelta(days=3)).isoformat(),
        )
        error = wait_for(lambda: browser.find_element(By.ID, "filter-errors"), what="the error")
        assert "is before" in error.text and len(names()) == 4
        assert not error.text.startswith("To:")
        browser.save_screenshot(str(SCREENSHOTS / "15-history-inverted-dates.png"))
        error.find_element(By.LINK_TEXT, "Swap the dates").click()
        wait_for(lambda: not browser.find_elements(By.ID, "filter-errors"), what="the swap")
        assert len(names()) == 4
        # The pickers now keep the range the right way round.
        assert browser.find_element(By.ID, "id_date_to").get_attribute("min") == (
            browser.find_element(By.ID, "id_date_from").get_attribute("value")
        )

        # Bulk delete: select all, untick one, one confirmation, a flash.
        browser.get(base + "/history/?ordering=filename")
        button = browser.find_element(By.ID, "bulk-delete-button")
        assert not button.is_enabled()
        browser.find_element(By.ID, "select-all").click()
        assert browser.find_element(By.ID, "bulk-count").text == "4 jobs selected"
        boxes = browser.find_elements(By.CSS_SELECTOR, "input.row-select")
        boxes[0].click()  # keep invoice-march.png
        assert browser.find_element(By.ID, "bulk-count").text == "3 jobs selected"
        assert browser.execute_script("return document.getElementById('select-all').indeterminate")
        assert button.text == "Delete 3 jobs"
        browser.save_screenshot(str(SCREENSHOTS / "15-history-bulk-selected.png"))
        button.click()
        dialog = wait_for(
            lambda: (
                browser.find_element(By.ID, "confirm-bulk-delete").is_displayed()
                and browser.find_element(By.ID, "confirm-bulk-delete")
            ),
            what="the confirmation dialog",
        )
        assert "Delete 3 jobs?" in dialog.text and "memo.png" in dialog.text
        assert "invoice-march.png" not in dialog.text
        browser.save_screenshot(str(SCREENSHOTS / "15-history-bulk-confirm.png"))
        dialog.find_element(By.ID, "confirm-bulk-button").click()
        flash = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".flash"), what="flash")
        assert "Deleted 3 jobs." in flash.text
        assert names() == ["invoice-march.png"] and "ordering=filename" in browser.current_url
        assert list(Job.objects.filter(owner=user).values_list("filename", flat=True)) == [
            "invoice-march.png"
        ]

        # A phone: no horizontal scroll, the sort menu instead of the headers.
        for i in range(3):
            make_job(user, filename=f"a-long-scanned-document-name-{i}-2026-final.png")
        browser.set_window_size(390, 844)
        browser.get(base + "/history/?q=2026")
        wait_for(lambda: len(names()) == 3, what="the phone list")
        assert _no_horizontal_scroll(browser)
        sort = browser.find_element(By.ID, "id_ordering")
        assert sort.is_displayed()
        for box in browser.find_elements(By.CSS_SELECTOR, "input.row-select"):
            assert box.is_displayed() and box.size["width"] >= 16
        browser.find_element(By.ID, "select-all").click()
        browser.save_screenshot(str(SCREENSHOTS / "15-history-phone.png"))
        browser.execute_script("document.querySelector('.bulk-bar').scrollIntoView()")
        browser.save_screenshot(str(SCREENSHOTS / "15-history-phone-list.png"))
        Select(sort).select_by_visible_text("Name, Z to A")
        wait_for(lambda: "ordering=-filename" in browser.current_url, what="the phone sort")
        assert names()[0].startswith("a-long-scanned-document-name-2")
        assert _no_horizontal_scroll(browser)

        # Nothing the page did was refused by the Content-Security-Policy, no errors.
        errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        browser.quit()
