"""``/api/keys/``: a user's API keys (docs/api-keys.md).

``POST`` makes one and answers the key, once; ``GET`` lists the caller's unrevoked
keys (never the key itself); ``DELETE /api/keys/{id}/`` revokes one for good. A key is
made with a sign-in (JWT or the browser session), not with a key: a leaked key cannot
make itself a successor that outlives its revocation. Listing and revoking work with
any credential (they give nothing away and only take access away).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response

from app import selectors, services
from app.api import parsers
from app.api.serializers import ApiKeyCreatedSerializer, ApiKeySerializer, ErrorSerializer
from app.models import ApiKey

_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input (stable `error.code`)."),
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(
        ErrorSerializer, description="Authenticated with an API key (sign in instead)."
    ),
    404: OpenApiResponse(ErrorSerializer, description="No such key (or not yours, or revoked)."),
}


class SignedInToMake(permissions.IsAuthenticated):
    """Any credential reads and revokes; a ``POST`` (making a key) needs a sign-in (JWT
    or session), not an API key."""

    message = "API keys are made with a sign-in (a JWT or the browser), not with a key."

    def has_permission(self, request: Request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method != "POST" or not isinstance(request.auth, ApiKey)


class KeyListView(generics.ListAPIView):
    """The caller's API keys (unrevoked, expired ones included), newest first."""

    serializer_class = ApiKeySerializer
    permission_classes = [SignedInToMake]
    parser_classes = [parsers.JSONParser]
    filter_backends: list = []

    def get_queryset(self):
        return selectors.keys_of(self.request.user)

    @extend_schema(
        operation_id="keys_list",
        summary="List your API keys",
        responses={200: ApiKeySerializer(many=True), 401: _ERRORS[401]},
        tags=["keys"],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="keys_create",
        summary="Make an API key",
        request=ApiKeySerializer,
        responses={
            201: ApiKeyCreatedSerializer,
            **{code: _ERRORS[code] for code in (400, 401, 403)},
        },
        examples=[OpenApiExample("A key for a script", value={"name": "nightly scan import"})],
        tags=["keys"],
    )
    def post(self, request: Request) -> Response:
        serializer = ApiKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, raw = services.key_create(
            owner=request.user,
            name=serializer.validated_data["name"],
            expires_at=serializer.validated_data.get("expiry_date"),
        )
        key.key = raw
        return Response(ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)


class KeyDetailView(generics.GenericAPIView):
    """One of the caller's API keys; ``DELETE`` revokes it (it stops working at once)."""

    serializer_class = ApiKeySerializer
    permission_classes = [SignedInToMake]

    @extend_schema(
        operation_id="keys_retrieve",
        summary="Show an API key",
        responses={200: ApiKeySerializer, 401: _ERRORS[401], 404: _ERRORS[404]},
        tags=["keys"],
    )
    def get(self, request: Request, key_id: str) -> Response:
        key = selectors.key_get(user=request.user, key_id=key_id)
        return Response(ApiKeySerializer(key).data)

    @extend_schema(
        operation_id="keys_revoke",
        summary="Revoke an API key",
        responses={204: None, 401: _ERRORS[401], 404: _ERRORS[404]},
        tags=["keys"],
    )
    def delete(self, request: Request, key_id: str) -> Response:
        services.key_revoke(key=selectors.key_get(user=request.user, key_id=key_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
