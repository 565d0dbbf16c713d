"""Signing out of the browser pages: Django's LogoutView plus a confirmation message.

The next page (``LOGOUT_REDIRECT_URL``, the sign-in page) shows "You have been signed
out." from the messages framework; the message outlives the session that the sign-out
flushes because Django keeps messages in a cookie first.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse


class SignOutView(LogoutView):
    """POST /accounts/logout/: sign out, then say so on the next page."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Sign out (Django's LogoutView) and queue the confirmation if someone was signed in."""
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_signed_in:
            messages.success(request, "You have been signed out.")
        return response
