"""Brute-force limits on signing in: failed attempts per user name and per client address.

One module serves every way to sign in: the API's ``POST /api/token_obtain_pair/``
(:class:`LoginTokenObtainPairView`), the web page ``/accounts/login/`` and the
admin's ``/admin/login/`` (:class:`LoginForm`, :class:`AdminLoginForm` and
:func:`answer_429_when_throttled`).

Only *failed* attempts count. A user who signs in correctly many times a minute
(a script fetching tokens, an office behind one NAT address) is never locked out,
while a password guesser is: every guess is a failure. Rates are DRF rate strings
(``"5/minute"``; empty turns a limit off) read from ``OCR_LOGIN_RATE_USER`` and
``OCR_LOGIN_RATE_IP`` on every request. The window slides: an attempt is allowed
again once the oldest failure in it is older than the period.

The check runs *before* the password is hashed (the expensive part, ~0.5 s of
CPU with Django's PBKDF2), so a throttled attempt costs a cache read. Refused
attempts answer HTTP 429 (RFC 6585, section 4) with ``Retry-After`` in seconds.

The counters live in Django's default cache. With ``OCR_CACHE_URL`` (Redis) every
process and host shares them; the default local-memory cache is per process, so
under ``make run`` (one process) the limits hold exactly, and under several
processes each counts on its own (the limit is multiplied by their number).
Concurrent attempts may each pass the check before any failure is stored, so
the limit can be exceeded by the number of requests in flight at once.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView

THROTTLED_MESSAGE = "Too many failed sign-in attempts."


class LoginFailureThrottle(SimpleRateThrottle):
    """DRF throttle counting failed sign-ins only; :meth:`allow_request` never records.

    Subclasses name the setting holding the rate and the identity that is counted.
    Failures are recorded with :meth:`record_failure` once a password check failed.
    """

    setting: ClassVar[str] = ""

    def get_rate(self) -> str | None:
        """The rate from ``settings.<setting>`` (DRF syntax, e.g. ``"5/minute"``); None: off."""
        return getattr(settings, self.setting, "") or None

    def ident_for(self, request: HttpRequest | Request | None, username: str) -> str | None:
        """What is counted for this attempt; None: nothing to count."""
        raise NotImplementedError

    def _cache_key(self, request: HttpRequest | Request | None, username: str) -> str | None:
        ident = self.ident_for(request, username)
        if not ident:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        """DRF hook: the key for the user name in the request body."""
        return self._cache_key(request, login_username(request))

    def allow_request(self, request: Request, view: Any) -> bool:
        """DRF hook: whether the attempt may go on (checks only; failures are recorded later)."""
        return self.check(request, login_username(request))

    def check(self, request: HttpRequest | Request | None, username: str) -> bool:
        """True when fewer failures than the rate allows are in the current window."""
        if self.rate is None:
            return True
        self.key = self._cache_key(request, username)
        if self.key is None:
            return True
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]
        return len(self.history) < self.num_requests

    def wait(self) -> float:
        """Seconds until the oldest failure in the window expires (after a failed check)."""
        if not self.history:
            return float(self.duration)
        return max(0.0, self.duration - (self.now - self.history[-1]))

    def record_failure(self, request: HttpRequest | Request | None, username: str) -> None:
        """Count one failed sign-in (kept in the cache for the rate's period)."""
        if self.rate is None:
            return
        key = self._cache_key(request, username)
        if key is None:
            return
        now = self.timer()
        history = [t for t in self.cache.get(key, []) if t > now - self.duration]
        history.insert(0, now)
        self.cache.set(key, history[: self.num_requests], self.duration)


class LoginUserRateThrottle(LoginFailureThrottle):
    """Failed sign-ins per user name (case-folded, hashed), from any address."""

    scope = "login_user"
    setting = "OCR_LOGIN_RATE_USER"

    def ident_for(self, request: HttpRequest | Request | None, username: str) -> str | None:
        name = (username or "").strip().casefold()
        return hashlib.sha256(name.encode()).hexdigest()[:32] if name else None


class LoginIPRateThrottle(LoginFailureThrottle):
    """Failed sign-ins per client address (``OCR_NUM_PROXIES`` trusted proxies), any user."""

    scope = "login_ip"
    setting = "OCR_LOGIN_RATE_IP"

    def ident_for(self, request: HttpRequest | Request | None, username: str) -> str | None:
        return self.get_ident(request) if request is not None else None


LOGIN_THROTTLES: tuple[type[LoginFailureThrottle], ...] = (
    LoginUserRateThrottle,
    LoginIPRateThrottle,
)


def login_username(request: HttpRequest | Request) -> str:
    """The user name a sign-in request carries (API body or form field), or ``""``."""
    field = get_user_model().USERNAME_FIELD
    data = request.data if isinstance(request, Request) else request.POST
    value = data.get(field, "") if hasattr(data, "get") else ""
    return value if isinstance(value, str) else ""


def login_wait(request: HttpRequest | Request | None, username: str) -> float | None:
    """Seconds until this sign-in may be tried again, or None when it may be tried now."""
    waits = []
    for throttle_class in LOGIN_THROTTLES:
        throttle = throttle_class()
        if not throttle.check(request, username):
            waits.append(throttle.wait())
    return max(waits) if waits else None


def record_login_failure(request: HttpRequest | Request | None, username: str) -> None:
    """Count a failed sign-in against the user name and the client address."""
    for throttle_class in LOGIN_THROTTLES:
        throttle_class().record_failure(request, username)


def throttled_message(wait: float) -> str:
    """The message shown on a refused sign-in, with the wait in whole seconds."""
    seconds = max(1, math.ceil(wait))
    return f"{THROTTLED_MESSAGE} Try again in {seconds} second{'s' if seconds != 1 else ''}."


# --- API -------------------------------------------------------------------------------
class LoginTokenObtainPairView(TokenObtainPairView):
    """simplejwt's token pair view with the sign-in limits (429 ``quota_exceeded``)."""

    throttle_classes = [*APIView.throttle_classes, *LOGIN_THROTTLES]

    def throttled(self, request: Request, wait: float | None) -> None:
        """Refuse with 429 and ``Retry-After`` (the exception handler adds the code)."""
        raise Throttled(wait, detail=THROTTLED_MESSAGE)

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Obtain a token pair; a wrong user name or password counts as a failure."""
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            record_login_failure(request, login_username(request))
            raise


# --- Django's login views (web page and admin) ---------------------------------------
class LoginThrottleFormMixin(forms.Form):
    """For ``AuthenticationForm`` subclasses: refuse before ``authenticate()`` when throttled.

    ``throttle_wait`` (seconds) is set on a refused form, for
    :func:`answer_429_when_throttled` to turn the page into a 429.
    """

    throttle_wait: float | None = None
    request: HttpRequest | None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password")
        if username and password:
            wait = login_wait(self.request, username)
            if wait is not None:
                self.throttle_wait = wait
                raise ValidationError(throttled_message(wait), code="throttled")
        try:
            return super().clean()
        except ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_login":
                record_login_failure(self.request, username)
            raise


class LoginForm(LoginThrottleFormMixin, AuthenticationForm):
    """The web sign-in form with the sign-in limits."""


class AdminLoginForm(LoginThrottleFormMixin, AdminAuthenticationForm):
    """The admin's sign-in form with the sign-in limits."""


def answer_429_when_throttled(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Wrap a login view: a page refused by the limits answers 429 with ``Retry-After``.

    The page itself (with the form's message) is rendered as usual; only the
    status and header change, so people see the form and the reason.
    """

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        form = (getattr(response, "context_data", None) or {}).get("form")
        wait = getattr(form, "throttle_wait", None)
        if wait is not None:
            response.status_code = 429
            response["Retry-After"] = str(max(1, math.ceil(wait)))
        return response

    wrapped.__doc__ = view.__doc__
    wrapped.__name__ = getattr(view, "__name__", "login")
    return wrapped
