"""GET/DELETE /api/ocr/{id}/ and the per-page endpoints: ownership and content."""

import uuid
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from app.models import Job, JobStatus, Page
from tests.api.helpers import upload
from tests.factories import UserFactory
from tests.imaging import render_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(auth_client):
    response = auth_client.post("/api/ocr/", {"image": upload(render_text(["Mine"]).png())})
    return Job.objects.get(pk=response.json()["id"])


def test_owner_sees_status_and_fields(auth_client, job):
    body = auth_client.get(f"/api/ocr/{job.id}/").json()
    assert body["id"] == str(job.id)
    assert body["status"] == "pending"
    assert body["result"] is None and body["text"] == "" and body["error"] is None
    assert body["page_count"] == 1 and body["pages_done"] == 0
    for key in ("created_at", "started_at", "finished_at", "duration", "sha256", "size"):
        assert key in body


def test_failed_job_shows_its_error(auth_client, job):
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, error_code="timeout", error_message="too slow"
    )
    body = auth_client.get(f"/api/ocr/{job.id}/").json()
    assert body["status"] == "failed"
    assert body["error"] == {"code": "timeout", "message": "too slow"}


def test_another_users_job_is_not_found(job):
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    for url in (
        f"/api/ocr/{job.id}/",
        f"/api/ocr/{job.id}/pages/",
        f"/api/ocr/{job.id}/pages/1/",
        f"/api/ocr/{job.id}/file/",
        f"/api/ocr/{job.id}/export/?format=txt",
    ):
        response = stranger.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
    assert stranger.delete(f"/api/ocr/{job.id}/").status_code == 404
    assert Job.objects.filter(pk=job.pk).exists()


def test_unknown_job_is_not_found(auth_client):
    response = auth_client.get(f"/api/ocr/{uuid.uuid4()}/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No such job."}}


def test_staff_see_every_job(job):
    staff = APIClient()
    staff.force_authenticate(UserFactory(is_staff=True))
    assert staff.get(f"/api/ocr/{job.id}/").status_code == 200


def test_delete_removes_the_job_and_its_pages(auth_client, job):
    Page.objects.create(job=job, number=1, text="x")
    response = auth_client.delete(f"/api/ocr/{job.id}/")
    assert response.status_code == 204
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not Page.objects.filter(job_id=job.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_delete_removes_the_stored_file(auth_client):
    response = auth_client.post("/api/ocr/", {"image": upload(render_text(["Gone"]).png())})
    job = Job.objects.get(pk=response.json()["id"])
    path = Path(job.file.path)
    assert path.exists()
    assert auth_client.delete(f"/api/ocr/{job.id}/").status_code == 204
    assert not path.exists()


def test_original_file_download(auth_client, job):
    response = auth_client.get(f"/api/ocr/{job.id}/file/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == job.file.open("rb").read()
    assert "attachment" in response["Content-Disposition"]


def test_pages_appear_as_they_are_stored(auth_client, job):
    assert auth_client.get(f"/api/ocr/{job.id}/pages/").json() == []
    assert auth_client.get(f"/api/ocr/{job.id}/pages/1/").status_code == 404
    Page.objects.create(job=job, number=1, text="Mine", width=10, height=5, result={"x": 1})
    pages = auth_client.get(f"/api/ocr/{job.id}/pages/").json()
    assert [p["number"] for p in pages] == [1]
    assert auth_client.get(f"/api/ocr/{job.id}/pages/1/").json()["text"] == "Mine"


def test_export_needs_a_done_job(auth_client, job):
    response = auth_client.get(f"/api/ocr/{job.id}/export/?format=txt")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_ready"


def test_export_format_must_be_known(auth_client, job):
    response = auth_client.get(f"/api/ocr/{job.id}/export/?format=docx")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "format"


def test_unauthenticated_requests_get_401(api_client, job):
    response = api_client.get(f"/api/ocr/{job.id}/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
