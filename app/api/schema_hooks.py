"""Human titles and sections for the API docs (``/docs/`` Swagger UI, ``/redoc/``).

A drf-spectacular postprocessing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``):

- every operation gets a ``summary``, the line Swagger and ReDoc show for it, instead
  of its internal operation id (``api_engines_list``). A summary given with
  ``@extend_schema(summary=...)`` on the view wins; :data:`SUMMARIES` gives the rest;
  an operation in neither gets one made from its method and operation id, so the docs
  never show a bare id (``tests/api/test_schema_titles.py`` asks for an entry here);
- operations are grouped under the tags of :data:`TAGS`, in that order and with their
  descriptions; simplejwt's token views, which drf-spectacular files under the first
  path segment ("api"), go under "accounts" with sign-up and sign-out.

Operation ids, paths, parameters and responses are left as they are.
"""

from __future__ import annotations

from typing import Any

#: Summaries by operation id, for the operations whose view gives none.
SUMMARIES: dict[str, str] = {
    "ocr_create": "Submit a document for OCR",
    "ocr_retrieve": "Show a job and its result",
    "ocr_destroy": "Delete a job and its files",
    "ocr_cancel": "Cancel a job",
    "ocr_export": "Download a job's result in an export format",
    "ocr_file": "Download the uploaded file",
    "ocr_pages_list": "List a job's pages",
    "ocr_pages_retrieve": "Show one page of a job",
    "ocr_page_image": "Download a page image",
    "api_history_list": "List and search your jobs",
    "batches_list": "List your batches",
    "batches_create": "Submit many documents as one batch",
    "batches_retrieve": "Show a batch",
    "batches_destroy": "Delete a batch with its jobs and files",
    "batches_cancel": "Cancel a batch",
    "batches_export": "Download a batch's results as a zip",
    "keys_list": "List your API keys",
    "keys_create": "Make an API key",
    "keys_retrieve": "Show an API key",
    "keys_revoke": "Revoke an API key",
    "webhooks_list": "List your webhook endpoints",
    "webhooks_create": "Add a webhook endpoint",
    "webhooks_retrieve": "Show a webhook endpoint",
    "webhooks_partial_update": "Change a webhook endpoint",
    "webhooks_update": "Replace a webhook endpoint",
    "webhooks_destroy": "Delete a webhook endpoint",
    "webhooks_deliveries": "An endpoint's delivery log",
    "webhooks_test": "Send a test event",
    "api_engines_list": "List the OCR engines and their languages",
    "api_health_retrieve": "Check the service's health (readiness)",
    "api_health_live_retrieve": "Check that the server answers (liveness)",
    "api_register_create": "Create an account",
    "api_token_obtain_pair_create": "Sign in: get an access and a refresh token (JWT)",
    "api_token_refresh_create": "Get a new access token with a refresh token",
    "api_token_verify_create": "Check that a token is valid",
    "api_logout_create": "Sign out: revoke a refresh token",
}

#: The sections of the docs, in this order, with what each holds.
TAGS: list[dict[str, str]] = [
    {
        "name": "ocr",
        "description": "Submit a document, follow its job, read the result page by page, "
        "download it in every export format, cancel or delete it; your job history.",
    },
    {
        "name": "batches",
        "description": "Many documents as one batch: progress, cancel, all results as a zip.",
    },
    {"name": "webhooks", "description": "Get told when a job or batch ends (signed POSTs)."},
    {
        "name": "keys",
        "description": "API keys for scripts and servers: send one as `X-API-Key` "
        "(or `Authorization: Api-Key <key>`) instead of a JWT.",
    },
    {
        "name": "accounts",
        "description": "Create an account; sign in for a JWT (send it as "
        "`Authorization: Bearer <access>`), refresh, verify and revoke it.",
    },
    {"name": "engines", "description": "The OCR engines this server offers and their languages."},
    {"name": "health", "description": "Readiness and liveness for load balancers and monitors."},
]

#: What Swagger's "Authorize" dialog says about each way to authenticate.
SCHEME_DESCRIPTIONS: dict[str, str] = {
    "jwtAuth": "The `access` token from POST /api/token_obtain_pair/ (your username and "
    "password); it lasts minutes, POST /api/token_refresh/ gives a new one.",
    "cookieAuth": "Nothing to enter: signed in on the site, this browser sends its session "
    "cookie (and the docs page the CSRF token) with every call by itself.",
}

#: Tags drf-spectacular makes from a path's first segment, and where those operations go.
RETAG: dict[str, str] = {"api": "accounts"}

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_VERBS = {
    "list": "List",
    "retrieve": "Show",
    "create": "Create",
    "update": "Replace",
    "partial_update": "Change",
    "destroy": "Delete",
}


def fallback_summary(method: str, operation_id: str) -> str:
    """A readable summary for an operation missing from :data:`SUMMARIES`
    ("batches_retry_create" -> "Create: batches retry")."""
    words = operation_id.removeprefix("api_")
    for suffix, verb in _VERBS.items():
        if words.endswith("_" + suffix):
            noun = words[: -len(suffix) - 1].replace("_", " ")
            return f"{verb}: {noun}"
    return f"{method.upper()}: {words.replace('_', ' ')}"


def add_titles(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """Postprocessing hook: summaries for every operation, tags sorted and described."""
    used: set[str] = set()
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _METHODS or not isinstance(operation, dict):
                continue
            operation_id = operation.get("operationId", "")
            if not operation.get("summary"):
                operation["summary"] = SUMMARIES.get(operation_id) or fallback_summary(
                    method, operation_id
                )
            tags = [RETAG.get(tag, tag) for tag in operation.get("tags", [])]
            if tags:
                operation["tags"] = list(dict.fromkeys(tags))
            used.update(operation.get("tags", []))
    schemes = result.get("components", {}).get("securitySchemes", {})
    for name, description in SCHEME_DESCRIPTIONS.items():
        if name in schemes and not schemes[name].get("description"):
            schemes[name]["description"] = description
    known = [tag for tag in TAGS if tag["name"] in used]
    names = {tag["name"] for tag in known}
    result["tags"] = known + [{"name": name} for name in sorted(used - names)]
    return result
