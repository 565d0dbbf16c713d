"""The API keeps its OpenAPI schema: schemathesis against a live server and a real worker.

Every phase (explicit examples, coverage, fuzzing, stateful via the schema's links)
and every check (server errors, status codes, content types, response schemas,
headers, positive/negative data, auth, use-after-free...) runs against the schema
the server itself serves at ``/api/schema/``, authenticated with a real JWT. What
the schema cannot express is configured in ``tests/api/schemathesis.toml``.

``OCR_SCHEMATHESIS_MAX_EXAMPLES`` (default 20) and ``OCR_SCHEMATHESIS_SEED`` tune
a run; the default takes about two minutes on two cores.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.core.cache import cache

from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.worker,
    pytest.mark.fuzz,
    pytest.mark.django_db(transaction=True),
]

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = int(os.environ.get("OCR_SCHEMATHESIS_MAX_EXAMPLES", "20"))
SEED = int(os.environ.get("OCR_SCHEMATHESIS_SEED", "20261130"))


@pytest.fixture
def generous_limits(settings, monkeypatch):
    """Throttles and quotas stay on, with limits a few thousand requests never reach."""
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {**SimpleRateThrottle.THROTTLE_RATES, "user": "100000/hour", "anon": "100000/hour"},
    )
    settings.OCR_DAILY_PAGE_QUOTA = 100_000
    settings.OCR_LOGIN_RATE_USER = "100000/hour"
    settings.OCR_LOGIN_RATE_IP = "100000/hour"
    # Random image_url values must fail fast, not after the 15 s default.
    settings.OCR_URL_TIMEOUT = 2.0
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ACCESS_TOKEN_LIFETIME": timedelta(hours=1)}
    yield
    # Failed sign-ins were counted per address in the cache: leave no trace for other tests.
    cache.clear()


def test_api_conforms_to_its_schema(live_server, celery_worker, generous_limits, tmp_path):
    user = UserFactory()
    tokens = requests.post(
        f"{live_server.url}/api/token_obtain_pair/",
        json={"username": user.username, "password": PASSWORD},
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text
    access = tokens.json()["access"]

    junit = tmp_path / "schemathesis-junit.xml"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{live_server.url}/api/schema/?format=json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--header",
        f"Authorization: Bearer {access}",
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--generation-database",
        "none",
        "--report",
        "junit",
        "--report-junit-path",
        str(junit),
        "--no-color",
    ]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False
    )
    output = result.stdout + result.stderr
    report = junit.read_text() if junit.exists() else "(no report written)"
    assert result.returncode == 0, f"schemathesis found problems:\n{output}\n{junit}:\n{report}"
    # The run really exercised the API: the stateful phase followed the schema's links,
    # which start at a created job (POST /api/ocr/ -> pages, image, exports, file, delete).
    assert "✅ Stateful" in output, output
    links = re.search(r"API Links:\s+(\d+) covered", output)
    assert links and int(links.group(1)) >= 3, output
