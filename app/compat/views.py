"""The view decorator of every compatibility API, made from the API's error shape.

Each API answers every failure in its own shape (``app/compat/<api>/errors.py``) and
never with Django's HTML error pages. What differs between them is only that shape,
an :class:`ErrorShape`; the rest is :func:`compat_view`:

- a method the view does not take: the API's 405, with ``Allow`` naming the methods;
- the API's own exception: its answer;
- our ``OcrError`` (services, selectors, the shared key check): translated by the
  API's ``from_ocr``;
- anything else: logged (``log.exception`` on ``app.compat.<name>.views``) and
  answered with the API's 500.

Views are CSRF-exempt: the API's credential (a key, a token, a signed URL) is the only
one. :func:`compat_unknown` makes the catch-all view of an API's URLs (its 404).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from app.errors import OcrError

View = Callable[..., HttpResponse]


def _response(error: Any, request: HttpRequest) -> HttpResponse:
    """``error.response()``: the answer of most APIs' exceptions."""
    return error.response()


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """How one compatibility API answers failures (each API's ``errors.py`` has one).

    - ``name``: the API's package name (``"azure"``): log lines read ``"<name> compat:
      <method> <path> failed"`` on the logger ``app.compat.<name>.views``;
    - ``error``: the API's exception class, answered by ``respond``;
    - ``from_ocr(exc)``: an ``OcrError`` as an ``error``;
    - ``method_not_allowed(method)``: the ``error`` answering a method not taken (405;
      :func:`compat_view` adds the ``Allow`` header);
    - ``server_error()``: the ``error`` answering an unexpected exception (500);
    - ``not_found(request)``: the ``error`` answering a path the API does not have;
    - ``respond(error, request)``: the ``HttpResponse`` of an ``error`` (default:
      ``error.response()``; CLOVA's body names the request's path).
    """

    name: str
    error: type[Exception]
    from_ocr: Callable[[OcrError], Exception]
    method_not_allowed: Callable[[str], Exception]
    server_error: Callable[[], Exception]
    not_found: Callable[[HttpRequest], Exception]
    respond: Callable[[Any, HttpRequest], HttpResponse] = _response

    @property
    def log(self) -> logging.Logger:
        """The logger of the API's views (``app.compat.<name>.views``)."""
        return logging.getLogger(f"app.compat.{self.name}.views")


def compat_view(shape: ErrorShape) -> Callable[..., Callable[[View], View]]:
    """The view decorator of the API whose failures answer in ``shape``.

    ``compat_view(shape)(*methods)`` decorates a view taking only ``methods`` (HTTP
    method names, ``"GET"``, ``"POST"``, ...; any other answers the shape's 405 with
    ``Allow: <methods>``). The view is CSRF-exempt; what it raises answers as the
    module docstring says, so it never leaves as an unhandled exception.
    """

    def api_view(*methods: str) -> Callable[[View], View]:
        def decorate(view: View) -> View:
            @csrf_exempt
            @functools.wraps(view)
            def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                if request.method not in methods:
                    error = shape.method_not_allowed(request.method or "")
                    response = shape.respond(error, request)
                    response["Allow"] = ", ".join(methods)
                    return response
                try:
                    return view(request, *args, **kwargs)
                except shape.error as exc:
                    return shape.respond(exc, request)
                except OcrError as exc:
                    return shape.respond(shape.from_ocr(exc), request)
                except Exception:
                    shape.log.exception(
                        "%s compat: %s %s failed", shape.name, request.method, request.path
                    )
                    return shape.respond(shape.server_error(), request)

            return wrapped

        return decorate

    return api_view


def compat_unknown(shape: ErrorShape) -> View:
    """The catch-all view of an API's URLs: any path (any method) answers the shape's
    ``not_found``. Every path resolving, CommonMiddleware never redirects one with a
    slash added (which would turn a POST into a GET)."""

    @csrf_exempt
    def unknown(request: HttpRequest) -> HttpResponse:
        return shape.respond(shape.not_found(request), request)

    return unknown
