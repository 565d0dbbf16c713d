"""Accounts and JWT: register, obtain, refresh rotation, verify, logout, expiry, limits."""

import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def obtain(client, username, password=PASSWORD):
    return client.post(
        "/api/token_obtain_pair/", {"username": username, "password": password}, format="json"
    )


def test_register_creates_an_account_without_echoing_the_password(api_client):
    response = api_client.post(
        "/api/register/",
        {"username": "carol", "email": "carol@example.com", "password": "a-long-passphrase-9"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json() == {
        "id": response.json()["id"],
        "username": "carol",
        "email": "carol@example.com",
    }
    assert "a-long-passphrase-9" not in response.content.decode()
    user = get_user_model().objects.get(username="carol")
    assert user.check_password("a-long-passphrase-9")
    assert obtain(api_client, "carol", "a-long-passphrase-9").status_code == 200


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("shrt1", "too short"),
        ("password123", "too common"),
        ("12345678901", "numeric"),
        ("carolcarol1", "similar"),
    ],
)
def test_register_runs_djangos_password_validators(api_client, password, reason):
    response = api_client.post(
        "/api/register/", {"username": "carolcarol1", "password": password}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["field"] == "password"
    assert password not in response.content.decode()
    assert not get_user_model().objects.filter(username="carolcarol1").exists()


def test_register_refuses_a_taken_username(api_client, user):
    response = api_client.post(
        "/api/register/",
        {"username": user.username.upper(), "password": "x-long-pass-42"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "username"


def test_token_pair_gives_access_to_the_api(api_client, user):
    tokens = obtain(api_client, user.username).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.get("/api/history/").status_code == 200


def test_wrong_password_is_401_in_the_error_shape(api_client, user):
    response = obtain(api_client, user.username, "wrong")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_refresh_rotates_and_blacklists_the_old_refresh_token(api_client, user):
    tokens = obtain(api_client, user.username).json()
    first = api_client.post("/api/token_refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert first.status_code == 200
    assert first.json()["refresh"] != tokens["refresh"] and first.json()["access"]
    again = api_client.post("/api/token_refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "token_not_valid"


def test_verify(api_client, user):
    tokens = obtain(api_client, user.username).json()
    ok = api_client.post("/api/token_verify/", {"token": tokens["access"]}, format="json")
    assert ok.status_code == 200
    bad = api_client.post("/api/token_verify/", {"token": tokens["access"] + "x"}, format="json")
    assert bad.status_code == 401


def test_logout_blacklists_the_refresh_token(api_client, user):
    tokens = obtain(api_client, user.username).json()
    out = api_client.post("/api/logout/", {"refresh": tokens["refresh"]}, format="json")
    assert out.status_code == 204
    after = api_client.post("/api/token_refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert after.status_code == 401
    again = api_client.post("/api/logout/", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401


def test_expired_access_token_is_refused(user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get("/api/history/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_access_tokens_are_short_lived_by_default(api_client, user):
    from django.conf import settings

    token = AccessToken(obtain(api_client, user.username).json()["access"])
    lifetime = token["exp"] - token["iat"]
    assert lifetime == settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() <= 900


# --- sign-in limits (app/throttles.py) ------------------------------------------------
class CountingHasher(PBKDF2PasswordHasher):
    """Django's default hasher, counting how often a password is hashed or checked."""

    calls = 0

    def encode(self, password, salt, iterations=None):
        type(self).calls += 1
        return super().encode(password, salt, iterations)


@pytest.fixture
def limits(settings):
    """Clean sign-in counters; a hasher that counts; rates set per test."""
    cache.clear()
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.calls = 0
    settings.OCR_LOGIN_RATE_USER = "3/minute"
    settings.OCR_LOGIN_RATE_IP = "100/minute"
    yield settings
    cache.clear()


def test_wrong_passwords_past_the_limit_answer_429_before_any_password_check(
    api_client, user, limits
):
    for _ in range(3):
        assert obtain(api_client, user.username, "wrong").status_code == 401
    hashed = CountingHasher.calls
    assert hashed >= 3
    refused = obtain(api_client, user.username, "wrong")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "quota_exceeded"
    assert 50 <= int(refused["Retry-After"]) <= 60
    # Even the right password waits for the window, and nothing was hashed meanwhile.
    assert obtain(api_client, user.username).status_code == 429
    assert obtain(api_client, user.username.upper(), "wrong").status_code == 429
    assert CountingHasher.calls == hashed


def test_the_address_limit_covers_other_user_names(api_client, user, limits):
    limits.OCR_LOGIN_RATE_USER = "100/minute"
    limits.OCR_LOGIN_RATE_IP = "3/minute"
    for name in ("alice", "bob", user.username):
        assert obtain(api_client, name, "wrong").status_code == 401
    refused = obtain(api_client, user.username)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "quota_exceeded" and refused["Retry-After"]
    other_address = APIClient(REMOTE_ADDR="192.0.2.7")
    assert obtain(other_address, user.username).status_code == 200


def test_signing_in_works_again_after_the_window(api_client, user, limits):
    limits.OCR_LOGIN_RATE_USER = "2/second"
    for _ in range(2):
        assert obtain(api_client, user.username, "wrong").status_code == 401
    refused = obtain(api_client, user.username)
    assert refused.status_code == 429
    time.sleep(int(refused["Retry-After"]) + 0.1)
    assert obtain(api_client, user.username).status_code == 200


def test_successful_sign_ins_are_not_limited(api_client, user, limits):
    limits.OCR_LOGIN_RATE_IP = "3/minute"
    for _ in range(5):
        assert obtain(api_client, user.username).status_code == 200


def test_empty_rates_turn_the_limits_off(api_client, user, limits):
    limits.OCR_LOGIN_RATE_USER = ""
    limits.OCR_LOGIN_RATE_IP = ""
    for _ in range(4):
        assert obtain(api_client, user.username, "wrong").status_code == 401
    assert obtain(api_client, user.username).status_code == 200
