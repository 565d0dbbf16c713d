"""ALTO export (ALTO 4.x, http://www.loc.gov/standards/alto/; schema alto-4-4.xsd).

Shape of the output (namespace ``http://www.loc.gov/standards/alto/ns-v4#``)::

    alto SCHEMAVERSION="4.4"
      Description
        MeasurementUnit        "pixel"
        OCRProcessing ID="OCR_0"/ocrProcessingStep
          processingStepSettings  "languages: eng+deu"
          processingSoftware/softwareName, softwareVersion   (Document.engine, engine_version)
      Layout
        Page ID="page_N" PHYSICAL_IMG_NR=N WIDTH HEIGHT [PC] PROCESSING="OCR_0"
          PrintSpace HPOS=0 VPOS=0 WIDTH HEIGHT          (the whole page image)
            TextBlock ID="block_N_B" HPOS VPOS WIDTH HEIGHT     (one per Block)
              TextLine ID="line_N_L" HPOS VPOS WIDTH HEIGHT     (one per Line)
                String ID="string_N_W" CONTENT HPOS VPOS WIDTH HEIGHT [WC]
                SP HPOS VPOS WIDTH HEIGHT                        (between words)

Units: ``MeasurementUnit`` is ``pixel``, so HPOS/VPOS/WIDTH/HEIGHT are pixels
of the page image as OCRed (HPOS = left, VPOS = top, WIDTH = right - left,
HEIGHT = bottom - top of the schema's bbox). ``WC`` (word confidence) and
``PC`` (page confidence) are 0-1, the schema's 0-100 confidence divided by 100,
left out when the engine gives none. ``OCRProcessing`` is deprecated in ALTO
4.x in favour of ``Processing`` but is still valid and is what Tesseract and
most ALTO readers use. A line that has text but no words (some providers)
becomes one ``String`` spanning the line; a line with neither is left out
(``TextLine`` needs at least one ``String``).
"""

from __future__ import annotations

import io
from typing import IO

from app.pipeline.exporters import _xml
from app.pipeline.schema import BBox, Document, PageResult, Word

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
SCHEMA_VERSION = "4.4"
SCHEMA_LOCATION = f"{ALTO_NS} http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"
PROCESSING_ID = "OCR_0"


def _box(bbox: BBox) -> dict[str, int]:
    left, top, right, bottom = (int(v) for v in bbox[:4])
    return {
        "HPOS": left,
        "VPOS": top,
        "WIDTH": max(0, right - left),
        "HEIGHT": max(0, bottom - top),
    }


def _unit(confidence: float | None) -> str | None:
    """0-100 confidence as an ALTO 0-1 value with 4 decimals (``None`` stays ``None``)."""
    if confidence is None:
        return None
    return f"{max(0.0, min(100.0, float(confidence))) / 100:.4f}"


def _head(document: Document) -> str:
    settings = ""
    if document.languages:
        langs = "+".join(document.languages)
        settings = (
            "        <processingStepSettings>"
            f"{_xml.text('languages: ' + langs)}</processingStepSettings>\n"
        )
    software = ""
    if document.engine:
        software += f"          <softwareName>{_xml.text(document.engine)}</softwareName>\n"
    if document.engine_version:
        software += (
            f"          <softwareVersion>{_xml.text(document.engine_version)}</softwareVersion>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<alto xmlns="{ALTO_NS}" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        f' xsi:schemaLocation="{SCHEMA_LOCATION}" SCHEMAVERSION="{SCHEMA_VERSION}">\n'
        "  <Description>\n"
        "    <MeasurementUnit>pixel</MeasurementUnit>\n"
        f'    <OCRProcessing ID="{PROCESSING_ID}">\n'
        "      <ocrProcessingStep>\n"
        f"{settings}"
        "        <processingSoftware>\n"
        f"{software}"
        "        </processingSoftware>\n"
        "      </ocrProcessingStep>\n"
        "    </OCRProcessing>\n"
        "  </Description>\n"
        "  <Layout>\n"
    )


def _string(n: int, i: int, word: Word) -> str:
    return (
        f"<String{_xml.attrs(ID=f'string_{n}_{i}', CONTENT=word.text, **_box(word.bbox))}"
        f"{_xml.attrs(WC=_unit(word.confidence))}/>"
    )


def page_alto(page: PageResult) -> str:
    """The ``Page`` element of one page (XML text, no trailing newline)."""
    n = page.number
    head = _xml.attrs(
        ID=f"page_{n}",
        PHYSICAL_IMG_NR=n,
        WIDTH=int(page.width),
        HEIGHT=int(page.height),
        PC=_unit(page.confidence),
        PROCESSING=PROCESSING_ID,
    )
    space = _xml.attrs(**_box([0, 0, page.width, page.height]))
    parts = [f"    <Page{head}>", f"      <PrintSpace{space}>"]
    line_no = word_no = 0
    for b, block in enumerate(page.blocks, start=1):
        parts.append(f"        <TextBlock{_xml.attrs(ID=f'block_{n}_{b}', **_box(block.bbox))}>")
        for line in block.lines:
            words = [w for w in line.words if w.text]
            if not words:
                if not line.text:
                    continue
                words = [Word(bbox=line.bbox, text=line.text, confidence=line.confidence)]
            line_no += 1
            parts.append(
                f"          <TextLine{_xml.attrs(ID=f'line_{n}_{line_no}', **_box(line.bbox))}>"
            )
            for k, word in enumerate(words):
                if k:
                    prev = words[k - 1].bbox
                    gap = [
                        prev[2],
                        min(prev[1], word.bbox[1]),
                        word.bbox[0],
                        max(prev[3], word.bbox[3]),
                    ]
                    if gap[2] < gap[0]:  # overlapping boxes: a zero-width space
                        gap[2] = gap[0]
                    parts.append(f"            <SP{_xml.attrs(**_box(gap))}/>")
                word_no += 1
                parts.append("            " + _string(n, word_no, word))
            parts.append("          </TextLine>")
        parts.append("        </TextBlock>")
    parts.append("      </PrintSpace>")
    parts.append("    </Page>")
    return "\n".join(parts)


def write(document: Document, out: IO[bytes]) -> None:
    """Write ``document`` as ALTO 4.4 XML to ``out`` (UTF-8), one page at a time."""
    out.write(_head(document).encode("utf-8"))
    for page in document.pages:
        out.write((page_alto(page) + "\n").encode("utf-8"))
    out.write(b"  </Layout>\n</alto>\n")


def export_alto(document: Document) -> bytes:
    """``document`` as ALTO 4.4 XML bytes (UTF-8)."""
    buf = io.BytesIO()
    write(document, buf)
    return buf.getvalue()
