"""ALTO 4.4 export: valid against the official schema, Strings match the words."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from app.pipeline.exporters import export
from app.pipeline.schema import Block, Document, Line, PageResult, Word

SCHEMA = Path(__file__).resolve().parents[2] / "data" / "alto-4-4.xsd"
NS = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    # xlink.xsd is imported from the file beside it: no network needed.
    parser = etree.XMLParser(no_network=True)
    return etree.XMLSchema(etree.parse(str(SCHEMA), parser))


def validate(schema: etree.XMLSchema, data: bytes) -> etree._Element:
    root = etree.fromstring(data)
    if not schema.validate(root):
        raise AssertionError(str(schema.error_log))
    return root


def box(el: etree._Element) -> list[int]:
    h, v, w, ht = (int(float(el.get(k))) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
    return [h, v, h + w, v + ht]


def test_schema_rejects_a_broken_document(schema):
    # The validator itself must be able to fail: a String without CONTENT.
    bad = export(Document(engine="t", engine_version="1", pages=[]), "alto")
    bad = bad.replace(b"<Layout>", b"<Layout><Page ID='p' PHYSICAL_IMG_NR='1'><PrintSpace>"
                      b"<TextBlock ID='b'><TextLine><String/></TextLine></TextBlock>"
                      b"</PrintSpace></Page>")  # fmt: skip
    assert not schema.validate(etree.fromstring(bad))


def test_alto_validates_and_matches_words(schema, paragraph):
    doc = paragraph.document
    root = validate(schema, export(doc, "alto"))
    assert root.xpath("string(a:Description/a:MeasurementUnit)", namespaces=NS) == "pixel"
    sw = root.xpath("a:Description/a:OCRProcessing//a:processingSoftware", namespaces=NS)[0]
    assert sw.findtext("a:softwareName", namespaces=NS) == "tesseract"
    assert sw.findtext("a:softwareVersion", namespaces=NS) == doc.engine_version

    (page_el,) = root.xpath("//a:Page", namespaces=NS)
    page = doc.pages[0]
    assert page_el.get("ID") == "page_1"
    assert page_el.get("PHYSICAL_IMG_NR") == "1"
    assert (page_el.get("WIDTH"), page_el.get("HEIGHT")) == (str(page.width), str(page.height))
    assert float(page_el.get("PC")) == pytest.approx(page.confidence / 100, abs=1e-4)

    blocks = page_el.xpath(".//a:TextBlock", namespaces=NS)
    assert [box(b) for b in blocks] == [b.bbox for b in page.blocks]
    lines = page_el.xpath(".//a:TextLine", namespaces=NS)
    assert [box(el) for el in lines] == [ln.bbox for b in page.blocks for ln in b.lines]

    strings = page_el.xpath(".//a:String", namespaces=NS)
    words = page.words()
    assert [s.get("CONTENT") for s in strings] == [w.text for w in words]
    assert [box(s) for s in strings] == [w.bbox for w in words]
    for s, w in zip(strings, words, strict=True):
        assert 0 <= float(s.get("WC")) <= 1
        assert float(s.get("WC")) == pytest.approx(w.confidence / 100, abs=1e-4)
    assert {"café", "&", "<"} <= {s.get("CONTENT") for s in strings}
    # One SP between consecutive words of a line.
    for el, line in zip(lines, [ln for b in page.blocks for ln in b.lines], strict=True):
        assert len(el.xpath("a:SP", namespaces=NS)) == len(line.words) - 1


def test_alto_two_pages(schema, two_pages):
    root = validate(schema, export(two_pages.document, "alto"))
    pages = root.xpath("//a:Page", namespaces=NS)
    assert [p.get("PHYSICAL_IMG_NR") for p in pages] == ["1", "2"]
    for el, page in zip(pages, two_pages.document.pages, strict=True):
        assert box(el.xpath("a:PrintSpace", namespaces=NS)[0]) == [0, 0, page.width, page.height]
        got = [s.get("CONTENT") for s in el.xpath(".//a:String", namespaces=NS)]
        assert got == [w.text for w in page.words()]


def test_alto_edge_cases_stay_valid(schema):
    lines = [
        Line.from_words([Word([0, 0, 10, 10], "x", None), Word([5, 0, 20, 10], "y", 120.0)]),
        Line(bbox=[0, 20, 40, 30], text="no words here", confidence=None),  # provider line
        Line(bbox=[0, 40, 40, 50], text="", words=[]),  # nothing at all
    ]
    page = PageResult.from_blocks(number=1, width=50, height=60, blocks=[Block.from_lines(lines)])
    page.blocks.append(Block(bbox=[0, 0, 0, 0]))  # an empty block
    doc = Document(engine="", engine_version="", languages=[], pages=[page])
    root = validate(schema, export(doc, "alto"))
    strings = root.xpath("//a:String", namespaces=NS)
    assert [s.get("CONTENT") for s in strings] == ["x", "y", "no words here"]
    assert strings[0].get("WC") is None and strings[1].get("WC") == "1.0000"
    assert len(root.xpath("//a:TextLine", namespaces=NS)) == 2
