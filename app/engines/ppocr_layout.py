"""Blocks and reading order of PP-OCR's loose text lines.

PP-OCR detects text lines, not blocks, and RapidOCR returns them roughly top to
bottom, which interleaves the columns of a two-column page. :func:`group_lines`
hands the lines, with their boxes and 4-point polygons (pixels), to the
engine-agnostic reading order of :mod:`app.pipeline.reading_order` (a recursive
XY-cut: columns before rows, lines spanning the columns such as titles and page
numbers, small skew corrected from the polygons; tables stay row by row).

Measured on OCRmyPDF's two-column pages read with ``engine=ppocr``
(docs/engines-ppocr.md, "Reading order"): ``linn.png`` CER 0.393 -> 0.024 and
``multipage.pdf`` page 6 0.770 -> 0.000 against this module's previous rule
(a line joined the block whose last line was directly above it; blocks in order
of their first line).
"""

from __future__ import annotations

from app.pipeline.reading_order import order_lines
from app.pipeline.schema import Block, Line


def group_lines(lines: list[Line]) -> list[Block]:
    """``lines`` (any order, boxes in page pixels) as blocks in reading order.

    See :func:`app.pipeline.reading_order.order_lines`: each block's ``bbox`` is
    the union of its lines' and its ``confidence`` the mean of its words'. An
    empty list gives no block.
    """
    return order_lines(lines)
