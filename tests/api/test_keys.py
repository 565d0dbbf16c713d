"""API keys (``/api/keys/``, app/api/keys.py, app/services/keys.py): made with a sign-in,
shown once, stored hashed, accepted as ``Authorization: Api-Key`` and ``X-API-Key`` on
every ``/api/`` call, revoked and expired ones refused, throttles shared with JWT."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from app.models import ApiKey, Job
from tests.factories import PASSWORD, UserFactory
from tests.imaging import render_text

pytestmark = pytest.mark.django_db


def _jwt_client(user) -> APIClient:
    client = APIClient()
    tokens = client.post(
        "/api/token_obtain_pair/", {"username": user.username, "password": PASSWORD}
    ).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


def _make_key(client: APIClient, name: str = "script", **extra) -> dict:
    r = client.post("/api/keys/", {"name": name, **extra}, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def _key_client(key: str, *, header: str = "authorization") -> APIClient:
    client = APIClient()
    if header == "authorization":
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    else:
        client.credentials(HTTP_X_API_KEY=key)
    return client


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _error(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_a_key_is_shown_once_stored_hashed_and_listed_without_it(user):
    signed_in = _jwt_client(user)
    made = _make_key(signed_in, "nightly import")
    assert set(made) == {
        "id",
        "name",
        "prefix",
        "key",
        "created_at",
        "expires_at",
        "last_used_at",
        "expired",
    }
    assert made["name"] == "nightly import" and made["expires_at"] is None
    prefix, _, secret = made["key"].partition(".")
    assert prefix == made["prefix"] and len(prefix) == 8 and len(secret) == 32

    row = ApiKey.objects.get(uid=made["id"])
    assert row.owner == user
    assert made["key"] not in (row.hashed_key, row.id)  # only the hash is stored
    assert row.hashed_key == "sha512$$" + hashlib.sha512(made["key"].encode()).hexdigest()

    listed = signed_in.get("/api/keys/").json()
    assert [k["id"] for k in listed["results"]] == [made["id"]]
    assert "key" not in listed["results"][0]
    shown = signed_in.get(f"/api/keys/{made['id']}/").json()
    assert "key" not in shown and shown["prefix"] == prefix


@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
def test_a_key_authenticates_every_api_call_as_its_owner(user, other_user, header):
    key = _make_key(_jwt_client(user))["key"]
    theirs = Job.objects.create(owner=other_user, engine="tesseract", content_type="image/png")
    client = _key_client(key, header=header)

    r = client.post("/api/ocr/", {"image_base64": _b64(render_text(["Key"]).png())}, format="json")
    assert r.status_code == 202, r.content
    job = Job.objects.get(pk=r.json()["id"])
    assert job.owner == user
    assert client.get(f"/api/ocr/{job.pk}/").status_code == 200
    assert [j["id"] for j in client.get("/api/history/").json()["results"]] == [str(job.pk)]
    assert _error(client.get(f"/api/ocr/{theirs.pk}/")) == (404, "not_found")
    assert ApiKey.objects.get(prefix=key[:8]).last_used_at is not None


def test_a_key_lists_and_revokes_keys_but_cannot_make_one(user):
    signed_in = _jwt_client(user)
    made = _make_key(signed_in)
    other = _make_key(signed_in, "other")
    client = _key_client(made["key"])
    r = client.post("/api/keys/", {"name": "successor"}, format="json")
    assert _error(r) == (403, "permission_denied") and "sign-in" in r.json()["error"]["message"]
    assert ApiKey.objects.filter(owner=user).count() == 2
    listed = client.get("/api/keys/").json()["results"]
    assert {k["id"] for k in listed} == {made["id"], other["id"]} and "key" not in listed[0]
    assert client.delete(f"/api/keys/{other['id']}/").status_code == 204
    assert client.delete(f"/api/keys/{made['id']}/").status_code == 204  # itself, too
    assert _error(client.get("/api/keys/")) == (401, "authentication_failed")


def test_a_revoked_key_stops_working_at_once_and_leaves_the_list(user):
    signed_in = _jwt_client(user)
    made = _make_key(signed_in)
    client = _key_client(made["key"])
    assert client.get("/api/history/").status_code == 200

    assert signed_in.delete(f"/api/keys/{made['id']}/").status_code == 204
    r = client.get("/api/history/")
    assert _error(r) == (401, "authentication_failed")
    assert r["WWW-Authenticate"].startswith("Bearer")  # the first scheme DRF offers
    assert signed_in.get("/api/keys/").json()["results"] == []
    assert _error(signed_in.get(f"/api/keys/{made['id']}/")) == (404, "not_found")
    assert _error(signed_in.delete(f"/api/keys/{made['id']}/")) == (404, "not_found")
    assert ApiKey.objects.get(uid=made["id"]).revoked  # kept for the admin


def test_an_expired_key_is_refused_and_an_expiry_must_be_in_the_future(user):
    signed_in = _jwt_client(user)
    soon = timezone.now() + timedelta(hours=1)
    made = _make_key(signed_in, expires_at=soon.isoformat())
    assert made["expires_at"] and made["expired"] is False
    client = _key_client(made["key"])
    assert client.get("/api/history/").status_code == 200

    ApiKey.objects.filter(uid=made["id"]).update(expiry_date=timezone.now() - timedelta(seconds=1))
    r = client.get("/api/history/")
    assert _error(r) == (401, "authentication_failed")
    assert "expired" in r.json()["error"]["message"]
    assert signed_in.get("/api/keys/").json()["results"][0]["expired"] is True

    past = (timezone.now() - timedelta(days=1)).isoformat()
    r = signed_in.post("/api/keys/", {"name": "late", "expires_at": past}, format="json")
    assert _error(r) == (400, "invalid") and r.json()["error"]["field"] == "expires_at"


@pytest.mark.parametrize(
    "authorization",
    [
        "Api-Key nonsense",
        "Api-Key abcdefgh.wrongsecretwrongsecretwrongsecre",
        "Api-Key ",
        "Api-Key two parts",
        "api-key " + "x" * 500,
    ],
)
def test_a_key_that_is_not_valid_is_refused_never_anonymous(user, settings, authorization):
    settings.OCR_ALLOW_ANONYMOUS = True  # anonymous OCR allowed, yet a bad key is refused
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)
    r = client.post("/api/ocr/", {"image_base64": _b64(render_text().png())}, format="json")
    assert _error(r) == (401, "authentication_failed")
    assert not Job.objects.exists()


def test_a_key_of_a_disabled_account_is_refused(user):
    key = _make_key(_jwt_client(user))["key"]
    user.is_active = False
    user.save()
    assert _error(_key_client(key).get("/api/history/")) == (401, "authentication_failed")


def test_another_users_key_cannot_be_seen_or_revoked(user, other_user):
    made = _make_key(_jwt_client(user))
    theirs = _jwt_client(other_user)
    assert theirs.get("/api/keys/").json()["results"] == []
    assert _error(theirs.get(f"/api/keys/{made['id']}/")) == (404, "not_found")
    assert _error(theirs.delete(f"/api/keys/{made['id']}/")) == (404, "not_found")
    assert not ApiKey.objects.get(uid=made["id"]).revoked


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"name": "line\nbreak"}, "name"),
        ({"name": "bidi\u202eevil"}, "name"),
        ({"name": "ok", "expires_at": "tomorrow"}, "expires_at"),
    ],
)
def test_bad_key_requests_are_refused_naming_the_field(user, body, field):
    r = _jwt_client(user).post("/api/keys/", body, format="json")
    assert _error(r) == (400, "invalid") and r.json()["error"]["field"] == field
    assert not ApiKey.objects.exists()


def test_a_user_holds_at_most_max_keys(user, monkeypatch):
    from app.services import keys

    monkeypatch.setattr(keys, "MAX_KEYS_PER_USER", 2)
    signed_in = _jwt_client(user)
    first = _make_key(signed_in, "one")
    _make_key(signed_in, "two")
    r = signed_in.post("/api/keys/", {"name": "three"}, format="json")
    assert _error(r) == (400, "invalid") and "revoke one" in r.json()["error"]["message"]
    signed_in.delete(f"/api/keys/{first['id']}/")
    _make_key(signed_in, "three")


def test_throttles_count_per_user_whatever_the_credential(user, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle

    cache.clear()
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "3/minute")
    signed_in = _jwt_client(user)
    key_client = _key_client(_make_key(signed_in)["key"])  # one request
    assert signed_in.get("/api/history/").status_code == 200  # two
    assert key_client.get("/api/history/").status_code == 200  # three
    r = key_client.get("/api/history/")
    assert _error(r) == (429, "quota_exceeded") and int(r["Retry-After"]) > 0
    assert signed_in.get("/api/history/").status_code == 429  # the same user's budget
    assert _jwt_client(UserFactory()).get("/api/history/").status_code == 200
    cache.clear()
