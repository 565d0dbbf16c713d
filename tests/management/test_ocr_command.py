"""``manage.py ocr`` prints the text of local files."""

import json

import pytest
from django.core.management import CommandError, call_command

from tests.imaging import cer, render_text

pytestmark = pytest.mark.django_db(databases=[])


def test_it_prints_the_text(tmp_path, capsys):
    rendered = render_text()
    path = tmp_path / "page.png"
    rendered.image.save(path)
    call_command("ocr", str(path))
    assert cer(rendered.text, capsys.readouterr().out) < 0.02


def test_json_output_has_the_schema(tmp_path, capsys):
    path = tmp_path / "page.jpg"
    render_text(["Hello from the command line"]).image.save(path, quality=95)
    call_command("ocr", str(path), "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["engine"] == "tesseract"
    assert out["pages"][0]["blocks"][0]["lines"][0]["text"] == "Hello from the command line"


def test_bad_files_are_reported_not_crashed_on(tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    with pytest.raises(CommandError):
        call_command("ocr", str(bad), str(tmp_path / "missing.png"))
    err = capsys.readouterr().err
    assert "unsupported_format" in err and "cannot read" in err
