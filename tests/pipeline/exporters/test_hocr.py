"""hOCR 1.2 export: well-formed XHTML with one ocrx_word per word and its bbox."""

from __future__ import annotations

import re

from lxml import etree

from app.pipeline.exporters import export
from app.pipeline.schema import Block, Document, Line, PageResult, Word

XHTML = "{http://www.w3.org/1999/xhtml}"


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def by_class(root: etree._Element, cls: str) -> list[etree._Element]:
    return root.xpath("//x:*[@class=$c]", namespaces={"x": XHTML[1:-1]}, c=cls)


def props(title: str) -> dict[str, list[str]]:
    out = {}
    for part in title.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_hocr_words_lines_and_boxes(paragraph):
    doc = paragraph.document
    root = parse(export(doc, "hocr"))
    assert root.tag == f"{XHTML}html"

    meta = {m.get("name"): m.get("content") for m in root.iter(f"{XHTML}meta") if m.get("name")}
    assert meta["ocr-system"] == f"tesseract {doc.engine_version}"
    assert set(meta["ocr-capabilities"].split()) >= {
        "ocr_page", "ocr_carea", "ocr_par", "ocr_line", "ocrx_word", "ocrp_wconf",
    }  # fmt: skip
    assert meta["ocr-number-of-pages"] == "1"

    (page_el,) = by_class(root, "ocr_page")
    page = doc.pages[0]
    p = props(page_el.get("title"))
    assert p["bbox"] == ["0", "0", str(page.width), str(page.height)]
    assert p["ppageno"] == ["0"]
    assert p["scan_res"] == ["150", "150"]

    assert len(by_class(root, "ocr_carea")) == len(page.blocks)
    assert len(by_class(root, "ocr_par")) == len(page.blocks)
    lines = by_class(root, "ocr_line")
    assert len(lines) == sum(len(b.lines) for b in page.blocks) >= 3
    for el, line in zip(lines, [ln for b in page.blocks for ln in b.lines], strict=True):
        assert props(el.get("title"))["bbox"] == [str(v) for v in line.bbox]
        assert "".join(el.itertext()) == line.text

    words = by_class(root, "ocrx_word")
    expected = page.words()
    assert len(words) == len(expected)
    for el, word in zip(words, expected, strict=True):
        assert el.text == word.text
        p = props(el.get("title"))
        assert p["bbox"] == [str(v) for v in word.bbox]
        assert p["x_wconf"] == [str(round(word.confidence))]
    texts = [el.text for el in words]
    assert "café" in texts and "&" in texts and "<" in texts
    ids = root.xpath("//@id")
    assert len(ids) == len(set(ids))


def test_hocr_escapes_markup_and_numbers_pages(two_pages):
    data = export(two_pages.document, "hocr")
    # '&' and '<' (page 1) are escaped in the markup, not written raw.
    assert re.search(rb'class="ocrx_word"[^>]*>&amp;</span>', data)
    assert re.search(rb'class="ocrx_word"[^>]*>&lt;</span>', data)
    root = parse(data)
    pages = by_class(root, "ocr_page")
    assert [props(p.get("title"))["ppageno"] for p in pages] == [["0"], ["1"]]
    assert "scan_res" not in props(pages[1].get("title"))  # dpi unknown
    for el, page in zip(pages, two_pages.document.pages, strict=True):
        assert props(el.get("title"))["bbox"][2:] == [str(page.width), str(page.height)]
        words = [w.text for w in page.words()]
        assert [w.text for w in el.xpath(".//*[@class='ocrx_word']")] == words


def test_hocr_escaping_and_missing_confidence():
    words = [
        Word([0, 0, 10, 10], "a&b", None),
        Word([12, 0, 30, 10], '<i>"x"</i>', 50.4),
        Word([32, 0, 40, 10], "bad\x0bchar", 99.6),
    ]
    page = PageResult.from_blocks(
        number=3, width=50, height=20, blocks=[Block.from_lines([Line.from_words(words)])]
    )
    data = export(Document(engine="e<&>", engine_version="1", pages=[page]), "hocr")
    assert b"a&amp;b" in data and b"&lt;i&gt;" in data
    root = parse(data)
    assert root.xpath("//*[@name='ocr-system']/@content") == ["e<&> 1"]
    els = by_class(root, "ocrx_word")
    assert [e.text for e in els] == ["a&b", '<i>"x"</i>', "badchar"]
    assert "x_wconf" not in props(els[0].get("title"))
    assert props(els[1].get("title"))["x_wconf"] == ["50"]
    assert props(els[2].get("title"))["x_wconf"] == ["100"]
    assert props(by_class(root, "ocr_page")[0].get("title"))["ppageno"] == ["2"]
