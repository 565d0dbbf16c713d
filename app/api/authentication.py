"""API key authentication for every ``/api/`` call (docs/api-keys.md).

``Authorization: Api-Key <key>`` (the scheme djangorestframework-api-key uses) or
``X-API-Key: <key>``. A request without either is left to the other authentication
classes (JWT, session); one with a key that is not valid gets 401
``authentication_failed`` (never falls through to anonymous).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from app.errors import OcrError
from app.services import key_authenticate

#: The ``Authorization`` scheme of an API key.
KEYWORD = "Api-Key"


def key_from_request(request: Any) -> str | None:
    """The API key a request presents (``Authorization: Api-Key <key>``, else
    ``X-API-Key``), or None when it presents none. Raises ``AuthenticationFailed`` for
    an ``Api-Key`` authorization without exactly one key after the scheme."""
    meta = request.META
    authorization = meta.get("HTTP_AUTHORIZATION", "")
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() == KEYWORD.lower():
        parts = rest.split()
        if len(parts) != 1:
            raise exceptions.AuthenticationFailed(
                "Give the API key after 'Api-Key ', with no spaces in it."
            )
        return parts[0]
    header = meta.get("HTTP_X_API_KEY", "").strip()
    return header or None


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates a request by its API key (``app.services.keys.key_authenticate``).

    ``request.user`` is the key's owner, ``request.auth`` the :class:`~app.models.ApiKey`.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        raw = key_from_request(request._request)
        if raw is None:
            return None
        try:
            key = key_authenticate(raw)
        except OcrError as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        return key.owner, key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The API key in the OpenAPI schema (Swagger's "Authorize" sends ``X-API-Key``)."""

    target_class = "app.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An API key from POST /api/keys/ (also accepted as "
            "`Authorization: Api-Key <key>`).",
        }
