"""``/api/webhooks/``: a user's webhook endpoints, their delivery logs, test events
(docs/webhooks.md; app/services/webhooks.py)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from app import selectors
from app.api import parsers
from app.api.serializers import (
    ErrorSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointSerializer,
)
from app.services import webhooks

_ERR = {
    code: OpenApiResponse(ErrorSerializer, description=text)
    for code, text in {
        400: "Bad input (stable `error.code`): `invalid`, `url_forbidden`.",
        401: "Not authenticated.",
        404: "No such endpoint (or not yours).",
    }.items()
}


class WebhookListView(generics.ListAPIView):
    """The caller's webhook endpoints; ``POST`` adds one (its secret shown once)."""

    serializer_class = WebhookEndpointSerializer
    parser_classes = [parsers.JSONParser]
    filter_backends: list = []

    def get_queryset(self):
        return selectors.webhooks_of(self.request.user)

    @extend_schema(
        operation_id="webhooks_list",
        summary="List your webhook endpoints",
        responses={200: WebhookEndpointSerializer(many=True), 401: _ERR[401]},
        tags=["webhooks"],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="webhooks_create",
        summary="Add a webhook endpoint",
        request=WebhookEndpointSerializer,
        responses={201: WebhookEndpointCreatedSerializer, 400: _ERR[400], 401: _ERR[401]},
        examples=[
            OpenApiExample(
                "Every event",
                value={"url": "https://example.org/ocr-events", "events": ["job.done"]},
                request_only=True,
            )
        ],
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        serializer = WebhookEndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint = webhooks.endpoint_create(
            owner=request.user,
            url=data["url"],
            events=data.get("events") or list(webhooks.WEBHOOK_EVENTS),
            enabled=data.get("enabled", True),
        )
        return Response(
            WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )


class WebhookDetailView(generics.GenericAPIView):
    """One endpoint: ``PATCH`` changes its url, events or enabled; ``DELETE`` removes it
    with its delivery log."""

    serializer_class = WebhookEndpointSerializer
    parser_classes = [parsers.JSONParser]

    @extend_schema(
        operation_id="webhooks_retrieve",
        responses={200: WebhookEndpointSerializer, 401: _ERR[401], 404: _ERR[404]},
        tags=["webhooks"],
    )
    def get(self, request: Request, endpoint_id: str) -> Response:
        endpoint = selectors.webhook_get(user=request.user, endpoint_id=endpoint_id)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhooks_partial_update",
        request=WebhookEndpointSerializer,
        responses={200: WebhookEndpointSerializer, **_ERR},
        tags=["webhooks"],
    )
    def patch(self, request: Request, endpoint_id: str) -> Response:
        endpoint = selectors.webhook_get(user=request.user, endpoint_id=endpoint_id)
        serializer = WebhookEndpointSerializer(endpoint, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = {
            name: serializer.validated_data[name]
            for name in ("url", "events", "enabled")
            if name in serializer.validated_data
        }
        webhooks.endpoint_update(endpoint=endpoint, **changes)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhooks_destroy",
        responses={204: None, 401: _ERR[401], 404: _ERR[404]},
        tags=["webhooks"],
    )
    def delete(self, request: Request, endpoint_id: str) -> Response:
        selectors.webhook_get(user=request.user, endpoint_id=endpoint_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveriesView(generics.ListAPIView):
    """An endpoint's delivery log, newest first: event, status, attempts, the last
    attempt's HTTP status, latency and answer."""

    serializer_class = WebhookDeliverySerializer
    filter_backends: list = []

    def get_queryset(self):
        endpoint = selectors.webhook_get(
            user=self.request.user, endpoint_id=self.kwargs["endpoint_id"]
        )
        return endpoint.deliveries.order_by("-created_at", "-id")

    @extend_schema(
        operation_id="webhooks_deliveries",
        summary="An endpoint's delivery log",
        responses={200: WebhookDeliverySerializer(many=True), 401: _ERR[401], 404: _ERR[404]},
        tags=["webhooks"],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class WebhookTestView(generics.GenericAPIView):
    """Send a ``webhook.test`` message to the endpoint now (logged like any delivery)."""

    serializer_class = WebhookDeliverySerializer

    @extend_schema(
        operation_id="webhooks_test",
        summary="Send a test event",
        request=None,
        responses={202: WebhookDeliverySerializer, 401: _ERR[401], 404: _ERR[404]},
        tags=["webhooks"],
    )
    def post(self, request: Request, endpoint_id: str) -> Response:
        endpoint = selectors.webhook_get(user=request.user, endpoint_id=endpoint_id)
        delivery = webhooks.endpoint_send_test(endpoint=endpoint)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
