"""Shared fixtures: rendered images, users and clients, a real Celery worker.

The worker is a real ``celery worker`` process started against the test
database and the configured broker (the embedded filesystem broker by default,
Redis when ``CELERY_BROKER_URL`` is set), on a queue of its own per test run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.imaging import render_text  # noqa: F401  (re-exported for tests)

ROOT = Path(__file__).resolve().parent.parent
TEST_QUEUE = f"test-{uuid.uuid4().hex[:8]}"
EXTRA_ENGINES = ["tests.engines.crashing.build"]


#: The defaults the service ships with (onlineocr/settings.py), before the suite's own.
SHIPPED_DEFAULTS = (django_settings.OCR_DEFAULT_ENGINE, django_settings.OCR_DEFAULT_LANGUAGES)


@pytest.fixture
def shipped_defaults(settings):
    """The service's own defaults (engine=auto, languages=auto) for a test about them."""
    settings.OCR_DEFAULT_ENGINE, settings.OCR_DEFAULT_LANGUAGES = SHIPPED_DEFAULTS
    return SHIPPED_DEFAULTS


@pytest.fixture(scope="session", autouse=True)
def _test_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One queue and media folder per run; the crash-test engine plug-in registered."""
    from app.engines import registry

    media = tmp_path_factory.mktemp("media")
    django_settings.OCR_QUEUE = TEST_QUEUE
    django_settings.OCR_PROVIDER_QUEUE = TEST_QUEUE
    django_settings.OCR_WEBHOOK_QUEUE = TEST_QUEUE
    django_settings.OCR_EXTRA_ENGINES = EXTRA_ENGINES
    django_settings.MEDIA_ROOT = str(media)
    # The suite reads with one engine and one pack, as a request naming them does; the
    # tests about the shipped defaults (engine=auto, languages=auto) ask for them with
    # the ``shipped_defaults`` fixture. On the suite's many tiny test images auto would
    # ask PP-OCR for a second opinion (too few words) and double the run's time.
    django_settings.OCR_DEFAULT_ENGINE = "tesseract"
    django_settings.OCR_DEFAULT_LANGUAGES = "eng"
    # Every health test sees fresh checks (the public status is otherwise kept 5 s).
    django_settings.OCR_HEALTH_PUBLIC_CACHE_SECONDS = 0
    registry.reset()
    yield
    registry.reset()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def auth_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _test_database_url() -> str:
    from django.db import connection

    cfg = connection.settings_dict
    if cfg["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{cfg['NAME']}"
    host = cfg.get("HOST") or "127.0.0.1"
    port = cfg.get("PORT") or 5432
    user = cfg.get("USER") or ""
    password = cfg.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{host}:{port}/{cfg['NAME']}"


class WorkerProcess:
    """A running ``celery worker`` subprocess; ``log`` is its output file."""

    def __init__(self, proc: subprocess.Popen, log: Path) -> None:
        self.proc = proc
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def child_pids(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True
        ).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start_worker(
    log: Path, *, concurrency: int = 2, env_extra: dict | None = None, queue: str = TEST_QUEUE
) -> WorkerProcess:
    """Start a real Celery worker on the test DB and this run's queue; wait until ready.

    ``queue``: the queue it consumes (another one keeps it apart from the session worker).
    """
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": _test_database_url(),
            "OCR_QUEUE": queue,
            "OCR_PROVIDER_QUEUE": queue,
            "OCR_WEBHOOK_QUEUE": queue,
            "OCR_MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
            "OCR_EXTRA_ENGINES": ",".join(EXTRA_ENGINES),
            "OMP_THREAD_LIMIT": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(env_extra or {})
    fh = log.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "onlineocr",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "-Q",
            queue,
            "-n",
            f"test-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=fh,
        stderr=subprocess.STDOUT,
    )
    worker = WorkerProcess(proc, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{worker.output()}")
        if "ready." in worker.output():
            return worker
        time.sleep(0.2)
    worker.stop()
    raise RuntimeError(f"worker did not start:\n{worker.output()}")


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[WorkerProcess]:
    """A real worker process for the whole run (tests using it need ``transactional_db``)."""
    worker = start_worker(tmp_path_factory.mktemp("worker") / "worker.log")
    yield worker
    worker.stop()


def wait_for_job(job_id, *, timeout: float = 60.0, statuses=("done", "failed", "canceled")):
    """Poll the database until the job reaches one of ``statuses``; return it."""
    from app.models import Job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.status in statuses:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job.status} after {timeout} s")


def wait_until(predicate, timeout: float, what: str):
    """Poll ``predicate`` every 50 ms until it returns something true; return that.

    Raises ``AssertionError`` naming ``what`` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


#: Fixtures that reach the database or a worker (and so the broker), directly or not.
_STORE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "live_server", "celery_worker"}
)

#: Where the tests about storing and running jobs live (paths from the repository root).
#: The pages, the client library, the compatibility APIs and the engines reach the
#: database and the broker only through the same services, which these test.
_STORE_SUBJECTS = (
    "tests/api/",
    "tests/services/",
    "tests/pipeline/",
    "tests/management/",
    "tests/onlineocr/",
    "tests/test_",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers from what a test is, whether or not it says so:

    - ``browser``: it needs Chromium (``tests.web.chromium.requires_chromium``), so that
      ``-m "not browser"`` leaves them all out;
    - ``store``: it is about storing and running jobs (under :data:`_STORE_SUBJECTS`)
      and touches the database or a worker (a ``django_db`` mark or one of
      :data:`_STORE_FIXTURES`): .ci/run runs these a second time, on PostgreSQL and
      Redis.
    """
    root = Path(__file__).resolve().parents[1]
    for item in items:
        for mark in item.iter_markers("skipif"):
            if "chromium" in str(mark.kwargs.get("reason", "")):
                item.add_marker(pytest.mark.browser)
                break
        uses_store = item.get_closest_marker("django_db") is not None or bool(
            _STORE_FIXTURES & set(getattr(item, "fixturenames", ()))
        )
        path = Path(str(item.fspath)).resolve().relative_to(root).as_posix()
        if uses_store and path.startswith(_STORE_SUBJECTS):
            item.add_marker(pytest.mark.store)
