"""Tesseract TSV export (the format of ``tesseract ... tsv`` / ``TessBaseAPI::GetTSVText``).

One header row, then tab-separated rows with exactly these columns::

    level page_num block_num par_num line_num word_num left top width height conf text

``level`` is 1 page, 2 block, 3 paragraph, 4 line, 5 word. As in Tesseract,
``page_num`` is 1-based (the schema's ``Page.number``); ``block_num`` counts
blocks within the page, ``par_num`` paragraphs within the block (the schema has
no paragraphs, so each block has one, ``par_num`` 1), ``line_num`` lines within
the paragraph and ``word_num`` words within the line, all from 1; the numbers
of levels above a row's own are filled in and those below are 0. ``left top
width height`` are pixels of the page image as OCRed (from the schema's
``[left, top, right, bottom]``). ``conf`` is the word confidence 0-100, or -1
for rows that are not words and for words without one. ``text`` is empty for
non-word rows; tabs and line breaks inside a word become spaces. A line that
has text but no words (some providers) gets one word row spanning the line.
Rows end with ``\\n``; the output is UTF-8.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import IO

from app.pipeline.schema import BBox, Document, PageResult, Word

COLUMNS = (
    "level",
    "page_num",
    "block_num",
    "par_num",
    "line_num",
    "word_num",
    "left",
    "top",
    "width",
    "height",
    "conf",
    "text",
)
HEADER = "\t".join(COLUMNS) + "\n"

_SPACE = re.compile(r"[\t\r\n\f\v]")


def _conf(confidence: float | None) -> str:
    if confidence is None:
        return "-1"
    text = f"{max(0.0, min(100.0, float(confidence))):.6f}".rstrip("0").rstrip(".")
    return text or "0"


def _row(level: int, nums: tuple[int, int, int, int, int], bbox: BBox, conf: str, text: str) -> str:
    left, top, right, bottom = (int(v) for v in bbox[:4])
    cols = [level, *nums, left, top, max(0, right - left), max(0, bottom - top), conf, text]
    return "\t".join(str(c) for c in cols) + "\n"


def page_rows(page: PageResult) -> Iterator[str]:
    """The TSV rows (with their ``\\n``) of one page, without the header."""
    n = page.number
    yield _row(1, (n, 0, 0, 0, 0), [0, 0, page.width, page.height], "-1", "")
    for b, block in enumerate(page.blocks, start=1):
        yield _row(2, (n, b, 0, 0, 0), block.bbox, "-1", "")
        yield _row(3, (n, b, 1, 0, 0), block.bbox, "-1", "")
        line_no = 0
        for line in block.lines:
            words = [w for w in line.words if w.text]
            if not words:
                if not line.text:
                    continue
                words = [Word(bbox=line.bbox, text=line.text, confidence=line.confidence)]
            line_no += 1
            yield _row(4, (n, b, 1, line_no, 0), line.bbox, "-1", "")
            for w, word in enumerate(words, start=1):
                yield _row(
                    5,
                    (n, b, 1, line_no, w),
                    word.bbox,
                    _conf(word.confidence),
                    _SPACE.sub(" ", word.text),
                )


def write(document: Document, out: IO[bytes]) -> None:
    """Write ``document`` as Tesseract TSV to ``out`` (UTF-8), one page at a time."""
    out.write(HEADER.encode("utf-8"))
    for page in document.pages:
        out.write("".join(page_rows(page)).encode("utf-8"))


def export_tsv(document: Document) -> bytes:
    """``document`` as Tesseract TSV bytes (UTF-8, header row first)."""
    buf = io.BytesIO()
    write(document, buf)
    return buf.getvalue()
