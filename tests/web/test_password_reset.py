"""Password reset by e-mail, end to end: request, mail with a link, new password, sign in."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.core import mail
from django.test import Client

from tests.conftest import ROOT
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-42"


def _link(message) -> str:
    found = re.search(r"https?://testserver(/accounts/reset/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_reset_by_mail_then_sign_in_with_the_new_password(user) -> None:
    client = Client()
    login_page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password_reset/"' in login_page

    form = client.get("/accounts/password_reset/")
    assert form.status_code == 200
    sent = client.post("/accounts/password_reset/", {"email": user.email}, follow=True)
    assert sent.status_code == 200 and "Check your e-mail" in sent.content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject == "Reset your onlineocr password"
    assert user.username in message.body

    # The link leads to the form (Django swaps the token into the session first).
    page = client.get(_link(message), follow=True)
    assert page.status_code == 200 and "Choose a new password" in page.content.decode()
    done = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your password is changed" in done.content.decode()

    fresh = Client()
    old = fresh.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert old.status_code == 200  # the form again: the old password is gone
    new = fresh.post("/accounts/login/", {"username": user.username, "password": NEW_PASSWORD})
    assert new.status_code == 302 and new["Location"] == "/"

    # The link works once.
    again = Client().get(_link(message), follow=True)
    assert "This link no longer works" in again.content.decode()


def test_an_unknown_address_looks_the_same_and_sends_nothing(user) -> None:
    response = Client().post(
        "/accounts/password_reset/", {"email": "nobody@example.com"}, follow=True
    )
    assert "Check your e-mail" in response.content.decode()
    assert mail.outbox == []


def test_reset_pages_use_the_site_look(user) -> None:
    for url in (
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        "/accounts/reset/done/",
    ):
        page = Client().get(url).content.decode()
        assert 'class="topbar"' in page and "css/app.css" in page, url
        assert "Django administration" not in page, url


def _email_settings(**env: str) -> dict:
    """The e-mail settings as the settings module reads them from ``env`` (a fresh process)."""
    code = (
        "import json, onlineocr.settings as s; print(json.dumps({k: getattr(s, k) for k in "
        "('EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD',"
        " 'EMAIL_USE_TLS', 'EMAIL_USE_SSL', 'DEFAULT_FROM_EMAIL')}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "DEFAULT_FROM"))}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_email_goes_to_the_console_unless_an_smtp_host_is_set() -> None:
    assert _email_settings()["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    smtp = _email_settings(
        EMAIL_HOST="smtp.example.org",
        EMAIL_HOST_USER="ocr",
        EMAIL_HOST_PASSWORD="s3cret",
        DEFAULT_FROM_EMAIL="OCR <ocr@example.org>",
    )
    assert smtp == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "ocr",
        "EMAIL_HOST_PASSWORD": "s3cret",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "DEFAULT_FROM_EMAIL": "OCR <ocr@example.org>",
    }
    implicit_tls = _email_settings(EMAIL_HOST="smtp.example.org", EMAIL_PORT="465")
    assert implicit_tls["EMAIL_USE_SSL"] and not implicit_tls["EMAIL_USE_TLS"]


def test_a_signed_in_user_changes_the_password(user, client_for) -> None:
    client = client_for(user)
    form = client.get("/accounts/password_change/")
    assert form.status_code == 200 and 'class="topbar"' in form.content.decode()
    done = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your password is changed" in done.content.decode()
    fresh = Client().post("/accounts/login/", {"username": user.username, "password": NEW_PASSWORD})
    assert fresh.status_code == 302
