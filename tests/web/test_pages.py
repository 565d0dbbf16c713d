"""Browser pages and the admin through Django's test client: what a user sees, who may see it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.html import escape

from app.errors import ERROR_CODES
from app.models import Job, JobStatus
from app.pipeline.exporters import EXPORT_FORMATS
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _stored_path(job: Job) -> Path:
    return Path(settings.MEDIA_ROOT) / job.file.name


# ---- sign in, register, sign out ---------------------------------------------------


def test_upload_page_sends_anonymous_visitors_to_sign_in(client: Client, settings) -> None:
    settings.OCR_ALLOW_ANONYMOUS = False
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/")


def test_upload_page_is_open_to_anonymous_visitors_when_allowed(client: Client, settings) -> None:
    settings.OCR_ALLOW_ANONYMOUS = True
    response = client.get("/")
    assert response.status_code == 200
    assert b"Drop files here" in response.content
    assert b"Sign in" in response.content


def test_upload_page_offers_the_engines_and_languages_the_api_reports(
    client_for, user, client: Client, shipped_defaults
) -> None:
    engines = client.get("/api/engines/").json()
    page = client_for(user).get("/").content.decode()
    for engine in engines:  # only the engines that can run (tests/web/test_upload_page.py)
        assert (f'value="{engine["name"]}"' in page) == engine["available"], engine["name"]
    tesseract = next(e for e in engines if e["name"] == "tesseract")
    # The default engine (auto) with "Detect automatically" chosen (languages=auto).
    assert '<option value="auto" selected' in page
    assert 'name="languages" value="auto" checked' in page
    assert 'name="languages" value="eng" checked' not in page
    for code in tesseract["languages"]:
        if code != "osd":
            assert f'value="{code}"' in page
    assert 'value="osd"' not in page
    assert 'for="file-input"' in page and 'id="file-input"' in page and "multiple" in page
    assert "csrfmiddlewaretoken" in page


def test_pages_use_only_local_assets(client_for, user, make_job) -> None:
    job = make_job(user)
    client = client_for(user)
    for url in ("/", "/history/", f"/jobs/{job.id}/", "/accounts/register/"):
        html = client.get(url).content.decode()
        for attr in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not attr.startswith(("http:", "https:", "//")), (url, attr)
    css = client.get("/static/css/app.css")
    assert css.status_code == 200 and b"@import" not in b"".join(css.streaming_content)
    for path in ("/static/js/upload.js", "/static/js/job.js", "/static/img/logo.svg"):
        assert client.get(path).status_code == 200, path


def test_sign_in_with_the_api_account_then_sign_out(client: Client, user) -> None:
    page = client.get("/accounts/login/")
    assert b'<label for="id_username">' in page.content
    wrong = client.post("/accounts/login/", {"username": user.username, "password": "nope"})
    assert wrong.status_code == 200
    assert b"Please enter a correct" in wrong.content
    ok = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert ok.status_code == 302 and ok["Location"] == "/"
    assert user.username.encode() in client.get("/").content
    out = client.post("/accounts/logout/")
    assert out.status_code == 302
    assert client.get("/history/").status_code == 302


def test_sign_in_form_is_csrf_protected(user) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403


def test_register_creates_an_account_with_email_and_signs_in(client: Client) -> None:
    response = client.post(
        "/accounts/register/",
        {
            "username": "newperson",
            "email": "new@example.com",
            "password1": "a-long-and-unusual-pass",
            "password2": "a-long-and-unusual-pass",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/"
    created = get_user_model().objects.get(username="newperson")
    assert created.email == "new@example.com"
    assert b"newperson" in client.get("/").content
    # The same account works for the API.
    token = Client().post(
        "/api/token_obtain_pair/",
        {"username": "newperson", "password": "a-long-and-unusual-pass"},
        content_type="application/json",
    )
    assert token.status_code == 200


def test_register_shows_errors_next_to_the_fields(client: Client, user) -> None:
    response = client.post(
        "/accounts/register/",
        {"username": user.username.upper(), "email": "x", "password1": "123", "password2": "124"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "A user with that username already exists." in html
    assert "Enter a valid email address." in html
    assert "The two password fields" in html


# ---- job result page -----------------------------------------------------------------


def test_job_page_shows_text_boxes_image_and_every_export(client_for, user, make_job) -> None:
    job = make_job(user)
    html = client_for(user).get(f"/jobs/{job.id}/").content.decode()
    assert "letter.png" in html
    assert "Quarterly invoice total\npaid in full</textarea>" in html
    assert len(re.findall(r'<rect class="word (hi|mid|lo)"', html)) == 6
    assert 'aria-label="Quarterly \u2014 96%"' in html
    assert 'aria-label="invoice \u2014 72%"' in html
    assert f'src="/api/ocr/{job.id}/pages/1/image/"' in html
    for name in EXPORT_FORMATS:
        assert f'href="/api/ocr/{job.id}/export/?format={name}"' in html
    assert 'id="copy-text"' in html


def test_job_page_navigates_pages_of_a_multi_page_job(client_for, user, make_job) -> None:
    job = make_job(user, filename="report.pdf", pages=[["first page words"], ["second page"]])
    client = client_for(user)
    first = client.get(f"/jobs/{job.id}/").content.decode()
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    second = client.get(f"/jobs/{job.id}/?page=2").content.decode()
    assert "second page</textarea>" in second
    assert f"/api/ocr/{job.id}/pages/2/image/" in second
    assert 'href="?page=1"' in second


def test_failed_job_page_explains_the_error_in_words(client_for, user, make_job) -> None:
    job = make_job(
        user,
        status=JobStatus.FAILED,
        error_code="engine_crash",
        error_message="It stopped 3 times.",
    )
    html = client_for(user).get(f"/jobs/{job.id}/").content.decode()
    assert "Recognition failed" in html
    assert "The OCR engine stopped unexpectedly on this document." in html
    assert "It stopped 3 times." in html


@pytest.mark.parametrize("code", ["invalid_pdf", "encrypted_pdf", "provider_auth", "invalid_pages"])
def test_failed_job_page_shows_the_tables_message_for_its_code(
    client_for, user, make_job, code
) -> None:
    job = make_job(
        user, status=JobStatus.FAILED, error_code=code, error_message="Page 3: detail from the job."
    )
    html = client_for(user).get(f"/jobs/{job.id}/").content.decode()
    assert "Recognition failed" in html
    assert escape(ERROR_CODES[code].message) in html
    assert "Page 3: detail from the job." in html
    assert "The job failed." not in html
    # Uploading again is offered when the file is the trouble, not for a provider's key.
    assert ("Upload the document again" in html) == (code in ("invalid_pdf", "encrypted_pdf"))


def test_a_timeout_is_not_answered_with_upload_it_again(client_for, user, make_job) -> None:
    job = make_job(
        user, status=JobStatus.FAILED, error_code="timeout", error_message="Page 2: took 600 s."
    )
    html = client_for(user).get(f"/jobs/{job.id}/").content.decode()
    assert escape(ERROR_CODES["timeout"].message) in html
    assert "Run it again" in html and "only some pages" in html
    assert "Upload the document again" not in html


def test_upload_page_and_admin_take_error_messages_from_the_table(
    client_for, staff_user, user, make_job
) -> None:
    html = client_for(user).get("/").content.decode()
    words = json.loads(re.search(r'id="error-messages"[^>]*>(.*?)</script>', html, re.S)[1])
    assert words == {code: entry.message for code, entry in ERROR_CODES.items()}
    job = make_job(user, status=JobStatus.FAILED, error_code="encrypted_pdf")
    admin_html = client_for(staff_user).get(f"/admin/ocr/job/{job.id}/change/").content.decode()
    assert escape(ERROR_CODES["encrypted_pdf"].message) in admin_html


def test_unfinished_job_page_shows_live_progress(client_for, user, make_job) -> None:
    job = make_job(user, status=JobStatus.PENDING)
    html = client_for(user).get(f"/jobs/{job.id}/").content.decode()
    assert 'id="job-progress"' in html and f'data-job-url="/api/ocr/{job.id}/"' in html
    assert "Waiting for a worker" in html


def test_a_user_never_sees_another_users_job(client_for, user, other_user, make_job) -> None:
    job = make_job(other_user)
    client = client_for(user)
    assert client.get(f"/jobs/{job.id}/").status_code == 404
    assert client.get(f"/api/ocr/{job.id}/pages/1/image/").status_code == 404
    assert client.get(f"/api/ocr/{job.id}/file/").status_code == 404
    assert client.get(f"/api/ocr/{job.id}/export/?format=txt").status_code == 404
    assert b"letter.png" not in client.get("/history/").content


def test_owner_gets_page_image_and_file_through_checked_views(client_for, user, make_job) -> None:
    job = make_job(user)
    client = client_for(user)
    image = client.get(f"/api/ocr/{job.id}/pages/1/image/")
    assert image.status_code == 200 and image["Content-Type"] in ("image/png", "image/jpeg")
    assert client.get(f"/api/ocr/{job.id}/file/").status_code == 200


def test_uploads_are_not_public_media_files(client_for, user, other_user, make_job) -> None:
    job = make_job(other_user)
    assert _stored_path(job).exists()
    for client in (Client(), client_for(user), client_for(other_user)):
        assert client.get(f"/media/{job.file.name}").status_code == 404
        assert client.get(f"/static/{job.file.name}").status_code == 404
        assert client.get(f"/static/../media/{job.file.name}").status_code == 404


def test_anonymous_visitors_cannot_open_a_users_job(client: Client, settings, user, make_job):
    settings.OCR_ALLOW_ANONYMOUS = True
    job = make_job(user)
    assert client.get(f"/jobs/{job.id}/").status_code == 404
    settings.OCR_ALLOW_ANONYMOUS = False
    assert client.get(f"/jobs/{job.id}/").status_code == 302


def test_anonymous_job_opens_by_its_id_when_anonymous_use_is_on(client: Client, settings, make_job):
    settings.OCR_ALLOW_ANONYMOUS = True
    job = make_job(None)
    html = client.get(f"/jobs/{job.id}/").content.decode()
    assert "Quarterly invoice total" in html
    assert "js-confirm-delete" not in html


# ---- history ------------------------------------------------------------------------


def test_history_lists_own_jobs_with_their_details(client_for, user, other_user, make_job) -> None:
    mine = make_job(user, filename="mine.png")
    make_job(other_user, filename="theirs.png")
    html = client_for(user).get("/history/").content.decode()
    assert "mine.png" in html and "theirs.png" not in html
    assert f'src="/api/ocr/{mine.id}/pages/1/image/?max_width=160"' in html
    assert "English" in html and "1.2 s" in html and "Done" in html
    assert "1 job" in html


def test_history_searches_name_and_text_and_filters(client_for, user, make_job) -> None:
    make_job(user, filename="alpha.png", pages=[["zebra crossing ahead"]])
    make_job(user, filename="beta.png", pages=[["mountain pass closed"]])
    make_job(user, filename="gamma.png", status=JobStatus.FAILED, error_code="timeout")
    client = client_for(user)

    by_text = client.get("/history/", {"q": "zebra"}).content.decode()
    assert "alpha.png" in by_text and "beta.png" not in by_text
    by_name = client.get("/history/", {"q": "BETA"}).content.decode()
    assert "beta.png" in by_name and "alpha.png" not in by_name
    failed = client.get("/history/", {"status": "failed"}).content.decode()
    assert "gamma.png" in failed and "alpha.png" not in failed
    none = client.get("/history/", {"q": "nothing-like-this"}).content.decode()
    assert "No job matches" in none


def test_history_filters_by_date(client_for, user, make_job) -> None:
    from datetime import timedelta

    from django.utils import timezone

    old = make_job(user, filename="old.png")
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    make_job(user, filename="new.png")
    today = timezone.localdate().isoformat()
    client = client_for(user)
    recent = client.get("/history/", {"date_from": today}).content.decode()
    assert "new.png" in recent and "old.png" not in recent
    before = (timezone.localdate() - timedelta(days=7)).isoformat()
    older = client.get("/history/", {"date_to": before}).content.decode()
    assert "old.png" in older and "new.png" not in older


def test_history_paginates_and_keeps_the_filters(client_for, user, make_job) -> None:
    for i in range(23):
        make_job(user, filename=f"scan-{i:02d}.png", pages=[["same words"]])
    client = client_for(user)
    first = client.get("/history/", {"q": "scan"}).content.decode()
    assert "Page 1 of 2" in first and first.count('class="job-row"') == 20
    assert 'href="?q=scan&amp;page=2" rel="next">Next &rsaquo;</a>' in first
    assert (
        '<span class="btn btn-sm disabled" aria-disabled="true">&lsaquo; Previous</span>' in first
    )
    second = client.get("/history/", {"q": "scan", "page": 2}).content.decode()
    assert second.count('class="job-row"') == 3
    assert 'href="?q=scan&amp;page=1" rel="prev">&lsaquo; Previous</a>' in second


def test_history_requires_sign_in(client: Client) -> None:
    response = client.get("/history/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_delete_asks_first_then_removes_the_job_and_its_file(
    client_for, user, make_job, django_capture_on_commit_callbacks
) -> None:
    job = make_job(user)
    path = _stored_path(job)
    client = client_for(user)
    confirm = client.get(f"/jobs/{job.id}/delete/")
    assert b"Delete this job?" in confirm.content
    assert Job.objects.filter(pk=job.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/jobs/{job.id}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == "/history/"
    assert "Deleted \u201cletter.png\u201d." in response.content.decode()
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not path.exists()


def test_a_user_cannot_delete_another_users_job(client_for, user, other_user, make_job) -> None:
    job = make_job(other_user)
    assert client_for(user).post(f"/jobs/{job.id}/delete/").status_code == 404
    assert Job.objects.filter(pk=job.pk).exists() and _stored_path(job).exists()


# ---- admin ----------------------------------------------------------------------------


def test_admin_job_list_shows_columns_filters_and_searches_by_id(
    client_for, staff_user, user, make_job
) -> None:
    job = make_job(user, filename="contract.png")
    make_job(user, filename="other.png")
    client = client_for(staff_user)
    html = client.get("/admin/ocr/job/").content.decode()
    assert "contract.png" in html and user.username in html
    assert f'src="/api/ocr/{job.id}/pages/1/image/?max_width=120"' in html
    for heading in ("By status", "By engine", "By owner", "By created at"):
        assert heading in html
    for column in ("original name", "owner", "status", "engine", "languages", "pages", "duration"):
        assert f">{column.capitalize()}<" in html or column in html.lower()
    found = client.get("/admin/ocr/job/", {"q": str(job.id)}).content.decode()
    assert "contract.png" in found and "other.png" not in found
    by_text = client.get("/admin/ocr/job/", {"q": "invoice"}).content.decode()
    assert "contract.png" in by_text
    done = client.get("/admin/ocr/job/", {"status__exact": "failed"}).content.decode()
    assert "contract.png" not in done


def test_admin_job_detail_shows_image_boxes_pages_and_read_only_result(
    client_for, staff_user, user, make_job
) -> None:
    job = make_job(user, pages=[["page one here"], ["page two"]])
    html = client_for(staff_user).get(f"/admin/ocr/job/{job.id}/change/").content.decode()
    assert f'src="/api/ocr/{job.id}/pages/1/image/"' in html
    assert html.count('class="ocr-word') == 3
    assert "Re-run OCR" in html
    assert "page two" in html  # pages inline
    assert 'name="text"' not in html and 'name="status"' not in html  # read-only


def test_admin_rerun_action_resets_the_job(client_for, staff_user, user, make_job) -> None:
    job = make_job(user)
    client = client_for(staff_user)
    response = client.post(
        "/admin/ocr/job/", {"action": "rerun_jobs", "_selected_action": [str(job.pk)]}, follow=True
    )
    assert "Queued 1 job again." in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.text == "" and job.pages.count() == 0
    again = make_job(user)
    response = client.post(f"/admin/ocr/job/{again.pk}/rerun/", follow=True)
    assert "is queued again" in response.content.decode()
    again.refresh_from_db()
    assert again.status == JobStatus.PENDING


def test_admin_delete_action_removes_jobs_and_files(
    client_for, staff_user, user, make_job, django_capture_on_commit_callbacks
) -> None:
    job = make_job(user)
    path = _stored_path(job)
    client = client_for(staff_user)
    confirm = client.post(
        "/admin/ocr/job/", {"action": "delete_selected", "_selected_action": [str(job.pk)]}
    )
    assert b"Are you sure" in confirm.content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/ocr/job/",
            {"action": "delete_selected", "_selected_action": [str(job.pk)], "post": "yes"},
        )
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not path.exists()


def test_admin_users_show_job_counts_with_a_link(client_for, staff_user, user, make_job) -> None:
    make_job(user)
    make_job(user)
    html = client_for(staff_user).get("/admin/auth/user/").content.decode()
    assert f'href="/admin/ocr/job/?owner__id__exact={user.pk}">2 jobs</a>' in html


def test_admin_is_for_staff_only(client_for, user) -> None:
    response = client_for(user).get("/admin/ocr/job/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
