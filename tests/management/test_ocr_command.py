"""``manage.py ocr`` prints the text of local files, read as a job reads them."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from app.pipeline.options import JobOptions
from tests.api.helpers import upload
from tests.conftest import wait_for_job
from tests.imaging import cer, render_text, text_pdf

pytestmark = pytest.mark.django_db(databases=[])

ROOT = Path(__file__).resolve().parents[2]


def test_it_prints_the_text(tmp_path, capsys):
    rendered = render_text()
    path = tmp_path / "page.png"
    rendered.image.save(path)
    call_command("ocr", str(path))
    assert cer(rendered.text, capsys.readouterr().out) < 0.02


def test_json_output_has_the_schema(tmp_path, capsys, shipped_defaults):
    path = tmp_path / "page.jpg"
    render_text(["Hello from the command line"]).image.save(path, quality=95)
    call_command("ocr", str(path), "--json")
    out = json.loads(capsys.readouterr().out)
    # The defaults: engine=auto read this clean page with Tesseract alone.
    assert out["engine"] == "auto" and out["pages"][0]["engine"] == "tesseract"
    assert out["pages"][0]["blocks"][0]["lines"][0]["text"] == "Hello from the command line"


def test_bad_files_are_reported_not_crashed_on(tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    with pytest.raises(CommandError):
        call_command("ocr", str(bad), str(tmp_path / "missing.png"))
    err = capsys.readouterr().err
    assert "unsupported_format" in err and "cannot read" in err


# -- --jobs ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def four_pages(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ocr") / "four.pdf"
    path.write_bytes(text_pdf(4))
    return path


def run_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    call_command("ocr", *args, "--json")
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def pools(monkeypatch) -> list[int]:
    """The ``max_workers`` of every process pool the command starts."""
    from concurrent.futures import ProcessPoolExecutor

    from app.management.commands import ocr

    started: list[int] = []

    class Recorded(ProcessPoolExecutor):
        def __init__(self, max_workers=None, **kwargs):
            started.append(max_workers)
            super().__init__(max_workers=max_workers, **kwargs)

    monkeypatch.setattr(ocr, "ProcessPoolExecutor", Recorded)
    return started


@pytest.mark.parametrize("pages", [None, "1,3-4"], ids=["all", "1,3-4"])
def test_jobs_2_reads_as_jobs_1(four_pages, capsys, pools, pages):
    extra = ["--pages", pages] if pages else []
    one = run_json(capsys, str(four_pages), "--jobs", "1", *extra)
    assert pools == []
    two = run_json(capsys, str(four_pages), "--jobs", "2", *extra)
    assert pools == [2]  # the pages were read in 2 processes
    numbers = [1, 2, 3, 4] if pages is None else [1, 3, 4]
    assert [p["number"] for p in two["pages"]] == numbers  # in page order
    for page in two["pages"]:
        assert cer(f"Page {page['number']} of a document read page by page.", page["text"]) < 0.05
    # the schema has no durations: the results are the same, page by page, word by word
    assert two["pages"] == one["pages"]
    assert two == one


def test_jobs_2_prints_the_same_text(four_pages, capsys, pools):
    call_command("ocr", str(four_pages), "--jobs", "1")
    one = capsys.readouterr().out
    call_command("ocr", str(four_pages), "-j", "2")
    two = capsys.readouterr().out
    assert pools == [2]
    assert two == one
    assert one.count("\f") == 3 and "Page 4 of a document" in one


def test_jobs_more_than_pages_uses_a_process_a_page(four_pages, capsys, pools):
    out = run_json(capsys, str(four_pages), "--jobs", "8", "--pages", "2-3")
    assert pools == [2]
    assert [p["number"] for p in out["pages"]] == [2, 3]


def test_jobs_on_a_single_page_starts_no_pool(four_pages, capsys, pools):
    out = run_json(capsys, str(four_pages), "--jobs", "4", "--pages", "2")
    assert pools == []
    assert [p["number"] for p in out["pages"]] == [2]


@pytest.mark.parametrize("jobs", ["0", "-1"])
def test_jobs_below_1_is_an_error(four_pages, capsys, jobs):
    with pytest.raises(CommandError, match="--jobs must be 1 or more"):
        call_command("ocr", str(four_pages), "--jobs", jobs)
    assert capsys.readouterr().out == ""


# -- --pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("pages", ["5", "2-9", "0"])
def test_pages_out_of_range_fail(four_pages, capsys, pages):
    with pytest.raises(CommandError):
        call_command("ocr", str(four_pages), "--pages", pages)
    captured = capsys.readouterr()
    assert "invalid_pages" in captured.err and str(four_pages) in captured.err
    assert captured.out == ""


def test_pages_out_of_range_exits_non_zero(four_pages):
    proc = subprocess.run(
        [sys.executable, "manage.py", "ocr", str(four_pages), "--pages", "5", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "invalid_pages" in proc.stderr
    assert "The document has 4 page(s)" in proc.stderr


def test_bad_file_and_good_file_exit_non_zero_after_printing_the_good_one(tmp_path, four_pages):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf at all, only words" * 3)
    proc = subprocess.run(
        [sys.executable, "manage.py", "ocr", str(bad), str(four_pages), "--pages", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "unsupported_format" in proc.stderr
    assert "Page 1 of a document" in proc.stdout


# -- the command and a job read the same file the same way --------------------------------------


def _layer_pdf() -> bytes:
    """Page 1 with a text layer (reportlab), page 2 an image of text."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setFont("Helvetica", 20)
    c.drawString(72, 700, "Born digital text layer")
    c.drawString(72, 660, "needs no OCR at all")
    c.showPage()
    scan = render_text(["Scanned page two", "noise and all"]).image
    c.drawImage(ImageReader(scan), 72, 500, width=scan.width * 0.72, height=scan.height * 0.72)
    c.showPage()
    c.save()
    return buf.getvalue()


