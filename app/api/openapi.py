"""OpenAPI schema generation (drf-spectacular) that documents what the API really answers.

Besides the responses each view declares with ``@extend_schema``, DRF itself can
answer any operation with an error in the API's shape (``app.api.errors``):

- 400 (unparsable body), 413 (``DATA_UPLOAD_MAX_MEMORY_SIZE``) and 415 (a content
  type no parser takes) on operations with a request body;
- 401 where callers are authenticated (a bad or expired bearer token), and on the
  JWT endpoints (wrong credentials, invalid token);
- 403 on unsafe methods of views that accept a session cookie (CSRF check);
- 404 where the path names an object, and on paginated lists (a page past the last,
  with 400 for a bad ``page``/``page_size``);
- 406 when the ``Accept`` header excludes JSON (not on file downloads);
- 429 where a throttle applies.

:class:`ApiAutoSchema` adds those that a view has not declared, so the schema
stays true when a view, a throttle or an authentication class changes.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.authentication import SessionAuthentication

from app.api.negotiation import DownloadNegotiation

IMPLICIT_ERRORS: dict[int, str] = {
    400: "Bad input (stable `error.code`).",
    401: "Not authenticated, or the credentials or token are not valid.",
    403: "CSRF check failed (callers authenticated by a session cookie).",
    404: "Not found (`not_found`).",
    406: "The `Accept` header excludes `application/json` (`not_acceptable`).",
    413: "The request body is too large (`file_too_large`).",
    415: "The request's content type is not accepted (`unsupported_media_type`).",
    429: "Throttled or over quota (`quota_exceeded`); `Retry-After` tells when to retry.",
}


def _is_jwt_view(view: Any) -> bool:
    from rest_framework_simplejwt.views import TokenViewBase

    return isinstance(view, TokenViewBase)


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error responses DRF can give on any operation."""

    def implicit_error_codes(self) -> list[int]:
        """The error statuses this operation can answer without declaring them."""
        view = self.view
        codes = [] if issubclass(view.content_negotiation_class, DownloadNegotiation) else [406]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += [400, 413, 415]
        authenticators = view.get_authenticators()
        if authenticators or _is_jwt_view(view):
            codes.append(401)
        if self.method not in ("GET", "HEAD", "OPTIONS") and any(
            isinstance(a, SessionAuthentication) for a in authenticators
        ):
            codes.append(403)
        paginated = self.method == "GET" and getattr(view, "pagination_class", None)
        if paginated and hasattr(view, "list"):
            codes += [400, 404]  # a bad page_size; a page past the last
        elif "{" in self.path:
            codes.append(404)
        if view.get_throttles():
            codes.append(429)
        return sorted(codes)

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        from app.api.serializers import ErrorSerializer

        responses = super()._get_response_bodies(direction)
        for code in self.implicit_error_codes():
            if str(code) not in responses:
                response = OpenApiResponse(ErrorSerializer, description=IMPLICIT_ERRORS[code])
                responses[str(code)] = self._get_response_for_code(
                    response, str(code), ["application/json"], direction
                )
        return dict(sorted(responses.items()))

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        """Filters (django-filter, search, ordering) take an empty value as "not given"."""
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            if parameter.get("in") == "query":
                parameter["allowEmptyValue"] = True
        return parameters

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        """Adds ``Meta.field_examples`` (field name -> example value) to the properties;
        ``Meta.form_fields``: a form's optional fields may be empty."""
        schema = super()._map_basic_serializer(serializer, direction)
        meta = getattr(serializer, "Meta", None)
        properties = schema.get("properties", {})
        for name, value in getattr(meta, "field_examples", {}).items():
            if name in properties:
                properties[name]["example"] = value
        if getattr(meta, "form_fields", False):
            # An empty optional form field is "not given" (DRF's rule for HTML input,
            # what Swagger UI sends for a field left empty), so "" is valid there.
            for name, prop in properties.items():
                if name not in schema.get("required", ()):
                    prop.pop("minLength", None)
        return schema


# OpenAPI links (operationId -> status -> link name -> (target operationId, parameters)):
# what a client, and schemathesis's stateful phase, can call next with the ids it got.
_JOB_ID = "$response.body#/id"
_JOB_LINKS = {
    "GetJob": ("ocr_retrieve", {"job_id": _JOB_ID}),
    "ListPages": ("ocr_pages_list", {"job_id": _JOB_ID}),
    "GetFirstPage": ("ocr_pages_retrieve", {"job_id": _JOB_ID, "number": 1}),
    "GetFirstPageImage": ("ocr_page_image", {"job_id": _JOB_ID, "number": 1}),
    "Export": ("ocr_export", {"job_id": _JOB_ID}),
    "GetFile": ("ocr_file", {"job_id": _JOB_ID}),
    "CancelJob": ("ocr_cancel", {"job_id": _JOB_ID}),
    "DeleteJob": ("ocr_destroy", {"job_id": _JOB_ID}),
}
_PAGE = {"job_id": "$request.path.job_id", "number": "$response.body#/0/number"}
LINKS: dict[str, dict[str, dict[str, tuple[str, dict[str, Any]]]]] = {
    "ocr_create": {"200": _JOB_LINKS, "202": _JOB_LINKS},
    "ocr_retrieve": {"200": {k: v for k, v in _JOB_LINKS.items() if k != "GetJob"}},
    "ocr_pages_list": {
        "200": {
            "GetPage": ("ocr_pages_retrieve", _PAGE),
            "GetPageImage": ("ocr_page_image", _PAGE),
        }
    },
    "api_history_list": {
        "200": {"GetJob": ("ocr_retrieve", {"job_id": "$response.body#/results/0/id"})}
    },
    "batches_create": {
        "202": {
            "GetBatch": ("batches_retrieve", {"batch_id": "$response.body#/id"}),
            "ExportBatch": ("batches_export", {"batch_id": "$response.body#/id"}),
            "CancelBatch": ("batches_cancel", {"batch_id": "$response.body#/id"}),
            "DeleteBatch": ("batches_destroy", {"batch_id": "$response.body#/id"}),
            "GetFirstJob": ("ocr_retrieve", {"job_id": "$response.body#/jobs/0/id"}),
        }
    },
    "keys_create": {
        "201": {
            "GetKey": ("keys_retrieve", {"key_id": "$response.body#/id"}),
            "RevokeKey": ("keys_revoke", {"key_id": "$response.body#/id"}),
        }
    },
    "webhooks_create": {
        "201": {
            "GetEndpoint": ("webhooks_retrieve", {"endpoint_id": "$response.body#/id"}),
            "ChangeEndpoint": ("webhooks_partial_update", {"endpoint_id": "$response.body#/id"}),
            "Deliveries": ("webhooks_deliveries", {"endpoint_id": "$response.body#/id"}),
            "TestEvent": ("webhooks_test", {"endpoint_id": "$response.body#/id"}),
            "DeleteEndpoint": ("webhooks_destroy", {"endpoint_id": "$response.body#/id"}),
        }
    },
}


def add_links(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: the :data:`LINKS` on their responses."""
    operations = {
        op.get("operationId"): op
        for path in result.get("paths", {}).values()
        for op in path.values()
        if isinstance(op, dict)
    }
    for operation_id, by_status in LINKS.items():
        operation = operations.get(operation_id)
        if operation is None:
            continue
        for status_code, links in by_status.items():
            response = operation["responses"].get(status_code)
            if response is None:
                continue
            response["links"] = {
                name: {"operationId": target, "parameters": dict(parameters)}
                for name, (target, parameters) in links.items()
                if target in operations
            }
    return result
