"""OpenAPI schema and docs (local assets), /api/engines/, /api/health/."""

import base64
import io
import json
import re
import uuid

import pytest
from django.core.management import call_command

from tests.api.helpers import upload
from tests.imaging import render_text

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


def test_engines_list_tesseract_with_installed_languages(api_client, shipped_defaults):
    engines = {e["name"]: e for e in api_client.get("/api/engines/").json()}
    tesseract = engines["tesseract"]
    assert tesseract["available"] and not tesseract["default"] and tesseract["kind"] == "local"
    # The default reads each page with the engine that suits it (docs/engines-auto.md).
    auto = engines["auto"]
    assert auto["default"] and auto["available"] and auto["languages"] == tesseract["languages"]
    assert "eng" in tesseract["languages"] and "osd" not in tesseract["languages"]
    assert tesseract["version"].startswith("5.")
    for cloud in ("clova", "ultraocr", "computervision_vn", "chekin"):
        assert engines[cloud]["available"] is False
        assert "reason" not in engines[cloud]  # operators' detail, staff only


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_health_is_ok_when_everything_is_up(api_client, celery_worker, settings):
    import time

    settings.OCR_METRICS_TOKEN = "health-details-token"
    api_client.credentials(HTTP_AUTHORIZATION="Bearer health-details-token")
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

    settings.OCR_METRICS_TOKEN = "health-details-token"
    api_client.credentials(HTTP_AUTHORIZATION="Bearer health-details-token")

    # Celery reads its configuration once: make sure that happened with the real URL.
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = api_client.get("/api/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


# --- The schema tells the truth, and every /api/ answer keeps to it ----------------------


def _schema(client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def _operation(schema: dict, operation_id: str) -> dict:
    for path in schema["paths"].values():
        for operation in path.values():
            if operation.get("operationId") == operation_id:
                return operation
    raise AssertionError(f"no operation {operation_id}")


@pytest.fixture
def pending_job(auth_client):
    """A job nobody works on (no worker in these tests): it stays pending."""
    response = auth_client.post("/api/ocr/", {"image": upload(render_text(["Hi"]).png())})
    assert response.status_code == 202, response.content
    return response.json()["id"]


def test_schema_format_json_is_json_and_the_default_yaml(api_client):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200 and "json" in response["Content-Type"]
    assert json.loads(response.content)["openapi"].startswith("3.")
    assert api_client.get("/api/schema/").content.startswith(b"openapi:")


def test_job_result_is_nullable_as_it_is_null_until_done(api_client, auth_client, pending_job):
    result = _schema(api_client)["components"]["schemas"]["Job"]["properties"]["result"]
    assert result.get("nullable") is True and result.get("type") == "object"
    assert auth_client.get(f"/api/ocr/{pending_job}/").json()["result"] is None


@pytest.mark.parametrize(
    "path",
    [
        "/api/ocr/not-a-uuid/",
        "/api/ocr/{unknown}/",
        "/api/ocr/{job}/pages/99/",
        "/api/ocr/{job}/pages/x/",
        "/api/ocr/{job}/pages/99/image/",
        "/api/ocr/{unknown}/export/?format=txt",
        "/api/ocr/not-a-uuid/file/",
        "/api/no-such-endpoint/",
        "/api/history/?page=99",
    ],
)
def test_a_404_under_api_is_the_json_error_shape(auth_client, pending_job, path):
    response = auth_client.get(path.format(job=pending_job, unknown=uuid.uuid4()))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_a_404_outside_api_stays_a_page(auth_client):
    response = auth_client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_documented_error_statuses(api_client):
    schema = _schema(api_client)
    for operation_id in (
        "api_token_obtain_pair_create",
        "api_token_refresh_create",
        "api_token_verify_create",
    ):
        assert {"400", "401", "415", "429"} <= set(_operation(schema, operation_id)["responses"])
    for operation_id in ("ocr_export", "ocr_page_image", "ocr_file"):
        assert {"401", "404"} <= set(_operation(schema, operation_id)["responses"])
    assert {"400", "401", "403", "406", "413", "415", "429"} <= set(
        _operation(schema, "ocr_create")["responses"]
    )


def test_token_endpoints_answer_what_they_document(api_client, user):
    url = "/api/token_obtain_pair/"
    missing = api_client.post(url, {}, format="json")
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "username"
    wrong = api_client.post(url, {"username": user.username, "password": "nope"}, format="json")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"]


def test_the_json_request_example_works_as_it_comes(api_client, auth_client):
    body = _operation(_schema(api_client), "ocr_create")["requestBody"]
    example = next(iter(body["content"]["application/json"]["examples"].values()))["value"]
    response = auth_client.post("/api/ocr/", example, format="json")
    assert response.status_code in (200, 202), response.content
    assert response.json()["metadata"] == example["metadata"]


def test_the_multipart_field_examples_work_as_they_come(api_client, auth_client):
    schema = _schema(api_client)
    ref = _operation(schema, "ocr_create")["requestBody"]["content"]["multipart/form-data"]
    properties = schema["components"]["schemas"][ref["schema"]["$ref"].rsplit("/", 1)[1]][
        "properties"
    ]
    form = {name: prop["example"] for name, prop in properties.items() if name != "image"}
    assert set(form) == set(properties) - {"image"}, "every optional field has an example"
    form["wait"] = 0  # no worker here; the example's own wait only delays the answer
    response = auth_client.post("/api/ocr/", {**form, "image": upload(render_text().png())})
    assert response.status_code == 202, response.content


@pytest.mark.parametrize("metadata", ["", "{}", "  "])
def test_empty_metadata_in_multipart_is_none(auth_client, metadata):
    response = auth_client.post(
        "/api/ocr/", {"image": upload(render_text(["Hi"]).png()), "metadata": metadata}
    )
    assert response.status_code == 202, response.content
    assert response.json()["metadata"] == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [("psm", "6"), ("filename", 1), ("deskew", "true"), ("wait", True), ("metadata", "{}")],
)
def test_json_values_have_the_documented_types(auth_client, field, value):
    png = base64.b64encode(render_text(["Hi"]).png()).decode()
    response = auth_client.post("/api/ocr/", {"image_base64": png, field: value}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize(
    "path",
    [
        "/api/history/?page_size=0",
        "/api/history/?page_size=abc",
        "/api/history/?page_size=101",
        "/api/ocr/{job}/pages/1/image/?max_width=abc",
        "/api/ocr/{job}/pages/1/image/?max_width=0",
        "/api/ocr/?wait=abc",
    ],
)
def test_invalid_query_parameters_are_refused_not_ignored(auth_client, pending_job, path):
    url = path.format(job=pending_job)
    if url.startswith("/api/ocr/?"):
        response = auth_client.post(url, {"image": upload(render_text(["Hi"]).png()), "wait": 0})
    else:
        response = auth_client.get(url)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in ("invalid", "invalid_option")


def test_downloads_do_not_answer_406_to_their_own_types(auth_client, pending_job):
    response = auth_client.get(
        f"/api/ocr/{pending_job}/export/?format=pdf", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 409  # not done yet; before: 406 for the Accept header
    assert response.json()["error"]["code"] == "not_ready"
    other = auth_client.get(f"/api/ocr/{pending_job}/", HTTP_ACCEPT="application/pdf")
    assert other.status_code == 406 and other.json()["error"]["code"] == "not_acceptable"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_page_image_content_type_is_one_the_schema_gives(api_client, auth_client, celery_worker):
    from PIL import Image

    documented = set(
        _operation(_schema(api_client), "ocr_page_image")["responses"]["200"]["content"]
    )
    grey = render_text(["Grey page"]).png()
    colour = io.BytesIO()
    ink = Image.open(io.BytesIO(grey)).convert("L")
    Image.merge("RGB", (ink.point(lambda v: 255), ink, ink)).save(colour, "PNG")  # red ink
    seen = set()
    for data in (grey, colour.getvalue()):
        job = auth_client.post("/api/ocr/", {"image": upload(data), "wait": 30}).json()
        assert job["status"] == "done", job
        for query in ("", "?max_width=50"):
            response = auth_client.get(f"/api/ocr/{job['id']}/pages/1/image/{query}")
            assert response.status_code == 200
            seen.add(response["Content-Type"])
    assert seen <= documented and "image/jpeg" in seen, (seen, documented)


def test_a_form_field_given_twice_is_refused(auth_client):
    from django.test.client import encode_multipart

    png = upload(render_text(["Hi"]).png())
    body = encode_multipart("BoUnDaRy", {"image": png, "psm": ["3", "6"]})
    response = auth_client.post(
        "/api/ocr/", body, content_type="multipart/form-data; boundary=BoUnDaRy"
    )
    assert response.status_code == 400 and response.json()["error"]["field"] == "psm"


@pytest.mark.parametrize(
    ("value", "status"), [("0", 400), ("yes", 400), ("true", 202), ("False", 202)]
)
def test_form_booleans_are_true_or_false(auth_client, value, status):
    png = upload(render_text(["Hi"]).png())
    response = auth_client.post("/api/ocr/", {"image": png, "deskew": value})
    assert response.status_code == status, response.content