CASES = {
    # (document, API form fields, command arguments, the stored options, the command
    # arguments of a reading the options change: they are seen to be applied)
    "psm11-pages-rotate-off": (
        lambda: text_pdf(4),
        {"psm": "11", "pages": "1,3", "rotate": "off"},
        ["--psm", "11", "--pages", "1,3", "--rotate", "off"],
        JobOptions(psm=11, pages="1,3", rotate="off"),
        ["--pages", "1,3"],  # psm 11 (sparse text) makes a block of each line
    ),
    "text-layer-clean-no-deskew": (
        _layer_pdf,
        {"pdf_text": "use", "clean": "true", "deskew": "false", "oem": "1"},
        ["--pdf-text", "use", "--clean", "--no-deskew", "--oem", "1"],
        JobOptions(pdf_text="use", clean=True, deskew=False, oem=1),
        [],  # page 1 OCRed, not taken from its text layer
    ),
}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", list(CASES))
def test_command_and_job_give_identical_results(case, auth_client, celery_worker, tmp_path, capsys):
    make, fields, args, options, baseline_args = CASES[case]
    data = make()
    response = auth_client.post(
        "/api/ocr/", {"image": upload(data, "doc.pdf", "application/pdf"), **fields}
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]

    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    capsys.readouterr()
    call_command("ocr", str(path), "--json", *args)
    cmd = json.loads(capsys.readouterr().out)
    call_command("ocr", str(path), "--json", *baseline_args)
    baseline = json.loads(capsys.readouterr().out)
    assert [p["number"] for p in baseline["pages"]] == [p["number"] for p in cmd["pages"]]
    assert baseline["pages"] != cmd["pages"]  # the options make a difference to compare

    job = wait_for_job(job_id, timeout=120)
    assert job.status == "done", (job.error_code, job.error_message)
    detail = auth_client.get(f"/api/ocr/{job_id}/").json()
    assert detail["options"] == options.stored()
    result = detail["result"]
    assert [p["number"] for p in result["pages"]] == [p["number"] for p in cmd["pages"]]
    assert len(cmd["pages"]) == detail["page_count"]
    for got, want in zip(result["pages"], cmd["pages"], strict=True):
        page = got["number"]
        for key in ("text", "rotation", "dpi", "width", "height", "skew"):
            assert got[key] == want[key], (page, key)
        words = [
            (w["text"], w["bbox"], w["confidence"])
            for b in got["blocks"]
            for ln in b["lines"]
            for w in ln["words"]
        ]
        cmd_words = [
            (w["text"], w["bbox"], w["confidence"])
            for b in want["blocks"]
            for ln in b["lines"]
            for w in ln["words"]
        ]
        assert words and words == cmd_words, page
        assert got == want, page  # and everything else of the page
    assert {k: v for k, v in cmd.items() if k != "file"} == result
    assert detail["text"] == cmd["text"]
