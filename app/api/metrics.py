"""``GET /metrics``: Prometheus metrics for a bearer token or an allowed client IP.

Access: ``Authorization: Bearer <OCR_METRICS_TOKEN>`` when a token is set, or
a client address inside one of ``OCR_METRICS_ALLOW`` (default: loopback).
Behind nginx the client address is taken from ``X-Forwarded-For`` as DRF does
for throttling, trusting exactly ``OCR_NUM_PROXIES`` proxies.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from app.metrics import render_metrics


def client_ip(request: HttpRequest) -> str:
    """The caller's IP address, honouring ``REST_FRAMEWORK["NUM_PROXIES"]``."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        addrs = [a.strip() for a in forwarded.split(",") if a.strip()]
        if addrs:
            return addrs[-min(proxies, len(addrs))]
    return remote


def _allowed(request: HttpRequest) -> bool:
    token = settings.OCR_METRICS_TOKEN
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if token and auth.startswith("Bearer "):
        return hmac.compare_digest(auth[7:].strip().encode(), token.encode())
    try:
        ip = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    for net in settings.OCR_METRICS_ALLOW:
        try:
            if ip in ipaddress.ip_network(net, strict=False):
                return True
        except ValueError:
            continue
    return False


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics, or 403 in the API's error shape."""
    if not _allowed(request):
        return JsonResponse(
            {
                "error": {
                    "code": "permission_denied",
                    "message": "Metrics need the metrics token or an allowed address.",
                }
            },
            status=403,
        )
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)
