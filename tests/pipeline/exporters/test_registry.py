"""The format registry and the single ``export`` entry point."""

from __future__ import annotations

import io
import json

import pytest

from app.pipeline.exporters import EXPORT_FORMATS, export, export_to, get_format
from app.pipeline.schema import Block, Document, Line, PageResult, Word


def small_document() -> Document:
    words = [Word([10, 10, 60, 30], "tiny", 90.0), Word([70, 10, 120, 30], "doc", None)]
    page = PageResult.from_blocks(
        number=1, width=200, height=50, blocks=[Block.from_lines([Line.from_words(words)])]
    )
    return Document(engine="test", engine_version="0", languages=["eng"], pages=[page])


def test_registry_lists_every_format_with_media_type_and_extension():
    expected = {
        "txt": ("text/plain; charset=utf-8", "txt"),
        "json": ("application/json", "json"),
        "hocr": ("application/xhtml+xml; charset=utf-8", "hocr"),
        "alto": ("application/xml", "xml"),
        "tsv": ("text/tab-separated-values; charset=utf-8", "tsv"),
        "pdf": ("application/pdf", "pdf"),
    }
    assert {k: (f.media_type, f.extension) for k, f in EXPORT_FORMATS.items()} == expected
    assert all(name == f.name for name, f in EXPORT_FORMATS.items())
    assert [n for n, f in EXPORT_FORMATS.items() if f.needs_page_images] == ["pdf"]
    assert get_format("hocr").filename_suffix == ".hocr"


def test_unknown_format_is_a_value_error():
    with pytest.raises(ValueError, match="unknown export format 'docx'"):
        export(small_document(), "docx")


def test_pdf_without_page_images_is_a_value_error():
    with pytest.raises(ValueError, match="page_image"):
        export(small_document(), "pdf")


@pytest.mark.parametrize("fmt", [f for f in EXPORT_FORMATS if f != "pdf"])
def test_text_formats_need_no_images_and_stream_the_same_bytes(fmt):
    doc = small_document()
    data = export(doc, fmt)
    assert data
    out = io.BytesIO()
    export_to(doc, fmt, out)
    assert out.getvalue() == data


def test_export_to_writes_into_a_file(tmp_path):
    from PIL import Image

    doc = small_document()
    path = tmp_path / "out.pdf"
    with path.open("wb") as fh:
        export_to(doc, "pdf", fh, page_image=lambda n: Image.new("L", (200, 50), 255))
    assert path.read_bytes().startswith(b"%PDF-")


def test_json_is_the_schema(paragraph):
    data = export(paragraph.document, "json")
    assert "café".encode() in data  # UTF-8, not \\u escaped
    loaded = json.loads(data.decode("utf-8"))
    assert loaded == paragraph.document.to_dict()
    assert Document.from_dict(loaded) == paragraph.document


def test_txt_is_the_document_text_with_form_feeds(paragraph, two_pages):
    assert export(paragraph.document, "txt") == paragraph.document.text.encode("utf-8")
    data = export(two_pages.document, "txt").decode("utf-8")
    first, second = data.split("\f")
    assert first == two_pages.document.pages[0].text
    assert second == two_pages.document.pages[1].text
    assert "café" in first and "42." in second
