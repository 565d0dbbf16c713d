"""Batches in the browser (app/web/batches.py, static/js/upload.js, static/js/batch.js).

With Django's test client for the rules (owner only, sign-in, cancel, delete, the zip
links, history's badge and its "Batches" tab), and in headless Chromium with a real
worker: three files chosen at once on the upload page go as one batch, whose page
then shows them done (screenshots ``screenshots/batches-*.png`` at 1366x900 and
390x844).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.models import Batch, Job
from app.pipeline.exporters import EXPORT_FORMATS
from app.web.batches import BATCH_LIST_PAGE_SIZE
from tests.factories import PASSWORD, UserFactory
from tests.imaging import render_text
from tests.web.chromium import SCREENSHOTS, requires_chromium, start_chromium, wait_for


@pytest.fixture
def make_batch(make_job) -> Callable[..., Batch]:
    """A batch owned by ``owner`` whose jobs have the given statuses (in that order)."""

    def build(owner: Any, statuses: list[str], *, status: str | None = None) -> Batch:
        batch = Batch.objects.create(
            owner=owner, job_count=len(statuses), engine="tesseract", languages="eng"
        )
        for i, job_status in enumerate(statuses, start=1):
            job = make_job(owner, filename=f"scan-{i}.png", status=job_status)
            Job.objects.filter(pk=job.pk).update(batch=batch)
        if status is None:
            ended = all(s in ("done", "failed", "canceled") for s in statuses)
            started = any(s != "pending" for s in statuses)
            status = (
                ("failed" if "failed" in statuses else "done")
                if ended
                else ("processing" if started else "pending")
            )
        Batch.objects.filter(pk=batch.pk).update(status=status)
        batch.refresh_from_db()
        return batch

    return build


@pytest.mark.django_db
def test_the_batch_pages_need_a_sign_in(make_batch, user, client):
    batch = make_batch(user, ["done"])
    for url in (f"/batches/{batch.id}/", "/batches/", f"/batches/{batch.id}/delete/"):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/"), url
    r = client.post(f"/batches/{batch.id}/cancel/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    assert client.get("/history/?view=batches").status_code == 302


@pytest.mark.django_db
def test_another_users_batch_is_a_404(make_batch, user, other_user, client_for):
    batch = make_batch(user, ["pending", "pending"])
    stranger = client_for(other_user)
    assert stranger.get(f"/batches/{batch.id}/").status_code == 404
    assert stranger.post(f"/batches/{batch.id}/cancel/").status_code == 404
    assert stranger.get(f"/batches/{batch.id}/delete/").status_code == 404
    assert stranger.post(f"/batches/{batch.id}/delete/").status_code == 404
    batch.refresh_from_db()
    assert batch.status == "pending" and batch.jobs.count() == 2
    listed = stranger.get("/history/?view=batches").content.decode()
    assert str(batch.id) not in listed and "No batches yet" in listed
    assert client_for(user).get(f"/batches/{Batch().id}/").status_code == 404  # unknown id


@pytest.mark.django_db
def test_the_batch_page_shows_counts_jobs_and_zip_downloads(make_batch, user, client_for):
    batch = make_batch(user, ["done", "failed", "done"])
    Job.objects.filter(batch=batch, status="failed").update(
        error_code="invalid_image", error_message="Page 1 is damaged."
    )
    r = client_for(user).get(f"/batches/{batch.id}/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "Batch of 3 documents" in page and 'id="batch-status">Failed' in page
    assert "1 of 3 documents failed" in page and "Page 1 is damaged." in page
    assert [c["count"] for c in r.context["counts"] if c["status"] in ("done", "failed")] == [2, 1]
    for job in batch.jobs.all():
        assert f'href="/jobs/{job.id}/"' in page and job.filename in page
    for name in EXPORT_FORMATS:
        assert f'href="/api/batches/{batch.id}/export/?format={name}"' in page
    assert 'id="cancel-batch"' not in page and 'id="batch-progress"' not in page  # ended
    assert f'action="/batches/{batch.id}/delete/"' in page

    # The zip link answers a zip with the done documents.
    export = client_for(user).get(f"/api/batches/{batch.id}/export/?format=txt")
    assert export.status_code == 200 and export["Content-Type"] == "application/zip"


@pytest.mark.django_db
def test_a_running_batch_has_progress_and_no_zip_until_one_is_done(make_batch, user, client_for):
    batch = make_batch(user, ["processing", "pending"])
    page = client_for(user).get(f"/batches/{batch.id}/").content.decode()
    assert 'id="batch-progress"' in page and f'data-batch-url="/api/batches/{batch.id}/"' in page
    assert 'id="cancel-batch"' in page and "/export/" not in page
    assert "js/batch.js" in page
    assert "The downloads appear here when a document is done." in page


@pytest.mark.django_db
def test_cancel_ends_the_unfinished_jobs_and_keeps_the_done_ones(make_batch, user, client_for):
    batch = make_batch(user, ["done", "pending", "processing"])
    client = client_for(user)
    assert client.get(f"/batches/{batch.id}/cancel/").status_code == 405
    r = client.post(f"/batches/{batch.id}/cancel/", follow=True)
    assert r.redirect_chain[-1][0] == f"/batches/{batch.id}/"
    page = r.content.decode()
    assert "Canceled the batch of 3 documents." in page and "The batch was canceled" in page
    batch.refresh_from_db()
    assert batch.status == "canceled"
    assert sorted(batch.jobs.values_list("status", flat=True)) == ["canceled", "canceled", "done"]
    assert 'id="cancel-batch"' not in page
    again = client.post(f"/batches/{batch.id}/cancel/", follow=True).content.decode()
    assert "cannot be canceled" in again


@pytest.mark.django_db
def test_delete_asks_first_then_removes_the_batch_and_its_jobs(
    make_batch, make_job, user, client_for
):
    batch = make_batch(user, ["done", "done"])
    alone = make_job(user, filename="alone.png")
    client = client_for(user)
    confirm = client.get(f"/batches/{batch.id}/delete/").content.decode()
    assert "Delete this batch?" in confirm and Batch.objects.filter(pk=batch.pk).exists()
    page = client.get(f"/batches/{batch.id}/").content.decode()
    assert "Delete this batch?" in page  # the dialog the page's Delete button opens
    r = client.post(f"/batches/{batch.id}/delete/", follow=True)
    assert r.redirect_chain[-1][0] == "/history/?view=batches"
    assert "Deleted the batch of 2 documents" in r.content.decode()
    assert not Batch.objects.filter(pk=batch.pk).exists()
    assert list(Job.objects.filter(owner=user)) == [alone]
    assert client.get(f"/batches/{batch.id}/").status_code == 404


@pytest.mark.django_db
def test_history_marks_a_batchs_jobs_and_lists_batches_in_a_tab(
    make_batch, make_job, user, other_user, client_for
):
    batch = make_batch(user, ["done", "done", "pending"])
    alone = make_job(user, filename="alone.png")
    theirs = make_batch(other_user, ["done", "done"])
    client = client_for(user)

    history = client.get("/history/")
    page = history.content.decode()
    assert page.count(f'href="/batches/{batch.id}/"') == 3 and page.count("batch of 3") == 3
    alone_row = page.split(f'data-job-id="{alone.id}"', 1)[1].split("</tr>", 1)[0]
    assert "batch of" not in alone_row
    assert 'href="/history/?view=batches"' in page

    listed = client.get("/history/?view=batches")
    assert listed.status_code == 200
    html = listed.content.decode()
    assert f'href="/batches/{batch.id}/"' in html and str(theirs.id) not in html
    assert "Batch of 3 documents" in html and "scan-1.png and 2 more" in html
    assert "1 batch" in html and 'aria-current="page">Batches' in html
    assert client.get("/batches/")["Location"] == "/history/?view=batches"

    # The filters: a document's name, the status.
    done = make_batch(user, ["done"])
    Job.objects.filter(batch=done).update(filename="invoice-march.png")
    found = client.get("/history/?view=batches&q=invoice").content.decode()
    assert str(done.id) in found and str(batch.id) not in found
    running = client.get("/history/?view=batches&status=processing").content.decode()
    assert str(batch.id) in running and str(done.id) not in running
    assert [r["batch"].job_count for r in client.get("/history/?view=batches").context["rows"]] == [
        1,
        3,
    ]

    # A job's page links to its batch.
    job = batch.jobs.first()
    assert f'href="/batches/{batch.id}/"' in client.get(f"/jobs/{job.id}/").content.decode()


@pytest.mark.django_db
@pytest.mark.django_db
def test_the_batch_list_pages_newer_and_older(make_batch, user, client_for):
    for _ in range(BATCH_LIST_PAGE_SIZE + 1):
        make_batch(user, ["done"])
    client = client_for(user)
    first = client.get("/history/", {"view": "batches"}).content.decode()
    assert 'aria-label="Batch pages"' in first and "Page 1 of 2" in first
    assert 'page=2" rel="next">Older &rsaquo;</a>' in first
    second = client.get("/history/", {"view": "batches", "page": 2}).content.decode()
    assert 'page=1" rel="prev">&lsaquo; Newer</a>' in second


def test_the_upload_page_sends_batches_only_for_signed_in_users(user, client_for, client, settings):
    page = client_for(user).get("/").content.decode()
    assert 'data-batch-url="/api/batches/"' in page
    assert '<script id="batch-limits" type="application/json">{"items": ' in page
    settings.OCR_ALLOW_ANONYMOUS = True
    anonymous = client.get("/").content.decode()
    assert '<script id="batch-limits" type="application/json">null</script>' in anonymous


# ---------------------------------------------------------------------------
# In the browser, with a real worker.


def _row(name: str) -> str:
    return f"//li[contains(@class,'file-row')][.//span[@class='file-name'][text()='{name}']]"


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@requires_chromium
def test_three_files_chosen_at_once_go_as_one_batch(live_server, celery_worker, tmp_path):
    from selenium.webdriver.common.by import By

    user = UserFactory(username="batch.clerk")
    base = live_server.url
    files = []
    for i, line in enumerate(["Invoice number one", "Second delivery note", "Third receipt"]):
        path = tmp_path / f"page-{i + 1}.png"
        path.write_bytes(render_text([line, "paid in full"]).png())
        files.append(path)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n but then nothing of an image")
    notes = tmp_path / "notes.txt"
    notes.write_text("just some words, no image")

    browser = start_chromium(tmp_path / "profile")
    try:
        browser.set_window_size(1366, 900)
        browser.get(base + "/accounts/login/")
        browser.find_element(By.ID, "id_username").send_keys(user.username)
        browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form [type=submit]").click()
        wait_for(lambda: browser.find_elements(By.ID, "file-input"), what="the upload page")

        # Five files at once: the text file is refused on the spot (not sent), the
        # broken PNG by the server, which refuses the batch naming it; nothing is stored.
        chosen = [*files, broken, notes]
        browser.find_element(By.ID, "file-input").send_keys("\n".join(map(str, chosen)))
        wait_for(
            lambda: "4 files ready" in browser.find_element(By.ID, "selection-summary").text,
            what="the text file to be refused on the spot",
        )
        assert "one batch" in browser.find_element(By.ID, "selection-summary").text
        browser.find_element(By.ID, "submit-files").click()
        refused = wait_for(
            lambda: browser.find_element(By.XPATH, _row("broken.png") + "[@data-state='failed']"),
            what="the broken file to be refused",
        )
        message = refused.find_element(By.CLASS_NAME, "file-error").text
        # Said once, in words, in the file's own row (not "Item 4 (broken.png): ...").
        assert "could not be read as an image or PDF" in message, message
        assert "Item 4" not in message and "truncated or corrupt" not in message, message
        text_file = browser.find_element(By.XPATH, _row("notes.txt"))
        assert text_file.get_attribute("data-state") == "failed"
        assert "not supported" in text_file.find_element(By.CLASS_NAME, "file-error").text
        for path in files:
            row = browser.find_element(By.XPATH, _row(path.name))
            assert row.get_attribute("data-state") == "staged"
            assert "broken.png was refused" in row.find_element(By.CLASS_NAME, "file-status").text
        assert "3 files ready" in browser.find_element(By.ID, "selection-summary").text
        assert not Batch.objects.exists() and not Job.objects.exists()
        _scroll_to(browser, "#file-list")
        browser.save_screenshot(str(SCREENSHOTS / "batches-1-upload-refused.png"))

        # Remove the two bad files, send the rest again: one batch of three.
        for name in ("broken.png", "notes.txt"):
            browser.find_element(By.XPATH, _row(name) + "//button[text()='Remove']").click()
        browser.find_element(By.ID, "submit-files").click()
        group = wait_for(
            lambda: browser.find_element(By.CSS_SELECTOR, "li.batch-group[data-batch-id]"),
            what="the batch group",
        )
        batch = Batch.objects.get()
        assert batch.owner == user and batch.job_count == 3
        assert group.get_attribute("data-batch-id") == str(batch.id)
        assert sorted(batch.jobs.values_list("filename", flat=True)) == [p.name for p in files]
        assert Job.objects.count() == 3
        _scroll_to(browser, "li.batch-group")
        browser.save_screenshot(str(SCREENSHOTS / "batches-2-upload-sent.png"))

        wait_for(
            lambda: group.get_attribute("data-state") == "done",
            timeout=120,
            what="the batch to be done on the upload page",
        )
        rows = group.find_elements(By.CSS_SELECTOR, "li.file-row")
        assert len(rows) == 3
        wait_for(
            lambda: all(r.find_element(By.CLASS_NAME, "file-preview").text for r in rows),
            what="the text previews",
        )
        for row in rows:
            assert row.get_attribute("data-state") == "done"
            row.find_element(By.LINK_TEXT, "Open result")
        assert "Invoice number one" in group.text
        assert group.find_element(By.CLASS_NAME, "batch-status").text.startswith("Done")
        _scroll_to(browser, "li.batch-group")
        browser.save_screenshot(str(SCREENSHOTS / "batches-3-upload-done.png"))
        browser.set_window_size(390, 844)
        _scroll_to(browser, "li.batch-group")
        browser.save_screenshot(str(SCREENSHOTS / "batches-3-upload-done-phone.png"))
        browser.set_window_size(1366, 900)

        # The batch's page: all three done, each linking to its job, zip downloads.
        group.find_element(By.LINK_TEXT, "Open batch").click()
        wait_for(lambda: f"/batches/{batch.id}/" in browser.current_url, what="the batch page")
        assert browser.find_element(By.ID, "batch-status").text == "Done"
        assert browser.find_element(By.ID, "count-done").text == "3"
        job_rows = browser.find_elements(By.CSS_SELECTOR, "tr.batch-job-row")
        assert len(job_rows) == 3
        for row in job_rows:
            assert row.find_element(By.CSS_SELECTOR, ".badge").text == "Done"
            link = row.find_element(By.CSS_SELECTOR, "a.job-link").get_attribute("href")
            assert "/jobs/" in link
        assert browser.find_elements(By.CSS_SELECTOR, "a.download[data-format=pdf]")
        browser.save_screenshot(str(SCREENSHOTS / "batches-4-batch-page.png"))
        browser.set_window_size(390, 844)
        browser.save_screenshot(str(SCREENSHOTS / "batches-5-batch-page-phone.png"))
        browser.set_window_size(1366, 900)

        # History marks the jobs; its Batches tab lists the batch.
        browser.get(base + "/history/")
        badges = browser.find_elements(By.CSS_SELECTOR, "a.batch-link")
        assert len(badges) == 3 and badges[0].text == "batch of 3"
        browser.save_screenshot(str(SCREENSHOTS / "batches-6-history.png"))
        browser.find_element(By.LINK_TEXT, "Batches").click()
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "tr.batch-row"), what="the list")
        assert "Batch of 3 documents" in browser.find_element(By.CSS_SELECTOR, "tr.batch-row").text
        browser.save_screenshot(str(SCREENSHOTS / "batches-7-list.png"))
        browser.set_window_size(390, 844)
        browser.save_screenshot(str(SCREENSHOTS / "batches-8-list-phone.png"))
        browser.set_window_size(1366, 900)

        # Delete from its page, with the confirmation dialog.
        browser.get(base + f"/batches/{batch.id}/")
        browser.find_element(By.ID, "delete-batch").click()
        dialog = wait_for(
            lambda: (
                browser.find_element(By.ID, "confirm-delete").is_displayed()
                and browser.find_element(By.ID, "confirm-delete")
            ),
            what="the confirmation dialog",
        )
        assert "Delete this batch?" in dialog.text
        dialog.find_element(By.ID, "confirm-delete-button").click()
        flash = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".flash"), what="flash")
        assert "Deleted the batch of 3 documents" in flash.text
        assert not Batch.objects.exists() and not Job.objects.exists()

        # A running batch's page follows it live (static/js/batch.js polls the API) and
        # shows the outcome when it ends. This batch is made here and never queued: the
        # test plays the worker by writing the jobs' progress.
        running = Batch.objects.create(
            owner=user, job_count=2, engine="tesseract", languages="eng", status="processing"
        )
        first, second = (
            Job.objects.create(
                owner=user,
                batch=running,
                filename=name,
                content_type="application/pdf",
                sha256="0" * 64,
                engine="tesseract",
                status=status,
                page_count=3,
            )
            for name, status in (("contract.pdf", "processing"), ("annex.pdf", "pending"))
        )
        browser.get(base + f"/batches/{running.id}/")
        label = browser.find_element(By.ID, "batch-progress-label")
        assert "0 of 6 pages" in label.text and "0 of 2 documents ended" in label.text
        Job.objects.filter(pk=first.pk).update(status="done", pages_done=3)
        Job.objects.filter(pk=second.pk).update(status="processing", pages_done=1)
        wait_for(
            lambda: browser.find_element(By.ID, "count-done").text == "1",
            what="the page to follow the batch",
        )
        assert "4 of 6 pages" in browser.find_element(By.ID, "batch-progress-label").text
        row = browser.find_element(By.CSS_SELECTOR, f'tr[data-job-id="{second.id}"]')
        assert row.find_element(By.CLASS_NAME, "pages-cell").text == "1/3"
        assert row.find_element(By.CLASS_NAME, "badge").text == "Processing"
        browser.save_screenshot(str(SCREENSHOTS / "batches-9-running.png"))
        browser.set_window_size(390, 844)
        browser.save_screenshot(str(SCREENSHOTS / "batches-10-running-phone.png"))
        browser.set_window_size(1366, 900)
        Job.objects.filter(pk=second.pk).update(
            status="failed", error_code="invalid_pdf", error_message="Page 2 is damaged."
        )
        Batch.objects.filter(pk=running.pk).update(status="failed")
        wait_for(lambda: not browser.find_elements(By.ID, "batch-progress"), what="the reload")
        assert "1 of 2 documents failed" in browser.page_source
        assert "Page 2 is damaged." in browser.page_source
        assert browser.find_elements(By.CSS_SELECTOR, "a.download[data-format=txt]")
        browser.save_screenshot(str(SCREENSHOTS / "batches-11-ended-with-a-failure.png"))
    finally:
        browser.quit()


def _scroll_to(browser, selector: str) -> None:
    """Bring the element into view (its top just below the sticky top bar)."""
    browser.execute_script(
        "const e = document.querySelector(arguments[0]);"
        "const bar = document.querySelector('.topbar').offsetHeight;"
        "window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - bar - 12);",
        selector,
    )
