"""The ``onlineocr-client`` command line tool against the real service.

In-process through ``main(argv)``, and once as the installed console script in a
real subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from onlineocr_client.cli import main

from tests.clients.conftest import write_page
from tests.imaging import cer, text_pdf

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ocr_writes_one_file_per_input_reports_failures_and_resumes(
    live_server, api_key, celery_worker, tmp_path, capsys
):
    from app.models import Job

    a, rendered_a = write_page(tmp_path, "alpha.png", ["The first scanned page"])
    b, rendered_b = write_page(tmp_path, "beta.png", ["The second scanned page"])
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"garbage that only calls itself a PNG\n" * 10)
    out_dir = tmp_path / "out"
    common = ["--url", live_server.url, "--api-key", api_key]

    code, out, err = run(
        capsys, *common, "ocr", str(a), str(broken), str(b), "-o", str(out_dir), "--jobs", "2"
    )
    assert code == 1
    assert cer(rendered_a.text, (out_dir / "alpha.txt").read_text()) < 0.05
    assert cer(rendered_b.text, (out_dir / "beta.txt").read_text()) < 0.05
    assert not (out_dir / "broken.txt").exists()
    failure = [line for line in err.splitlines() if "broken.png" in line]
    assert len(failure) == 1 and "unsupported_format" in failure[0]
    assert "2 done, 0 skipped, 1 failed" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["alpha.txt", "beta.txt"]
    assert Job.objects.count() == 2
    mtime = (out_dir / "alpha.txt").stat().st_mtime_ns

    # a second run skips what is done: no new job, the files untouched
    code, out, err = run(capsys, *common, "ocr", str(a), str(b), "-o", str(out_dir))
    assert code == 0, err
    assert out.count("skipped") == 2 and "0 done, 2 skipped, 0 failed" in err
    assert Job.objects.count() == 2
    assert (out_dir / "alpha.txt").stat().st_mtime_ns == mtime

    # two inputs that would write the same output: the second is refused
    other = tmp_path / "sub"
    other.mkdir()
    twin, _ = write_page(other, "alpha.png", ["x"])
    code, out, err = run(
        capsys, *common, "ocr", str(a), str(twin), str(tmp_path / "nope.png"), "-o", str(out_dir)
    )
    assert code == 1
    assert "duplicate_output" in err and "nope.png" in err and "file_not_found" in err


def test_ocr_to_pdf_with_the_environment(
    live_server, api_key, celery_worker, tmp_path, capsys, monkeypatch
):
    scan, _ = write_page(tmp_path, "scan.png", ["Searchable now"])
    monkeypatch.setenv("ONLINEOCR_URL", live_server.url)
    monkeypatch.setenv("ONLINEOCR_API_KEY", api_key)
    code, out, err = run(
        capsys, "ocr", str(scan), "--format", "pdf", "-o", str(tmp_path), "-l", "eng"
    )
    assert code == 0, err
    assert (tmp_path / "scan.ocr.pdf").read_bytes().startswith(b"%PDF")
    assert "scan.ocr.pdf" in out


def test_history_get_cancel_and_keys(live_server, api_key, client, celery_worker, capsys):
    from tests.imaging import render_text

    job = client.ocr(render_text(["Findable words"]).png(), filename="findable.png")
    common = ["--url", live_server.url, "--api-key", api_key]

    code, out, _ = run(capsys, *common, "history", "--search", "Findable")
    assert code == 0 and job.id in out and "findable.png" in out and "done" in out
    client.ocr(render_text(["Another"]).png(), filename="another.png")
    code, out, _ = run(capsys, *common, "history", "--limit", "1")
    assert code == 0 and len(out.splitlines()) == 1 and "another.png" in out
    code, out, _ = run(capsys, *common, "history", "--status", "failed")
    assert code == 0 and out == ""

    code, out, _ = run(capsys, *common, "get", job.id)
    assert code == 0 and "status: done" in out and "Findable words" in out

    code, out, err = run(capsys, *common, "cancel", job.id)
    assert code == 1 and "already_finished" in err
    running = client.submit(text_pdf(6), filename="long.pdf")
    code, out, err = run(capsys, *common, "cancel", running.id)
    assert code == 0 and out.split() == [running.id, "canceled"]

    code, out, err = run(capsys, *common, "get", "00000000-0000-4000-8000-000000000000")
    assert code == 1 and "not_found" in err

    code, out, _ = run(capsys, *common, "keys")
    assert code == 0 and api_key[:8] in out and "client" in out

    code, out, err = run(capsys, "--url", live_server.url, "--api-key", "bad.key", "keys")
    assert code == 1 and "authentication_failed" in err

    code, out, _ = run(capsys, *common, "engines")
    assert code == 0 and any(line.startswith("tesseract\tavailable") for line in out.splitlines())


def test_a_missing_url_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.delenv("ONLINEOCR_URL", raising=False)
    with pytest.raises(SystemExit) as exc:
        main(["keys"])
    assert exc.value.code == 2
    assert "ONLINEOCR_URL" in capsys.readouterr().err


def test_the_installed_console_script(live_server, api_key, celery_worker, tmp_path):
    script = Path(sys.executable).parent / "onlineocr-client"
    assert script.exists(), "pip install -e ./clients/python first"
    scan, rendered = write_page(tmp_path, "page.png", ["From the console script"])
    env = {**os.environ, "ONLINEOCR_URL": live_server.url, "ONLINEOCR_API_KEY": api_key}
    done = subprocess.run(
        [str(script), "ocr", str(scan), "-o", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert cer(rendered.text, (tmp_path / "out" / "page.txt").read_text()) < 0.05
    assert "1 done, 0 skipped, 0 failed" in done.stderr
