"""Tesseract TSV export: exact columns, and a round trip through parse_tsv."""

from __future__ import annotations

from app.engines.tesseract import parse_tsv
from app.pipeline.exporters import export
from app.pipeline.exporters.tsv import COLUMNS
from app.pipeline.schema import Block, Document, Line, PageResult, Word


def rows(data: bytes) -> list[list[str]]:
    return [r.split("\t") for r in data.decode("utf-8").splitlines()]


def test_tsv_header_and_levels(paragraph):
    table = rows(export(paragraph.document, "tsv"))
    assert table[0] == [
        "level", "page_num", "block_num", "par_num", "line_num", "word_num",
        "left", "top", "width", "height", "conf", "text",
    ]  # fmt: skip
    assert list(COLUMNS) == table[0]
    body = table[1:]
    assert all(len(r) == 12 for r in body)
    page = paragraph.document.pages[0]
    assert body[0] == ["1", "1", "0", "0", "0", "0", "0", "0", str(page.width),
                       str(page.height), "-1", ""]  # fmt: skip
    levels = [r[0] for r in body]
    assert levels.count("2") == levels.count("3") == len(page.blocks)
    assert levels.count("4") == sum(len(b.lines) for b in page.blocks)
    assert levels.count("5") == len(page.words())
    assert all(r[10] == "-1" and r[11] == "" for r in body if r[0] != "5")
    words = [r for r in body if r[0] == "5"]
    assert all(0 <= float(r[10]) <= 100 for r in words)
    assert [r[5] for r in words][:2] == ["1", "2"]  # word_num restarts per line, from 1


def round_trip(doc: Document) -> list[PageResult]:
    data = export(doc, "tsv").decode("utf-8")
    header, *body = data.splitlines()
    out = []
    for page in doc.pages:
        own = [r for r in body if r.split("\t")[1] == str(page.number)]
        out.append(
            parse_tsv(
                "\n".join([header, *own]),
                page_number=page.number,
                width=page.width,
                height=page.height,
                dpi=page.dpi,
            )
        )
    return out


def test_tsv_round_trips_through_parse_tsv(paragraph, two_pages):
    for doc in (paragraph.document, two_pages.document):
        back = round_trip(doc)
        for page, again in zip(doc.pages, back, strict=True):
            assert again.words() == page.words()  # text, bbox and confidence
            assert [[ln.bbox for ln in b.lines] for b in again.blocks] == [
                [ln.bbox for ln in b.lines] for b in page.blocks
            ]
            assert again.text == page.text


def test_tsv_odd_words():
    words = [Word([1, 2, 11, 22], "tab\there", None), Word([15, 2, 30, 22], "ok", 12.3456789)]
    lines = [Line.from_words(words), Line(bbox=[1, 30, 30, 40], text="line only")]
    page = PageResult.from_blocks(number=7, width=40, height=50, blocks=[Block.from_lines(lines)])
    table = rows(export(Document(engine="x", engine_version="1", pages=[page]), "tsv"))[1:]
    words_rows = [r for r in table if r[0] == "5"]
    assert words_rows[0] == ["5", "7", "1", "1", "1", "1", "1", "2", "10", "20", "-1", "tab here"]
    assert words_rows[1][10] == "12.345679"
    assert words_rows[2][4:] == ["2", "1", "1", "30", "29", "10", "-1", "line only"]
