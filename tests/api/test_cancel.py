"""``POST /api/ocr/{id}/cancel/``: who may cancel, and what a finished job answers."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from app.models import Job
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _job(owner, status: str = "pending") -> Job:
    return Job.objects.create(
        owner=owner, engine="tesseract", content_type="image/png", page_count=1, status=status
    )


def test_the_owner_cancels_a_pending_job(auth_client, user):
    job = _job(user)
    response = auth_client.post(f"/api/ocr/{job.id}/cancel/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == str(job.id) and body["status"] == "canceled"
    assert body["finished_at"] and body["error"] is None
    job.refresh_from_db()
    assert job.status == "canceled"


def test_a_processing_job_is_canceled(auth_client, user):
    job = _job(user, "processing")
    assert auth_client.post(f"/api/ocr/{job.id}/cancel/").json()["status"] == "canceled"


def test_another_users_job_is_not_found(auth_client, other_user):
    job = _job(other_user)
    response = auth_client.post(f"/api/ocr/{job.id}/cancel/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    job.refresh_from_db()
    assert job.status == "pending"


@pytest.mark.parametrize("status", ["done", "failed", "canceled"])
def test_a_finished_job_answers_409(auth_client, user, status):
    job = _job(user, status)
    response = auth_client.post(f"/api/ocr/{job.id}/cancel/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_finished"
    job.refresh_from_db()
    assert job.status == status and job.finished_at is None  # untouched


def test_staff_may_cancel_anyones_job(other_user):
    job = _job(other_user)
    staff = APIClient()
    staff.force_authenticate(UserFactory(is_staff=True))
    assert staff.post(f"/api/ocr/{job.id}/cancel/").json()["status"] == "canceled"


def test_unauthenticated_and_wrong_method(api_client, auth_client, user):
    job = _job(user)
    assert api_client.post(f"/api/ocr/{job.id}/cancel/").status_code == 401
    assert auth_client.get(f"/api/ocr/{job.id}/cancel/").status_code == 405
    assert (
        auth_client.post("/api/ocr/00000000-0000-0000-0000-000000000000/cancel/").status_code == 404
    )
