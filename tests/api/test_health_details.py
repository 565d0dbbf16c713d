"""/api/health/: the status for everyone, the checks' details for staff and the metrics token."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests"
CHECKS = {"database", "broker", "tesseract", "workers", "disk"}


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.OCR_METRICS_TOKEN = TOKEN
    # No worker runs here: readiness must not depend on one for these tests.
    settings.OCR_HEALTH_REQUIRE_WORKER = False
    settings.OCR_HEALTH_WORKER_TIMEOUT = 0.2


def _leaks(body: str, settings) -> list[str]:
    """Things the public answer must not show: paths, free disk, hosts, versions."""
    found = [s for s in (str(settings.VAR_DIR), str(settings.MEDIA_ROOT)) if s in body]
    found += [w for w in ("MB free", "worker", "tesseract", "sqlite", "seconds") if w in body]
    return found


def test_anonymous_callers_get_the_status_only(api_client, settings):
    response = api_client.get("/api/health/")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok"}
    assert _leaks(response.content.decode(), settings) == []


def test_anonymous_callers_get_fail_only_when_a_check_fails(api_client, settings):
    settings.OCR_HEALTH_MIN_FREE_MB = 10**12  # no disk has that much room
    response = api_client.get("/api/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "fail"}
    assert _leaks(response.content.decode(), settings) == []


def test_the_public_status_is_kept_a_few_seconds_and_staff_get_fresh_checks(api_client, settings):
    """Anonymous calls within the window reuse the last status (the checks ping the
    broker and the workers: a flood of them must not run them per call); the metrics
    token sees the checks as they are now."""
    settings.OCR_HEALTH_PUBLIC_CACHE_SECONDS = 60
    assert api_client.get("/api/health/").status_code == 200
    settings.OCR_HEALTH_MIN_FREE_MB = 10**12  # the disk check now fails
    assert api_client.get("/api/health/").json() == {"status": "ok"}
    fresh = APIClient(HTTP_AUTHORIZATION=f"Bearer {TOKEN}").get("/api/health/")
    assert fresh.status_code == 503 and fresh.json()["checks"]["disk"]["ok"] is False
    settings.OCR_HEALTH_PUBLIC_CACHE_SECONDS = 0
    assert api_client.get("/api/health/").status_code == 503


def test_ordinary_users_get_the_status_only(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    assert client.get("/api/health/").json() == {"status": "ok"}


@pytest.mark.parametrize("how", ["session", "jwt"])
def test_staff_users_get_every_check(how):
    staff = UserFactory(is_staff=True)
    if how == "session":
        client = Client()
        client.force_login(staff)
    else:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(staff)}")
    body = client.get("/api/health/").json()
    assert body["status"] == "ok" and set(body["checks"]) == CHECKS
    assert "MB free" in body["checks"]["disk"]["detail"]


def test_the_metrics_token_gets_every_check(api_client, settings):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == CHECKS


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", "Bearer not-a-jwt", "Basic Zm9vOmJhcg=="])
def test_a_wrong_credential_still_gets_the_status(api_client, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_without_a_metrics_token_configured_no_bearer_sees_details(api_client, settings):
    settings.OCR_METRICS_TOKEN = ""
    api_client.credentials(HTTP_AUTHORIZATION="Bearer ")
    assert api_client.get("/api/health/").json() == {"status": "ok"}


def test_liveness_is_the_status_alone(api_client):
    assert api_client.get("/api/health/live/").json() == {"status": "ok"}


def test_the_schema_marks_the_checks_optional(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    health = schema["components"]["schemas"]["Health"]
    assert "checks" in health["properties"]
    assert health.get("required") == ["status"]
