"""Deployment smoke test: ``make serve`` on loopback, an OCR job end to end, then stop.

nginx (port 18080) -> uWSGI -> Redis -> Celery worker -> PostgreSQL, with its
own database, queues, media and static folders, so it never touches a
developer's ``make serve`` (port 8080). Runs when ``OCR_TEST_DEPLOY=1`` or the
suite itself runs on Redis (``CELERY_BROKER_URL=redis://...``): the
PostgreSQL + Redis pass of CI. Everything is stopped, and the database
dropped, even when the test fails.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from tests.imaging import render_text

ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("OCR_TEST_DEPLOY_PORT", "18080"))
PG = os.environ.get("OCR_TEST_DEPLOY_PG", "postgres://postgres@127.0.0.1:5432")
_BROKER = os.environ.get("CELERY_BROKER_URL", "")

pytestmark = [
    pytest.mark.deploy,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("OCR_TEST_DEPLOY") != "1" and not _BROKER.startswith("redis"),
        reason="deployment smoke test: set OCR_TEST_DEPLOY=1 (make test-deploy) or run on Redis",
    ),
]


@dataclass
class Stack:
    url: str
    env: dict[str, str]
    serve_dir: Path
    media: Path
    database_url: str
    metrics_token: str

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return requests.post(self.url + path, timeout=60, **kw)


def _make(target: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _logs(serve_dir: Path) -> str:
    out = []
    for log in sorted(serve_dir.glob("*.log")):
        out.append(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
    return "\n".join(out)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tag = uuid.uuid4().hex[:8]
    base = tmp_path_factory.mktemp("serve")
    db_name = f"onlineocr_deploy_{tag}"
    token = uuid.uuid4().hex
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "DJANGO_", "OCR_", "UWSGI_"))
    }
    env.update(
        {
            "NGINX_PORT": str(PORT),
            "SERVE_DIR": str(base / "serve"),
            "SERVE_NAME": f"deploy-{tag}",
            "SERVE_OCR_CONCURRENCY": "1",
            "SERVE_PROVIDER_CONCURRENCY": "1",
            "DATABASE_URL": f"{PG}/{db_name}",
            "CELERY_BROKER_URL": _BROKER
            if _BROKER.startswith("redis")
            else "redis://127.0.0.1:6379/0",
            "OCR_QUEUE": f"deploy-{tag}",
            "OCR_PROVIDER_QUEUE": f"deploy-{tag}-provider",
            "OCR_MEDIA_ROOT": str(base / "media"),
            "DJANGO_STATIC_ROOT": str(base / "static"),
            "DJANGO_SECRET_KEY": f"deploy-test-{token}",
            "OCR_VAR_DIR": str(base / "var"),
            "OCR_MAX_UPLOAD_BYTES": "1000000",
            "OCR_METRICS_TOKEN": token,
            "OCR_METRICS_ALLOW": "",
            "OCR_LOG_FORMAT": "json",
        }
    )
    s = Stack(
        url=f"http://127.0.0.1:{PORT}",
        env=env,
        serve_dir=base / "serve",
        media=base / "media",
        database_url=env["DATABASE_URL"],
        metrics_token=token,
    )
    try:
        started = _make("serve", env, timeout=170)
        assert started.returncode == 0, started.stdout + started.stderr + _logs(s.serve_dir)
        yield s
    finally:
        stopped = _make("serve-stop", env, timeout=90)
        subprocess.run(
            ["dropdb", "--if-exists", "--force", "-h", "127.0.0.1", "-U", "postgres", db_name],
            capture_output=True,
            timeout=30,
        )
        leftovers = [p.name for p in s.serve_dir.glob("*.pid") if p.name != "celerybeat.pid"]
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert leftovers == [], f"pid files left: {leftovers}"


def _login(stack: Stack, name: str) -> dict[str, str]:
    creds = {"username": name, "password": "A-long-passphrase-42", "email": f"{name}@example.org"}
    r = stack.post("/api/register/", json=creds)
    assert r.status_code == 201, r.text
    r = stack.post("/api/token_obtain_pair/", json=creds)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access']}"}


def test_an_ocr_job_goes_through_nginx_uwsgi_redis_worker_and_postgres(stack: Stack):
    owner = _login(stack, "owner")
    png = render_text(["Deployment smoke test"]).png()
    r = stack.post(
        "/api/ocr/?wait=30",
        headers=owner,
        files={"image": ("smoke.png", png, "image/png")},
        data={"languages": "eng"},
    )
    assert r.status_code in (200, 202), r.text
    assert r.headers["Server"] == "nginx"
    job_id = r.json()["id"]
    deadline = time.monotonic() + 60
    while r.json()["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.3)
        r = stack.get(f"/api/ocr/{job_id}/", headers=owner)
    job = r.json()
    assert job["status"] == "done", job
    assert "smoke" in job["text"].lower()

    # The row lives in this stack's PostgreSQL database, the upload in its media folder.
    with psycopg.connect(stack.database_url) as conn:
        status, name = conn.execute(
            "SELECT status, file FROM ocr_job WHERE id = %s", (job_id,)
        ).fetchone()
    assert status == "done"
    assert (stack.media / name).read_bytes() == png

    # Nobody reaches the upload by URL: media/ is not served, the internal location
    # answers only X-Accel-Redirect from the app.
    assert stack.get(f"/media/{name}").status_code == 404
    assert stack.get(f"/protected-media/{name}").status_code == 404
    assert stack.get(f"/protected-media/{name}", headers=owner).status_code == 404

    # A stranger sees neither the job nor its file; the owner gets the file.
    stranger = _login(stack, "stranger")
    assert stack.get(f"/api/ocr/{job_id}/", headers=stranger).status_code == 404
    assert stack.get(f"/api/ocr/{job_id}/file/", headers=stranger).status_code == 404
    mine = stack.get(f"/api/ocr/{job_id}/file/", headers=owner)
    assert mine.status_code == 200
    assert mine.content == png

    # The metrics count it (with the token only).
    assert stack.get("/metrics").status_code == 403
    metrics = stack.get("/metrics", headers={"Authorization": f"Bearer {stack.metrics_token}"})
    assert metrics.status_code == 200
    # Labelled by the job's engine: the shipped default, auto (docs/engines-auto.md).
    assert 'onlineocr_jobs{engine="auto",status="done"} 1.0' in metrics.text
    assert 'onlineocr_ocr_page_seconds_count{engine="auto"} 1.0' in metrics.text


def test_nginx_serves_static_files_itself_with_long_caching(stack: Stack):
    r = stack.get("/static/rest_framework/css/bootstrap.min.css")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "max-age=604800"  # nginx's `expires 7d`
    assert "Expires" in r.headers


def test_security_headers_and_health(stack: Stack):
    # The public answer is the status alone; the metrics token shows the checks.
    assert stack.get("/api/health/").json() == {"status": "ok"}
    r = stack.get("/api/health/", headers={"Authorization": f"Bearer {stack.metrics_token}"})
    assert r.status_code == 200, r.text
    checks = r.json()["checks"]
    assert {k for k, v in checks.items() if v["ok"]} == {
        "database",
        "broker",
        "tesseract",
        "workers",
        "disk",
    }
    assert checks["database"]["detail"] == "postgresql"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert stack.get("/api/health/live/").json() == {"status": "ok"}


def test_a_body_over_the_upload_limit_is_refused_by_nginx_in_the_api_shape(stack: Stack):
    r = stack.post("/api/ocr/", data=b"x" * 2_000_000, headers={"Content-Type": "image/png"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "file_too_large"


def test_logs_are_json_lines(stack: Stack):
    import json

    access = (stack.serve_dir / "nginx-access.log").read_text().splitlines()
    assert access and all(json.loads(line)["status"] for line in access)
    worker = (stack.serve_dir / "worker-ocr.log").read_text().splitlines()
    records = [json.loads(line) for line in worker if line.startswith("{")]
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert dt.datetime.fromisoformat(records[0]["time"])
