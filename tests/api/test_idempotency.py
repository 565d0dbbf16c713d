"""``Idempotency-Key`` on ``POST /api/ocr/`` (app/services/idempotency.py): a retried
request answers the job the first one made; another request with the key is a 409;
concurrent duplicates make exactly one job (a unique constraint, both databases)."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from rest_framework.test import APIClient

from app.models import IdempotencyKey, Job
from tests.factories import UserFactory
from tests.imaging import render_text


def _b64(text: str = "Once only") -> str:
    return base64.b64encode(render_text([text]).png()).decode()


def _post(client: APIClient, key: str | None, body: dict, **kwargs):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/ocr/", body, format="json", **headers, **kwargs)


def _code(response) -> str:
    return response.json()["error"]["code"]


@pytest.mark.django_db
def test_the_same_key_and_request_answer_the_first_job(auth_client):
    body = {"image_base64": _b64(), "languages": "eng", "metadata": {"ref": 7}}
    first = _post(auth_client, "order-7", body)
    assert first.status_code == 202, first.content
    assert first["Location"] == first.json()["url"] and first["Retry-After"] == "1"
    assert "Idempotent-Replayed" not in first

    again = _post(auth_client, "order-7", dict(reversed(list(body.items()))))
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true" and again["Location"] == first["Location"]
    assert Job.objects.count() == 1

    # Without a key, or with another one, a new job each time.
    assert _post(auth_client, None, body).json()["id"] != first.json()["id"]
    assert _post(auth_client, "order-8", body).json()["id"] != first.json()["id"]
    assert Job.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"image_base64": _b64("Another page")},
        {"languages": "eng+deu"},
        {"metadata": {"ref": 8}},
        {"filename": "other.png"},
        {"psm": 6},
    ],
)
def test_the_same_key_with_another_request_is_a_conflict(auth_client, change):
    body = {"image_base64": _b64(), "languages": "eng", "metadata": {"ref": 7}}
    first = _post(auth_client, "k-1", body)
    assert first.status_code == 202, first.content
    r = _post(auth_client, "k-1", {**body, **change})
    assert r.status_code == 409 and _code(r) == "idempotency_conflict"
    assert r.json()["error"]["field"] == "Idempotency-Key"
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_an_upload_is_fingerprinted_by_its_bytes(auth_client):
    png = render_text(["Uploaded once"]).png()
    from django.core.files.uploadedfile import SimpleUploadedFile

    def upload(data: bytes):
        return auth_client.post(
            "/api/ocr/",
            {"image": SimpleUploadedFile("scan.png", data, "image/png")},
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )

    first = upload(png)
    assert first.status_code == 202, first.content
    assert upload(png).json()["id"] == first.json()["id"]
    assert _code(upload(render_text(["Another"]).png())) == "idempotency_conflict"
    job = Job.objects.get()
    assert job.size == len(png)  # the fingerprint read the upload, the job got it whole


@pytest.mark.django_db
def test_keys_belong_to_their_user_and_last_24_hours(auth_client, other_user):
    body = {"image_base64": _b64()}
    mine = _post(auth_client, "shared-name", body).json()["id"]
    theirs_client = APIClient()
    theirs_client.force_authenticate(other_user)
    theirs = _post(theirs_client, "shared-name", body).json()["id"]
    assert mine != theirs

    IdempotencyKey.objects.filter(job_id=mine).update(
        created_at=timezone.now() - timedelta(hours=24, seconds=1)
    )
    later = _post(auth_client, "shared-name", {"image_base64": _b64("A day later")})
    assert later.status_code == 202 and later.json()["id"] not in (mine, theirs)

    from app.retention import retention_sweep

    IdempotencyKey.objects.filter(job_id=theirs).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    assert retention_sweep().idempotency_keys_deleted == 1
    assert Job.objects.filter(pk=theirs).exists()  # the job stays, only the key goes


@pytest.mark.django_db
def test_a_refused_request_records_nothing_and_a_deleted_job_frees_its_key(auth_client):
    r = _post(auth_client, "fix-me", {"image_base64": base64.b64encode(b"not an image").decode()})
    assert r.status_code == 415 and _code(r) == "unsupported_format"
    ok = _post(auth_client, "fix-me", {"image_base64": _b64()})
    assert ok.status_code == 202, ok.content

    assert auth_client.delete(f"/api/ocr/{ok.json()['id']}/").status_code == 204
    again = _post(auth_client, "fix-me", {"image_base64": _b64()})
    assert again.status_code == 202 and again.json()["id"] != ok.json()["id"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "has space", "naïve", "x" * 256, "tab\tkey"])
def test_a_malformed_key_is_refused(auth_client, key):
    r = _post(auth_client, key, {"image_base64": _b64()})
    assert r.status_code == 400 and _code(r) == "invalid"
    assert r.json()["error"]["field"] == "Idempotency-Key"
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_an_anonymous_request_cannot_use_a_key(api_client, settings):
    settings.OCR_ALLOW_ANONYMOUS = True
    r = _post(api_client, "anon-1", {"image_base64": _b64()})
    assert r.status_code == 400 and _code(r) == "invalid"
    assert _post(api_client, None, {"image_base64": _b64()}).status_code == 202


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_duplicates_make_exactly_one_job(live_server):
    """Over real HTTP (the threaded live server), on SQLite and on PostgreSQL."""
    from app import services

    user = UserFactory()
    _, key = services.key_create(owner=user, name="parallel")
    body = {"image_base64": _b64("Twenty times"), "languages": "eng"}

    def send(_):
        return requests.post(
            f"{live_server.url}/api/ocr/",
            json=body,
            headers={"X-API-Key": key, "Idempotency-Key": "burst-1"},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(send, range(20)))
    assert [r.status_code for r in answers] == [202] * 20, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 19
    assert Job.objects.count() == 1 and IdempotencyKey.objects.count() == 1
