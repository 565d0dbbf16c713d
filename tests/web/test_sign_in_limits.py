"""Sign-in limits on the web and admin sign-in pages (app/throttles.py)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings):
    cache.clear()
    settings.OCR_LOGIN_RATE_USER = "3/minute"
    settings.OCR_LOGIN_RATE_IP = "100/minute"
    yield settings
    cache.clear()


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_too_many_wrong_passwords_show_the_reason_and_answer_429(url, staff_user) -> None:
    client = Client()
    for _ in range(3):
        wrong = client.post(url, {"username": staff_user.username, "password": "nope"})
        assert wrong.status_code == 200
        assert "Too many" not in wrong.content.decode()
    refused = client.post(url, {"username": staff_user.username, "password": PASSWORD})
    assert refused.status_code == 429
    assert 50 <= int(refused["Retry-After"]) <= 60
    page = refused.content.decode()
    assert "Too many failed sign-in attempts. Try again in" in page
    assert f'value="{staff_user.username}"' in page  # the form is shown again, filled in
    assert "_auth_user_id" not in client.session


def test_the_address_limit_covers_other_user_names(limits, user) -> None:
    limits.OCR_LOGIN_RATE_USER = "100/minute"
    limits.OCR_LOGIN_RATE_IP = "2/minute"
    client = Client()
    for name in ("mallory", "trent"):
        assert (
            client.post("/accounts/login/", {"username": name, "password": "x"}).status_code == 200
        )
    refused = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert refused.status_code == 429
    elsewhere = Client(REMOTE_ADDR="192.0.2.8")
    ok = elsewhere.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert ok.status_code == 302 and ok["Location"] == "/"


def test_web_and_api_share_the_counters(limits, user) -> None:
    client = Client()
    for _ in range(3):
        client.post("/accounts/login/", {"username": user.username, "password": "nope"})
    api = client.post(
        "/api/token_obtain_pair/",
        {"username": user.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert api.status_code == 429 and api.json()["error"]["code"] == "quota_exceeded"


def test_a_correct_sign_in_after_a_mistake_is_not_held_back(limits) -> None:
    person = UserFactory()
    client = Client()
    client.post("/accounts/login/", {"username": person.username, "password": "typo"})
    ok = client.post("/accounts/login/", {"username": person.username, "password": PASSWORD})
    assert ok.status_code == 302
