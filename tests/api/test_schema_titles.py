"""The API docs title every operation in words and group it under a described tag
(app/api/schema_hooks.py); Swagger's "Authorize" offers a JWT and an API key."""

from __future__ import annotations

import json

import pytest

from app.api.schema_hooks import SUMMARIES, TAGS, fallback_summary

pytestmark = pytest.mark.django_db

METHODS = ("get", "put", "post", "delete", "patch")


def _schema(client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_every_operation_has_a_human_summary_not_its_id(api_client):
    schema = _schema(api_client)
    seen = 0
    for path, method, operation in _operations(schema):
        seen += 1
        summary = operation.get("summary", "")
        where = f"{method.upper()} {path} ({operation['operationId']})"
        assert summary, where
        assert "_" not in summary and summary != operation["operationId"], where
        # Each has a written title, not the made-up fallback: add new ones to SUMMARIES.
        assert summary != fallback_summary(method, operation["operationId"]), where
    assert seen >= 30


def test_summaries_given_on_a_view_are_kept(api_client):
    schema = _schema(api_client)
    export = schema["paths"]["/api/batches/{batch_id}/export/"]["get"]
    assert export["summary"] == "Download a batch's results as a zip"
    engines = schema["paths"]["/api/engines/"]["get"]
    assert engines["summary"] == SUMMARIES["api_engines_list"]


def test_token_endpoints_are_under_accounts_and_no_stray_api_tag(api_client):
    schema = _schema(api_client)
    for path in ("/api/token_obtain_pair/", "/api/token_refresh/", "/api/token_verify/"):
        assert schema["paths"][path]["post"]["tags"] == ["accounts"], path
    used = {tag for _, _, op in _operations(schema) for tag in op.get("tags", [])}
    assert "api" not in used
    listed = [tag["name"] for tag in schema["tags"]]
    assert set(listed) == used
    assert listed == [t["name"] for t in TAGS if t["name"] in used]
    assert all(tag.get("description") for tag in schema["tags"])


def test_operation_ids_and_paths_are_unchanged(api_client):
    schema = _schema(api_client)
    ids = {op["operationId"] for _, _, op in _operations(schema)}
    assert {"api_engines_list", "ocr_create", "api_token_obtain_pair_create"} <= ids
    assert "/api/ocr/{job_id}/" in schema["paths"]


def test_authorize_offers_jwt_and_api_key_on_every_authenticated_operation(api_client):
    schema = _schema(api_client)
    schemes = schema["components"]["securitySchemes"]
    assert schemes["jwtAuth"]["scheme"] == "bearer" and schemes["jwtAuth"]["description"]
    assert schemes["ApiKeyAuth"] == {**schemes["ApiKeyAuth"], "in": "header", "name": "X-API-Key"}
    for path, method, operation in _operations(schema):
        security = operation.get("security")
        if not security or security == [{}] or "/health/" in path:
            continue  # open endpoints (engines, register, tokens) and health's own rules
        names = {name for requirement in security for name in requirement}
        assert {"jwtAuth", "ApiKeyAuth"} <= names, f"{method.upper()} {path}"


def test_swagger_page_sends_the_csrf_token_for_session_callers(user):
    """Signed in on the site, "Try it out" works with the session (CSRF header)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    assert client.get("/docs/").status_code == 200
    script = client.get("/docs/?script=")
    assert script.status_code == 200
    assert "X-CSRFTOKEN" in script.content.decode().upper()
