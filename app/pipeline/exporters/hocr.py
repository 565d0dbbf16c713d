"""hOCR export (hOCR 1.2, http://kba.github.io/hocr-spec/1.2/).

The output is an XHTML 1.0 document (UTF-8, well-formed XML) shaped like
Tesseract's own hOCR::

    html
      head: meta ocr-system ("<engine> <version>"), ocr-capabilities,
            ocr-number-of-pages, ocr-langs
      body
        div.ocr_page   id page_N    title "bbox 0 0 W H; ppageno N-1[; scan_res D D]"
          div.ocr_carea  id block_N_B  title "bbox l t r b"        (one per Block)
            p.ocr_par    id par_N_B    title "bbox l t r b"        (one per Block)
              span.ocr_line  id line_N_L  title "bbox l t r b"     (one per Line)
                span.ocrx_word id word_N_W title "bbox l t r b; x_wconf C"

Units: every ``bbox`` is ``x0 y0 x1 y1`` in pixels of the page image as OCRed
(the schema's ``[left, top, right, bottom]``, hOCR spec section 6 "bbox");
``ppageno`` is the 0-based physical page number (spec "ppageno"); ``x_wconf``
is the word confidence as an integer 0-100 (spec "x_wconf"), left out when the
engine gives none; ``scan_res`` is the page's dpi when known. Words of a line
are separated by a space so the HTML also reads as text. A line that has text
but no words (some providers) carries its text directly.
"""

from __future__ import annotations

import re
from typing import IO

from app.pipeline.exporters import _xml
from app.pipeline.schema import BBox, Document, PageResult

#: hOCR elements and properties this exporter writes (spec "ocr-capabilities").
CAPABILITIES = "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf"

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"{lang}>
 <head>
  <title></title>
  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
  <meta name="ocr-system" content="{system}"/>
  <meta name="ocr-capabilities" content="{capabilities}"/>
  <meta name="ocr-number-of-pages" content="{pages}"/>
{langs} </head>
 <body>
"""

_TAIL = """ </body>
</html>
"""

# A BCP 47-looking tag; Tesseract codes like "chi_sim" are not.
_LANG_TAG = re.compile(r"^[a-zA-Z]{2,8}(-[a-zA-Z0-9]{1,8})*$")


def _bbox(bbox: BBox) -> str:
    return "bbox {} {} {} {}".format(*(int(v) for v in bbox[:4]))


def _head(document: Document) -> str:
    system = " ".join(p for p in (document.engine, document.engine_version) if p)
    langs = [lang for lang in document.languages if lang]
    first = langs[0] if len(langs) == 1 and _LANG_TAG.match(langs[0]) else None
    return _HEAD.format(
        lang=_xml.attrs(**{"xml:lang": first, "lang": first}),
        system=_xml.attr(system),
        capabilities=CAPABILITIES,
        pages=len(document.pages),
        langs=(
            f'  <meta name="ocr-langs" content="{_xml.attr(" ".join(langs))}"/>\n' if langs else ""
        ),
    )


def page_hocr(page: PageResult) -> str:
    """The ``div.ocr_page`` element of one page (XHTML text, no trailing newline)."""
    n = page.number
    title = f"bbox 0 0 {int(page.width)} {int(page.height)}; ppageno {n - 1}"
    if page.dpi:
        title += f"; scan_res {int(page.dpi)} {int(page.dpi)}"
    parts = [f'  <div class="ocr_page" id="page_{n}" title="{title}">']
    line_no = word_no = 0
    for b, block in enumerate(page.blocks, start=1):
        box = _bbox(block.bbox)
        parts.append(f'   <div class="ocr_carea" id="block_{n}_{b}" title="{box}">')
        parts.append(f'    <p class="ocr_par" id="par_{n}_{b}" title="{box}">')
        for line in block.lines:
            words = [w for w in line.words if w.text]
            if not words and not line.text:
                continue
            line_no += 1
            spans = []
            for word in words:
                word_no += 1
                title = _bbox(word.bbox)
                if word.confidence is not None:
                    title += f"; x_wconf {round(max(0.0, min(100.0, word.confidence)))}"
                spans.append(
                    f'<span class="ocrx_word" id="word_{n}_{word_no}" title="{title}">'
                    f"{_xml.text(word.text)}</span>"
                )
            content = " ".join(spans) if words else _xml.text(line.text)
            parts.append(
                f'     <span class="ocr_line" id="line_{n}_{line_no}" '
                f'title="{_bbox(line.bbox)}">{content}</span>'
            )
        parts.append("    </p>")
        parts.append("   </div>")
    parts.append("  </div>")
    return "\n".join(parts)


def write(document: Document, out: IO[bytes]) -> None:
    """Write ``document`` as hOCR to ``out`` (UTF-8), one page at a time."""
    out.write(_head(document).encode("utf-8"))
    for page in document.pages:
        out.write((page_hocr(page) + "\n").encode("utf-8"))
    out.write(_TAIL.encode("utf-8"))


def export_hocr(document: Document) -> bytes:
    """``document`` as hOCR 1.2 XHTML bytes (UTF-8)."""
    import io

    buf = io.BytesIO()
    write(document, buf)
    return buf.getvalue()
