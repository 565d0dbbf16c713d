"""Lines read across a gutter: a book spread (two facing pages) photographed open.

Tesseract's layout analysis finds the columns of a scan by their white gutters.
The gutter of a book photographed open is no white strip: the pages curl into a
shaded fold. On such a photo Tesseract reads both pages line by line across
the fold (page 196's line, then page 197's on the same row) and orders its
blocks across the pages: on the German spread of ``bench/accuracy.py --set
real`` (``book_de_maker``) it found 93 % of the words at a CER of 0.807, where
reading order is nearly all of the error.

:func:`split_at_gutter` repairs such a reading. It looks for one x position
that many lines jump across: a word gap of at least :data:`SPLIT_GAP` median
line heights covers it in at least :data:`MIN_CROSSING` lines and
:data:`CROSSING_SHARE` of the lines over it, and the parts of those lines on
both sides are lines of text (at least :data:`MIN_SIDE_WIDTH` line heights
wide). It cuts those lines at that gap and orders all lines again with the
recursive XY-cut of :mod:`app.pipeline.reading_order` (columns before rows).
It answers only when the XY-cut puts the two parts of at least
:data:`MIN_CROSSING` cut lines into different blocks. So a table, a form or a
receipt whose rows have wide gaps at one x, and a page whose columns Tesseract
already found (no line crosses), are left exactly as Tesseract read them. Word
boxes, texts and confidences are never changed; lines are only cut and
reordered.

Units: pixels for boxes; gaps in median line heights (the median height of
the page's line boxes).
"""

from __future__ import annotations

from statistics import median

from app.pipeline.reading_order import order_lines
from app.pipeline.schema import Block, Line

#: A word gap this many median line heights wide or more may be a gutter. Word
#: spaces are 0.2-0.5 line heights, wide justified spaces on a curled page up to 2;
#: the fold of ``book_de_maker`` is 8.8-11.3.
SPLIT_GAP = 3.0
#: At least this many lines must jump across the same x ...
MIN_CROSSING = 5
#: ... and at least this share of the lines that reach over that x.
CROSSING_SHARE = 0.3
#: The parts of the crossing lines on each side are lines of text: their median width
#: is at least this many line heights (a page of a book is 30-60, a narrow column
#: 12-20; a receipt's or a form's values beside their labels are 2-6: the Walgreens
#: receipt of the real-photo set, 2.7, is read row by row as Tesseract read it).
MIN_SIDE_WIDTH = 10.0

#: A gap between two words of a line: ``(start, end, line index, word index)``,
#: the gap lying between word ``word`` and word ``word + 1``.
_Gap = tuple[float, float, int, int]


def _wide_gaps(lines: list[Line], h: float) -> list[_Gap]:
    """Word gaps of at least :data:`SPLIT_GAP` line heights (``h`` pixels)."""
    gaps: list[_Gap] = []
    for k, line in enumerate(lines):
        words = line.words
        for i in range(len(words) - 1):
            start, end = words[i].bbox[2], words[i + 1].bbox[0]
            if end - start >= SPLIT_GAP * h:
                gaps.append((start, end, k, i))
    return gaps


def _busiest(gaps: list[_Gap]) -> tuple[float, float, int]:
    """The x run ``(start, end, count)`` covered by the most gaps (the first such run)."""
    events = sorted([(g[0], 1) for g in gaps] + [(g[1], -1) for g in gaps])
    best = (0.0, 0.0, 0)
    count = 0
    for (pos, delta), (following, _) in zip(events, events[1:], strict=False):
        count += delta
        if count > best[2] and following > pos:
            best = (pos, following, count)
    return best


def _cut(line: Line, cuts: list[int]) -> list[Line]:
    """``line`` cut after each word index in ``cuts`` (ascending)."""
    parts, start = [], 0
    for i in cuts:
        parts.append(Line.from_words(line.words[start : i + 1]))
        start = i + 1
    parts.append(Line.from_words(line.words[start:]))
    return parts


def split_at_gutter(blocks: list[Block]) -> list[Block] | None:
    """``blocks`` (one page's, in the engine's order) with the lines that cross a
    gutter cut there and all lines in reading order again, or None when no gutter
    is crossed (the module docstring; the page is then to be kept as it is).

    Blocks, lines and words as :mod:`app.pipeline.schema` (boxes in page pixels).
    The cut lines' parts are lines of their own (bbox, text and confidence from
    their words); the blocks and their order are the XY-cut's
    (:func:`app.pipeline.reading_order.order_lines`).
    """
    lines = [line for block in blocks for line in block.lines if line.words]
    if len(lines) < MIN_CROSSING:
        return None
    h = median(max(1, line.bbox[3] - line.bbox[1]) for line in lines)
    gaps = _wide_gaps(lines, h)
    if len(gaps) < MIN_CROSSING:
        return None
    x0, x1, count = _busiest(gaps)
    middle = (x0 + x1) / 2
    over = sum(1 for line in lines if line.bbox[0] < middle < line.bbox[2])
    if count < MIN_CROSSING or count < CROSSING_SHARE * over:
        return None
    cuts: dict[int, list[int]] = {}
    left, right = [], []
    for start, end, k, i in gaps:
        if start <= x1 and end >= x0:
            cuts.setdefault(k, []).append(i)
            words = lines[k].words
            left.append(start - words[0].bbox[0])
            right.append(words[-1].bbox[2] - end)
    if min(median(left), median(right)) < MIN_SIDE_WIDTH * h:
        return None
    pieces: list[Line] = []
    parts_of: list[list[Line]] = []
    for k, line in enumerate(lines):
        parts = _cut(line, sorted(cuts[k])) if k in cuts else [line]
        pieces.extend(parts)
        if len(parts) > 1:
            parts_of.append(parts)
    ordered = order_lines(pieces)
    block_of = {id(line): n for n, block in enumerate(ordered) for line in block.lines}
    apart = sum(
        1
        for parts in parts_of
        if all(id(p) in block_of for p in parts) and len({block_of[id(p)] for p in parts}) > 1
    )
    return ordered if apart >= MIN_CROSSING else None
