"""``make run`` stops cleanly: on Ctrl-C and on ``kill -TERM`` of make.

Ctrl-C in a terminal sends SIGINT to the whole foreground process group, so the
test starts ``make run`` as the leader of its own group and signals that group.
Its web server and Celery workers (OCR: prefork pool, 2 processes; webhooks: threads)
must be gone within seconds, make must end by the signal (not crash), and each worker
must say "Warm shutdown" once, not in a flood (issue 11, point 17). The service runs on
the embedded defaults in a temporary folder, whatever the suite itself runs on.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _descendants(pid: int) -> dict[int, str]:
    """pid -> command line of every process below ``pid``."""
    tree, found, todo = _children(), {}, [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            try:
                cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            found[child] = cmd
            todo.append(child)
    return found


def _alive(pid: int, cmd: str) -> bool:
    """Still running (not a zombie) and still the same program."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        now = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z" and now == cmd


@pytest.mark.parametrize(
    ("sig", "whole_group"),
    [
        pytest.param(signal.SIGINT, True, id="ctrl-c"),  # what the terminal does
        pytest.param(signal.SIGTERM, False, id="kill-term-make"),  # make only
    ],
)
def test_make_run_stops_cleanly(tmp_path, sig, whole_group):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(OCR_VAR_DIR=str(tmp_path / "var"), OCR_MEDIA_ROOT=str(tmp_path / "media"))
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={port}", "WORKERS=2",
             f"VENV={sys.prefix}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
            # A terminal's Ctrl-C finds SIGINT at its default; a test run started in the
            # background (``cmd &`` in a script) inherits it ignored, and bash can then
            # not trap it: reset it, as a terminal user has it.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
    procs: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 120
        while True:
            assert make.poll() is None, f"make run ended early:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"make run did not come up:\n{log.read_text()}"
            procs.update(_descendants(make.pid))
            try:
                live = requests.get(f"http://127.0.0.1:{port}/api/health/live/", timeout=2)
            except requests.ConnectionError:
                live = None
            if live is not None and live.ok and log.read_text().count(" ready.") >= 2:
                break
            time.sleep(0.5)
        procs.update(_descendants(make.pid))
        workers = [p for p, cmd in procs.items() if "celery" in cmd and " worker " in cmd]
        # The OCR worker's main process and its 2 pool processes, and the webhook worker.
        assert len(workers) >= 4, procs
        assert any("runserver" in cmd for cmd in procs.values()), procs

        if whole_group:
            os.killpg(make.pid, sig)
        else:
            make.send_signal(sig)
        # make waits for scripts/run.sh, which waits for both (the worker for its pool).
        # Usually 2-3 s; if it ever hangs, the processes still alive are named.
        try:
            returncode = make.wait(timeout=45)
        except subprocess.TimeoutExpired:
            alive = {p: c for p, c in procs.items() if _alive(p, c)}
            raise AssertionError(
                f"make run still running 45 s after {sig.name}; alive: {alive}\n{log.read_text()}"
            ) from None
        output = log.read_text()
        left = {p: c for p, c in procs.items() if _alive(p, c)}
        assert not left, f"still running after make ended: {left}\n{output}"
        # make ends by the signal it got (it re-raises it), not by a crash.
        assert returncode == -sig, (returncode, output)
        assert output.count("Warm shutdown") == 2, output  # once per worker
        assert "Cold shutdown" not in output, output
    finally:  # nothing outlives the test, even when it fails
        if make.poll() is None:
            make.kill()
            make.wait(timeout=10)
        for pid, cmd in procs.items():
            if _alive(pid, cmd):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
