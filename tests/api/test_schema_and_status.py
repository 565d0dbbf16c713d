"""OpenAPI schema and docs (local assets), /api/engines/, /api/health/."""

import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/ocr/",
        "/api/ocr/{job_id}/",
        "/api/history/",
        "/api/register/",
        "/api/token_obtain_pair/",
        "/api/engines/",
        "/api/health/",
        "/api/ocr/{job_id}/export/",
    ):
        assert f"  {path}:" in text, path
    assert "ErrorBody" in text and "image_base64" in text and "multipart/form-data" in text


def test_schema_endpoint(api_client):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200


@pytest.mark.parametrize("url", ["/docs/", "/redoc/"])
def test_docs_are_served_from_local_assets(api_client, url):
    response = api_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert external == [], external
    assert "drf_spectacular_sidecar" in html or "/static/" in html


def test_engines_list_tesseract_with_installed_languages(api_client):
    engines = {e["name"]: e for e in api_client.get("/api/engines/").json()}
    tesseract = engines["tesseract"]
    assert tesseract["available"] and tesseract["default"] and tesseract["kind"] == "local"
    assert "eng" in tesseract["languages"] and "osd" not in tesseract["languages"]
    assert tesseract["version"].startswith("5.")
    for cloud in ("clova", "ultraocr", "computervision_vn", "chekin"):
        assert engines[cloud]["available"] is False
        assert "reason" not in engines[cloud]  # operators' detail, staff only


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_health_is_ok_when_everything_is_up(api_client, celery_worker):
    import time

    # Readiness: a worker that has just started may take a moment to answer pings.
    deadline = time.monotonic() + 20
    while True:
        response = api_client.get("/api/health/")
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert response.status_code == 200, {
        k: v for k, v in response.json()["checks"].items() if not v["ok"]
    }
    checks = response.json()["checks"]
    assert {"database", "broker", "tesseract"} <= set(checks)
    assert all(c["ok"] for c in checks.values())


def test_health_is_503_when_the_broker_is_down(api_client, settings):
    from onlineocr.celery import app

    # Celery reads its configuration once: make sure that happened with the real URL.
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = api_client.get("/api/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
