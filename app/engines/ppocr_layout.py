"""Group PP-OCR's loose text lines into blocks (a simple rule, until reading order lands).

PP-OCR detects text lines, not blocks. :func:`group_lines` puts a line into the
block whose last line sits directly above it and overlaps it horizontally:

* lines are taken top to bottom (then left to right), by their ``bbox``;
* a line continues a block when the vertical gap from the block's last line
  (``top`` of the line minus ``bottom`` of that line, pixels) is at most
  :data:`MAX_GAP` times the median line height of the page, and the two
  lines' x ranges overlap (any overlap); of several such blocks, the nearest
  (smallest gap) wins;
* otherwise it starts a new block. Blocks are ordered by their first line's
  ``top``, then ``left``.

So a paragraph is one block, a blank line or a heading set apart starts a new
one, and the two columns of a simple two-column page become two blocks read
one after the other. Tables and complex layouts need the reading-order step
(issue 16, point 2).
"""

from __future__ import annotations

from statistics import median

from app.pipeline.schema import Block, Line

#: Largest gap between two lines of one block, in median line heights. Body text
#: set at 1.2-1.6 line spacing leaves gaps of 0.2-0.6 line heights (tests/imaging.py
#: renders at 1.6: 0.6); a paragraph break of one blank line leaves 1.2 or more.
MAX_GAP = 1.0


def _overlaps(a: Line, b: Line) -> bool:
    return min(a.bbox[2], b.bbox[2]) > max(a.bbox[0], b.bbox[0])


def group_lines(lines: list[Line]) -> list[Block]:
    """``lines`` (any order, boxes in page pixels) as blocks in reading order (see above).

    Each block's ``bbox`` is the union of its lines' and its ``confidence``
    the mean of its words' (:meth:`Block.from_lines`). An empty list gives no block.
    """
    if not lines:
        return []
    height = median(max(1, ln.bbox[3] - ln.bbox[1]) for ln in lines)
    groups: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: (ln.bbox[1], ln.bbox[0])):
        best, best_gap = None, None
        for group in groups:
            last = group[-1]
            gap = line.bbox[1] - last.bbox[3]
            nearer = best_gap is None or gap < best_gap
            if gap <= MAX_GAP * height and _overlaps(line, last) and nearer:
                best, best_gap = group, gap
        if best is None:
            groups.append([line])
        else:
            best.append(line)
    groups.sort(key=lambda g: (g[0].bbox[1], g[0].bbox[0]))
    return [Block.from_lines(group) for group in groups]
