"""The job page's Cancel button and "Run again" form (plain POST forms, no script needed)."""

from __future__ import annotations

import pytest

from app.models import Job, JobStatus
from tests.api.helpers import upload
from tests.conftest import wait_for_job
from tests.imaging import render_text


@pytest.mark.django_db
@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.PROCESSING])
def test_an_unfinished_job_has_a_cancel_button_that_works(client_for, user, make_job, status):
    job = make_job(user, status=status)
    client = client_for(user)
    page = client.get(f"/jobs/{job.id}/").content.decode()
    assert f'action="/jobs/{job.id}/cancel/"' in page and 'id="cancel-job"' in page
    assert 'id="run-again"' not in page
    response = client.post(f"/jobs/{job.id}/cancel/", follow=True)
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == "canceled"
    page = response.content.decode()
    assert "Canceled" in page and "Recognition was canceled" in page
    assert 'id="cancel-job"' not in page and 'id="run-again"' in page
    assert "No page was recognised before it stopped." in page


@pytest.mark.django_db
def test_cancel_is_post_only_and_for_visible_jobs(client_for, user, other_user, make_job):
    job = make_job(user, status=JobStatus.PENDING)
    assert client_for(user).get(f"/jobs/{job.id}/cancel/").status_code == 405
    assert client_for(other_user).post(f"/jobs/{job.id}/cancel/").status_code == 404
    job.refresh_from_db()
    assert job.status == "pending"
    done = make_job(user)
    page = client_for(user).get(f"/jobs/{done.id}/").content.decode()
    assert 'id="cancel-job"' not in page
    response = client_for(user).post(f"/jobs/{done.id}/cancel/", follow=True)
    assert "already finished" in response.content.decode()
    done.refresh_from_db()
    assert done.status == "done"


@pytest.mark.django_db
def test_run_again_refuses_bad_options_and_unfinished_jobs(client_for, user, make_job):
    job = make_job(user)
    client = client_for(user)
    response = client.post(
        f"/jobs/{job.id}/rerun/",
        {"engine": "tesseract", "languages": ["xxx"], "psm": "", "pages": ""},
        follow=True,
    )
    assert "Not run again" in response.content.decode()
    response = client.post(f"/jobs/{job.id}/rerun/", {"psm": "99"}, follow=True)
    assert "Not run again" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "done" and job.pages.exists()  # nothing changed

    pending = make_job(user, status=JobStatus.PENDING)
    response = client.post(f"/jobs/{pending.id}/rerun/", {"psm": "6"}, follow=True)
    assert "Not run again" in response.content.decode()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_run_again_with_other_options(auth_client, user, client_for, celery_worker):
    lines = ["Run again with", "another page layout"]
    job_id = auth_client.post("/api/ocr/", {"image": upload(render_text(lines).png())}).json()["id"]
    assert wait_for_job(job_id).status == "done"
    client = client_for(user)
    page = client.get(f"/jobs/{job_id}/").content.decode()
    assert f'action="/jobs/{job_id}/rerun/"' in page and 'id="run-again"' in page
    response = client.post(
        f"/jobs/{job_id}/rerun/",
        {"engine": "tesseract", "languages": ["eng", "deu"], "psm": "6", "pages": ""},
        follow=True,
    )
    assert "is running again" in response.content.decode()
    job = wait_for_job(job_id)
    assert job.status == "done", (job.error_code, job.error_message)
    assert job.options.get("psm") == 6 and job.language_list == ["eng", "deu"]
    assert "another page layout" in job.text and job.attempts == 1
    assert Job.objects.get(pk=job_id).pages.count() == 1
