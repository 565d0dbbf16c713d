"""GET /api/history/: pagination, search over name and text, ordering, filters."""

import datetime as dt
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from app.models import Job, JobStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def make_job(owner, **kwargs):
    defaults = {
        "owner": owner,
        "filename": "scan.png",
        "content_type": "image/png",
        "sha256": "0" * 64,
        "engine": "tesseract",
        "status": JobStatus.DONE,
    }
    defaults.update(kwargs)
    return Job.objects.create(**defaults)


@pytest.fixture
def jobs(user):
    now = timezone.now()
    made = [
        make_job(user, filename="invoice-march.png", text="Total due 42 EUR", duration=3.0),
        make_job(user, filename="letter.jpg", text="Dear Sir, thank you", duration=1.0),
        make_job(
            user, filename="receipt.tiff", text="Coffee 3.20", status=JobStatus.FAILED, duration=2.0
        ),
        make_job(user, filename="card.png", text="", engine="mrz", status=JobStatus.PENDING),
    ]
    for i, job in enumerate(made):
        Job.objects.filter(pk=job.pk).update(created_at=now - timedelta(days=i))
    return made


def names(response):
    assert response.status_code == 200, response.content
    return [j["filename"] for j in response.json()["results"]]


def test_newest_first_and_counted(auth_client, jobs):
    response = auth_client.get("/api/history/")
    assert names(response) == ["invoice-march.png", "letter.jpg", "receipt.tiff", "card.png"]
    assert response.json()["count"] == 4
    assert "result" not in response.json()["results"][0]


def test_page_size_and_pages(auth_client, jobs):
    first = auth_client.get("/api/history/?page_size=3")
    assert len(first.json()["results"]) == 3 and first.json()["next"]
    second = auth_client.get("/api/history/?page_size=3&page=2")
    assert names(second) == ["card.png"]
    assert auth_client.get("/api/history/?page=9").status_code == 404


def test_search_finds_recognised_text(auth_client, jobs):
    assert names(auth_client.get("/api/history/?search=thank")) == ["letter.jpg"]


def test_search_finds_file_names(auth_client, jobs):
    assert names(auth_client.get("/api/history/?search=invoice")) == ["invoice-march.png"]


def test_ordering(auth_client, jobs):
    assert names(auth_client.get("/api/history/?ordering=filename"))[0] == "card.png"
    by_duration = names(auth_client.get("/api/history/?ordering=-duration"))
    assert by_duration[:3] == ["invoice-march.png", "receipt.tiff", "letter.jpg"]
    assert names(auth_client.get("/api/history/?ordering=status"))[0] == "invoice-march.png"


def test_filters(auth_client, jobs):
    assert names(auth_client.get("/api/history/?status=failed")) == ["receipt.tiff"]
    assert names(auth_client.get("/api/history/?engine=mrz")) == ["card.png"]
    cutoff = (timezone.now() - timedelta(days=1, hours=12)).isoformat()
    response = auth_client.get("/api/history/", {"created_after": cutoff})
    assert names(response) == ["invoice-march.png", "letter.jpg"]
    response = auth_client.get("/api/history/", {"created_before": cutoff})
    assert names(response) == ["receipt.tiff", "card.png"]


def test_dates_with_any_iso_offset_are_compared_in_utc(auth_client, jobs):
    """ISO 8601 allows offsets PostgreSQL refuses (past 15:59): they answer as in UTC."""
    cutoff = timezone.now() - timedelta(days=1, hours=12)
    far = cutoff.astimezone(dt.timezone(timedelta(hours=20, minutes=34))).isoformat()
    assert far.endswith("+20:34")
    response = auth_client.get("/api/history/", {"created_after": far})
    assert names(response) == ["invoice-march.png", "letter.jpg"]
    response = auth_client.get("/api/history/", {"created_before": "0185-07-23T03:03:40+20:34"})
    assert response.status_code == 200 and names(response) == []


def test_a_date_out_of_range_in_utc_is_a_400(auth_client, jobs):
    response = auth_client.get("/api/history/", {"created_before": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == "created_before"


def test_bad_filter_value_is_a_400(auth_client, jobs):
    response = auth_client.get("/api/history/?status=exploded")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "status"


def test_users_see_only_their_own_jobs(jobs):
    other = UserFactory()
    make_job(other, filename="theirs.png")
    client = APIClient()
    client.force_authenticate(other)
    assert names(client.get("/api/history/")) == ["theirs.png"]


def test_staff_see_everyones_jobs(jobs):
    staff = APIClient()
    staff.force_authenticate(UserFactory(is_staff=True))
    assert staff.get("/api/history/").json()["count"] == 4


def test_anonymous_gets_401(api_client, jobs):
    assert api_client.get("/api/history/").status_code == 401
