"""Cloud providers end to end: ``POST /api/ocr/`` -> a real Celery worker -> the provider.

The only stand-in is a local HTTP server (127.0.0.1) speaking each provider's
documented protocol and checking what it receives. One worker, started with
the providers' URLs and credentials in its environment, serves every test of
this module on a queue of its own (the session worker has no credentials and
must never pick these jobs up). The API side gets the same settings so that
``job_create`` accepts the engines.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.forms.models import model_to_dict
from PIL import Image
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.engines import registry
from app.models import Job, Page
from app.pipeline.exporters import EXPORT_FORMATS
from tests.api.helpers import upload
from tests.conftest import TEST_QUEUE, WorkerProcess, start_worker, wait_for_job
from tests.engines.providers.chekin_samples import ERIKSSON_READ, NEW_SCAN
from tests.imaging import Rendered, render_text

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PROVIDER_QUEUE = f"{TEST_QUEUE}-providers"
CLOVA_SECRET = "clova-e2e-S3CRET-7f3a9"
ULTRA_ID = "ultra-e2e-client-id-51c2"
ULTRA_SECRET = "ultra-e2e-S3CRET-c0ffee"
CVVN_KEY = "cvvn-e2e-key-8d1e"
CVVN_SECRET = "cvvn-e2e-S3CRET-beef42"
CHEKIN_TOKEN = "chekin-e2e-T0KEN-a11ce"
SECRETS = (CLOVA_SECRET, ULTRA_ID, ULTRA_SECRET, CVVN_KEY, CVVN_SECRET, CHEKIN_TOKEN)

CLOVA_BASE = "/custom/v1/4242/e2e"
ULTRA_BASE = "/ultraocr/v2"
ULTRA_AUTH = "/auth/v2"
CVVN_BASE = "/cvvn"
CHEKIN_BASE = "/chekin/api/v2"

#: Short timeouts and fast polling for the worker and the API process alike.
FAST = {
    "OCR_PROVIDER_CONNECT_TIMEOUT": 3.0,
    "OCR_PROVIDER_READ_TIMEOUT": 10.0,
    "OCR_PROVIDER_RETRIES": 1,
    "OCR_PROVIDER_BACKOFF_FACTOR": 0.01,
    "OCR_PROVIDER_RETRY_AFTER_MAX": 1.0,
    "OCR_PROVIDER_POLL_TIMEOUT": 20.0,
    "OCR_PROVIDER_POLL_INTERVAL": 0.05,
}


def provider_settings(server: HTTPServer) -> dict[str, Any]:
    """Every provider pointed at ``server``, with credentials."""
    return {
        **FAST,
        "OCR_CLOVA_INVOKE_URL": server.url_for(CLOVA_BASE),
        "OCR_CLOVA_SECRET": CLOVA_SECRET,
        "OCR_ULTRAOCR_BASE_URL": server.url_for(ULTRA_BASE),
        "OCR_ULTRAOCR_AUTH_BASE_URL": server.url_for(ULTRA_AUTH),
        "OCR_ULTRAOCR_CLIENT_ID": ULTRA_ID,
        "OCR_ULTRAOCR_CLIENT_SECRET": ULTRA_SECRET,
        "OCR_COMPUTERVISION_VN_BASE_URL": server.url_for(CVVN_BASE),
        "OCR_COMPUTERVISION_VN_API_KEY": CVVN_KEY,
        "OCR_COMPUTERVISION_VN_API_SECRET": CVVN_SECRET,
        "OCR_CHEKIN_BASE_URL": server.url_for(CHEKIN_BASE),
        "OCR_CHEKIN_TOKEN": CHEKIN_TOKEN,
    }


@pytest.fixture(scope="module")
def provider_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture(scope="module")
def provider_worker(
    django_db_setup, django_db_blocker, provider_server, tmp_path_factory
) -> Iterator[WorkerProcess]:
    env = {k: str(v) for k, v in provider_settings(provider_server).items()}
    env["OCR_PROVIDER_QUEUE"] = PROVIDER_QUEUE
    worker = start_worker(
        tmp_path_factory.mktemp("provider-worker") / "worker.log",
        env_extra=env,
        queue=PROVIDER_QUEUE,
    )
    yield worker
    worker.stop()


@pytest.fixture
def server(provider_server, provider_worker, settings) -> Iterator[HTTPServer]:
    """The provider server, fresh handlers; the API process configured like the worker."""
    for name, value in provider_settings(provider_server).items():
        setattr(settings, name, value)
    settings.OCR_PROVIDER_QUEUE = PROVIDER_QUEUE
    registry.reset()
    provider_server.clear()
    yield provider_server
    problems = list(provider_server.assertions) + list(provider_server.handler_errors)
    provider_server.clear()
    registry.reset()
    assert not problems, problems


# -- helpers ---------------------------------------------------------------------------


def page_upload(rendered: Rendered, name: str = "page.png"):
    return upload(rendered.png(), name)


def decoded_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def submit(client, rendered: Rendered, engine: str, **fields) -> str:
    response = client.post(
        "/api/ocr/", {"image": page_upload(rendered), "engine": engine, **fields}
    )
    assert response.status_code == 202, response.content
    return response.json()["id"]


def finished(job_id: str, worker: WorkerProcess) -> Job:
    job = wait_for_job(job_id, timeout=60)
    assert job.status == "done", (job.error_code, job.error_message, worker.output()[-4000:])
    return job


def api_bodies(client, job_id: str) -> dict[str, bytes]:
    """Every API answer about the job (detail, pages, page, history, page image, exports)."""
    bodies: dict[str, bytes] = {}
    for name, url in {
        "detail": f"/api/ocr/{job_id}/",
        "pages": f"/api/ocr/{job_id}/pages/",
        "page": f"/api/ocr/{job_id}/pages/1/",
        "history": "/api/history/",
        "image": f"/api/ocr/{job_id}/pages/1/image/",
        **{f"export-{fmt}": f"/api/ocr/{job_id}/export/?format={fmt}" for fmt in EXPORT_FORMATS},
    }.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code, response.content[:500])
        bodies[name] = response.content
    return bodies


def words_of(page: dict) -> list[dict]:
    return [w for b in page["blocks"] for ln in b["lines"] for w in ln["words"]]


def assert_schema(page: dict) -> None:
    """confidence 0-100 or null and bbox [l, t, r, b] inside the page, at every level."""
    width, height = page["width"], page["height"]
    for block in page["blocks"]:
        items = [block, *block["lines"], *(w for ln in block["lines"] for w in ln["words"])]
        for item in items:
            conf = item["confidence"]
            assert conf is None or 0.0 <= conf <= 100.0, item
            left, top, right, bottom = item["bbox"]
            assert 0 <= left <= right <= width and 0 <= top <= bottom <= height, item


def assert_audited_and_private(
    client, other_client, job: Job, raw: dict, marker: str, worker: WorkerProcess
) -> dict[str, bytes]:
    """The raw answer is kept on the page row, never served; no credential anywhere."""
    bodies = api_bodies(client, str(job.id))
    history = json.loads(bodies["history"])
    assert str(job.id) in [item["id"] for item in history["results"]]

    (row,) = Page.objects.filter(job=job)
    assert row.raw_response == raw
    for name, body in bodies.items():
        assert marker.encode() not in body, f"raw provider response leaked in {name}"
        for secret in SECRETS:
            assert secret.encode() not in body, f"credential in {name}"
    stored = json.dumps(
        [model_to_dict(Job.objects.get(pk=job.pk)), model_to_dict(row)], default=str
    )
    for secret in SECRETS:
        assert secret not in stored
        assert secret not in worker.output()
    assert other_client.get(f"/api/ocr/{job.id}/").status_code == 404
    return bodies


@pytest.fixture
def other_client(other_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(other_user)
    return client


# -- CLOVA ------------------------------------------------------------------------------


def clova_answer(rendered: Rendered, marker: str) -> dict:
    """CLOVA General V2's answer: one field per word, lineBreak at each line's end."""
    fields = []
    line_ends = set()
    count = 0
    for line in rendered.lines:
        count += len(line.split(" "))
        line_ends.add(count - 1)
    for i, (word, (left, top, right, bottom)) in enumerate(rendered.word_boxes):
        fields.append(
            {
                "valueType": "ALL",
                "boundingPoly": {
                    "vertices": [
                        {"x": float(left), "y": float(top)},
                        {"x": float(right), "y": float(top)},
                        {"x": float(right), "y": float(bottom)},
                        {"x": float(left), "y": float(bottom)},
                    ]
                },
                "inferText": word,
                "inferConfidence": 0.9876,
                "type": "NORMAL",
                "lineBreak": i in line_ends,
            }
        )
    return {
        "version": "V2",
        "requestId": marker,
        "timestamp": 1700000000000,
        "images": [
            {
                "uid": marker,
                "name": "page-1",
                "inferResult": "SUCCESS",
                "message": "SUCCESS",
                "validationResult": {"result": "NO_REQUESTED"},
                "fields": fields,
            }
        ],
    }


def test_clova_job_end_to_end(server, auth_client, other_client, provider_worker):
    rendered = render_text(["Hello from CLOVA", "second line here"])
    marker = f"clova-raw-{uuid.uuid4().hex}"
    answer = clova_answer(rendered, marker)
    received: list[dict] = []

    def general(request: Request) -> Response:
        received.append({"headers": dict(request.headers), "body": request.get_json()})
        return Response(json.dumps(answer), content_type="application/json")

    server.expect_request(f"{CLOVA_BASE}/general", method="POST").respond_with_handler(general)

    job = finished(submit(auth_client, rendered, "clova"), provider_worker)

    (call,) = received
    assert call["headers"]["X-Ocr-Secret"] == CLOVA_SECRET
    body = call["body"]
    assert body["version"] == "V2" and uuid.UUID(body["requestId"])
    assert "lang" not in body  # eng: CLOVA reads Latin script without `lang`
    (image,) = body["images"]
    assert image["format"] == "png"
    sent = decoded_image(base64.b64decode(image["data"]))
    assert sent.size == rendered.image.size

    detail = auth_client.get(f"/api/ocr/{job.id}/").json()
    assert detail["status"] == "done" and detail["engine"] == "clova"
    assert detail["text"] == rendered.text
    page = detail["result"]["pages"][0]
    assert (page["width"], page["height"]) == rendered.image.size
    assert_schema(page)
    words = words_of(page)
    assert [(w["text"], tuple(w["bbox"])) for w in words] == rendered.word_boxes
    assert {w["confidence"] for w in words} == {98.76}
    assert all(len(w["polygon"]) == 4 for w in words)
    assert [ln["text"] for b in page["blocks"] for ln in b["lines"]] == rendered.lines
    assert detail["result"]["engine_version"] == "V2"

    assert_audited_and_private(auth_client, other_client, job, answer, marker, provider_worker)


def test_clova_rejected_secret_fails_the_job_with_provider_auth(
    server, auth_client, provider_worker
):
    server.expect_request(f"{CLOVA_BASE}/general", method="POST").respond_with_json(
        {"code": "0002", "message": f"Authentication failed ({CLOVA_SECRET})"}, status=401
    )
    job = wait_for_job(submit(auth_client, render_text(["Denied"]), "clova"), timeout=60)
    assert job.status == "failed"
    assert job.error_code == "provider_auth", (job.error_message, provider_worker.output()[-3000:])
    body = auth_client.get(f"/api/ocr/{job.id}/")
    assert body.json()["error"]["code"] == "provider_auth"
    assert body.json()["result"] is None
    assert CLOVA_SECRET not in body.content.decode()
    assert CLOVA_SECRET not in json.dumps(model_to_dict(job), default=str)
    assert CLOVA_SECRET not in provider_worker.output()
    assert len(server.log) == 1  # an auth error is not retried


# -- UltraOCR ---------------------------------------------------------------------------


def test_ultraocr_job_with_service_option(server, auth_client, other_client, provider_worker):
    rendered = render_text(["CARTEIRA NACIONAL DE HABILITACAO"])
    marker = f"ultra-raw-{uuid.uuid4().hex}"
    job_id = "2AwrSd7bxEMbPrQ5jZHGDzQ4qL3"
    done = {
        "job_ksuid": job_id,
        "created_at": "2024-01-01T00:00:00Z",
        "service": "cnh",
        "status": "done",
        "result": {
            "Time": "3.21",
            "Quantity": 1,
            "Document": [
                {
                    "Page": 1,
                    "Data": {
                        "DocumentType": {"conf": 99, "value": "CNH"},
                        "Nome": {"conf": 87.5, "value": "MARIA DA SILVA"},
                        "Cpf": {"conf": 95, "value": "123.456.789-09"},
                    },
                }
            ],
        },
        "audit": marker,
    }
    tokens: list[dict] = []
    sends: list[Request] = []

    def token(request: Request) -> Response:
        tokens.append(request.get_json())
        return Response(json.dumps({"token": "e2e-bearer-1"}), content_type="application/json")

    def send(request: Request) -> Response:
        sends.append(request)
        assert request.headers["Authorization"] == "Bearer e2e-bearer-1"
        body = {"id": job_id, "status_url": server.url_for(f"{ULTRA_BASE}/ocr/job/result/x")}
        return Response(json.dumps(body), content_type="application/json")

    result_url = f"{ULTRA_BASE}/ocr/job/result/{job_id}/{job_id}"
    server.expect_request(f"{ULTRA_AUTH}/token", method="POST").respond_with_handler(token)
    server.expect_request(f"{ULTRA_BASE}/ocr/job/send/cnh", method="POST").respond_with_handler(
        send
    )
    server.expect_oneshot_request(result_url, method="GET").respond_with_json(
        {"job_ksuid": job_id, "status": "processing"}
    )
    server.expect_request(
        result_url, method="GET", headers={"Authorization": "Bearer e2e-bearer-1"}
    ).respond_with_json(done)

    job = finished(submit(auth_client, rendered, "ultraocr", service="cnh"), provider_worker)

    assert tokens and tokens[0]["ClientID"] == ULTRA_ID
    assert tokens[0]["ClientSecret"] == ULTRA_SECRET and 1 <= tokens[0]["ExpiresIn"] <= 1440
    (sent,) = sends
    jpeg = decoded_image(base64.b64decode(sent.get_json()["data"]))
    assert jpeg.format == "JPEG" and jpeg.size == rendered.image.size

    detail = auth_client.get(f"/api/ocr/{job.id}/").json()
    assert detail["options"]["service"] == "cnh"
    expected = {
        "DocumentType": {"value": "CNH", "confidence": 99.0},
        "Nome": {"value": "MARIA DA SILVA", "confidence": 87.5},
        "Cpf": {"value": "123.456.789-09", "confidence": 95.0},
    }
    assert detail["result"]["fields"] == expected
    page = detail["result"]["pages"][0]
    assert page["fields"] == expected
    assert detail["text"] == "DocumentType: CNH\nNome: MARIA DA SILVA\nCpf: 123.456.789-09"
    assert_schema(page)  # no coordinates: empty boxes, no words
    assert words_of(page) == []

    bodies = assert_audited_and_private(
        auth_client, other_client, job, done, marker, provider_worker
    )
    assert bodies["export-txt"].decode().strip() == detail["text"]


# -- computervision.com.vn ------------------------------------------------------------------


def test_computervision_vn_job_end_to_end(server, auth_client, other_client, provider_worker):
    rendered = render_text(["Xin chao the world", "Second line"])
    marker = f"cvvn-raw-{uuid.uuid4().hex}"
    lines: list[list[dict]] = []
    boxes = iter(rendered.word_boxes)
    for line in rendered.lines:
        texts = []
        for _ in line.split(" "):
            word, (left, top, right, bottom) = next(boxes)
            texts.append(
                {
                    "text": word,
                    "confidence": 0.93,
                    "box": {"left": left, "top": top, "right": right, "bottom": bottom},
                }
            )
        lines.append(texts)
    answer = {"data": [[lines]], "errorCode": "0", "errorMessage": "", "requestId": marker}
    calls: list[Request] = []

    def general(request: Request) -> Response:
        calls.append(request)
        return Response(json.dumps(answer), content_type="application/json")

    server.expect_request(
        f"{CVVN_BASE}/api/v2/ocr/document/general",
        method="POST",
        query_string={"format_type": "file", "get_thumb": "false"},
    ).respond_with_handler(general)

    job = finished(submit(auth_client, rendered, "computervision_vn"), provider_worker)

    (call,) = calls
    expected_auth = base64.b64encode(f"{CVVN_KEY}:{CVVN_SECRET}".encode()).decode()
    assert call.headers["Authorization"] == f"Basic {expected_auth}"
    img = decoded_image(call.files["img"].read())
    assert img.format == "PNG" and img.size == rendered.image.size

    detail = auth_client.get(f"/api/ocr/{job.id}/").json()
    assert detail["text"] == rendered.text
    page = detail["result"]["pages"][0]
    assert_schema(page)
    assert [(w["text"], tuple(w["bbox"])) for w in words_of(page)] == rendered.word_boxes
    assert {w["confidence"] for w in words_of(page)} == {93.0}

    assert_audited_and_private(auth_client, other_client, job, answer, marker, provider_worker)


# -- Chekin --------------------------------------------------------------------------------


def test_chekin_job_end_to_end(server, auth_client, other_client, provider_worker):
    rendered = render_text(["P<UTOERIKSSON<<ANNA<MARIA"])
    marker = f"chekin-raw-{uuid.uuid4().hex}"
    scan_id = "64672caf4d2140e19d68b222fa0da318"
    new = {
        **NEW_SCAN,
        "id": scan_id,
        "picture_file": "https://s3.example/uploads/pictures/x.jpg",
    }
    done = {
        **new,
        **ERIKSSON_READ,
        "picture_file": f"https://s3.example/uploads/pictures/{marker}.jpg",
    }
    pictures: list[Request] = []

    def picture(request: Request) -> Response:
        pictures.append(request)
        return Response(json.dumps(new), status=201, content_type="application/json")

    auth = {"Authorization": f"Token {CHEKIN_TOKEN}"}
    data_url = f"{CHEKIN_BASE}/tools/ocr/data/{scan_id}/"
    server.expect_request(
        f"{CHEKIN_BASE}/tools/ocr/picture/", method="POST", headers=auth
    ).respond_with_handler(picture)
    server.expect_oneshot_request(data_url, method="GET", headers=auth).respond_with_json(new)
    server.expect_oneshot_request(data_url, method="GET", headers=auth).respond_with_json(
        {**new, "status": "PRO"}
    )
    server.expect_request(data_url, method="GET", headers=auth).respond_with_json(done)

    job = finished(submit(auth_client, rendered, "chekin"), provider_worker)

    (call,) = pictures
    prefix, _, data = call.get_json()["picture_file"].partition(",")
    assert prefix == "data:image/jpeg;base64"
    assert decoded_image(base64.b64decode(data)).size == rendered.image.size

    detail = auth_client.get(f"/api/ocr/{job.id}/").json()
    mrz = detail["result"]["mrz"]
    assert mrz == detail["result"]["pages"][0]["mrz"]
    assert mrz["number"] == "L898902C3" and mrz["surname"] == "ERIKSSON"
    assert mrz["date_of_birth"] == "1974-08-12" and mrz["expiration_date"] == "2012-04-15"
    assert mrz["valid_score"] == 100 and mrz["mrz_detected"] is True
    assert all(mrz[k] is True for k in mrz if k.startswith("valid_") and k != "valid_score")
    assert "Document number: L898902C3" in detail["text"]
    page = detail["result"]["pages"][0]
    assert_schema(page)
    assert page["confidence"] == 100.0
    assert detail["result"]["engine_version"] == "v2"

    assert_audited_and_private(auth_client, other_client, job, done, marker, provider_worker)


# -- without credentials ----------------------------------------------------------------------

REQUIRED = {
    "clova": ("OCR_CLOVA_INVOKE_URL", "OCR_CLOVA_SECRET"),
    "ultraocr": ("OCR_ULTRAOCR_CLIENT_ID", "OCR_ULTRAOCR_CLIENT_SECRET"),
    "computervision_vn": ("OCR_COMPUTERVISION_VN_API_KEY", "OCR_COMPUTERVISION_VN_API_SECRET"),
    "chekin": ("OCR_CHEKIN_TOKEN",),
}


@pytest.mark.parametrize("engine", sorted(REQUIRED))
def test_without_credentials_the_engine_is_unavailable(engine, settings, auth_client, api_client):
    for name in REQUIRED[engine]:
        setattr(settings, name, "")
    registry.reset()
    try:
        listed = {e["name"]: e for e in api_client.get("/api/engines/").json()}
        assert listed[engine]["available"] is False
        assert listed[engine]["kind"] == "cloud"
        assert listed["tesseract"]["available"] is True  # never the whole service
        response = auth_client.post(
            "/api/ocr/", {"image": page_upload(render_text(["No keys"])), "engine": engine}
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "engine_unavailable"
        assert response.json()["error"]["field"] == "engine"
        assert not Job.objects.exists()
    finally:
        registry.reset()


def test_bad_ultraocr_service_is_refused_before_anything_is_stored(server, auth_client):
    response = auth_client.post(
        "/api/ocr/",
        {"image": page_upload(render_text(["x"])), "engine": "ultraocr", "service": "../admin"},
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_option"
    assert response.json()["error"]["field"] == "service"
    assert not Job.objects.exists()
    assert len(server.log) == 0
