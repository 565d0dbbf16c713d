"""Reading order of loose text lines: blocks and columns by a recursive XY-cut on boxes.

Engine-agnostic and pure: it looks only at line boxes (``[left, top, right,
bottom]`` in page pixels) and, when given, line polygons (for the skew). Used by
engines that return loose lines (PP-OCR, :mod:`app.engines.ppocr_layout`);
Tesseract orders its own layout and does not come here.

The algorithm is the recursive X-Y cut (G. Nagy and S. Seth, "Hierarchical
representation of optically scanned documents", ICPR 1984; on bounding boxes as
in J. Ha, R. M. Haralick and I. T. Phillips, "Recursive X-Y cut using bounding
boxes of connected components", ICDAR 1995): project the boxes of a region on
the x and y axes and cut the region at the whitespace gaps of the projections,
then cut each part again, until no gap is left; the leaves are blocks, read in
the order of the cuts (left before right, top before bottom). Three additions
make it read pages as people do:

* **Columns before rows.** A region is first cut at a vertical gutter (an x gap)
  when the two sides look like columns of text (:func:`_is_text_column`: at least
  :data:`MIN_COLUMN_LINES` lines, median line width at least
  :data:`MIN_COLUMN_WIDTH` line heights). A table's cells and a receipt's
  labels and prices are short, so they are not taken as columns: a table-like
  grid stays row by row.
* **Lines that span the columns** (a title, a centred running head, a page number
  or a full-width paragraph between two column sections) would close the gutter
  in a plain projection. The gutter is searched in the projection where at most
  ``most`` lines may cover x, for ``most`` = 0, 1, 2 ... up to :data:`SPAN_SHARE`
  of the region's lines (the gutter crossed by the fewest lines wins; XY-Cut++,
  S. Liu, Y. Li and J. Wei, 2025, arXiv:2504.10258, masks such elements before
  cutting in the same spirit). The lines reaching :data:`SPAN_REACH` line heights
  beyond both edges of the gutter then cut the region into horizontal sections
  (above, the spanning lines, below), each read on its own; a stretch of lines
  between spanning lines that lies on one side only (the short last line of a
  full-width paragraph) stays with them.
* **Small skew.** Boxes of a tilted page overlap in the y projection and their
  gutters narrow. When polygons are given (PP-OCR's four points per line), the
  page's skew is estimated as the median angle of the long lines' top and bottom
  edges (:func:`estimate_skew`) and every box is taken in coordinates turned
  back by it before cutting (at most :data:`MAX_SKEW` degrees).

A region that has no gutter is cut at every y gap wider than :data:`MAX_GAP`
line heights (paragraphs and headers/footers set apart become blocks of their
own); consecutive parts that have a gutter at the same place are joined again
before they are cut, so that a blank row that happens to cross both columns does
not read a two-column section row-wise. A region with neither is cut at an x gap
of its plain projection (a side note beside a paragraph) unless its lines form a
grid: at least two rows, and half of them, with lines on both sides (a table, a
receipt's labels and prices), which is one block read in rows (lines overlapping
vertically by :data:`ROW_OVERLAP` of the smaller height), top to bottom, each row
left to right. Any other leaf is split into chains of lines each directly under
the last (this module's predecessor's rule, kept for a caption set under a figure
beside the text), read in the order of their first lines.
Units: pixels for boxes, gaps in median line heights of the page (the median box
height after deskewing), degrees for skew. The constants were set on synthetic
layouts (tests/pipeline/test_reading_order.py) and checked on PP-OCR's lines of
OCRmyPDF's two-column pages (``linn.png``, ``multipage.pdf`` page 6) and the
photo set (docs/engines-ppocr.md, "Reading order").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from app.pipeline.schema import Block, Line, mean_confidence, union_bbox

#: Largest y gap inside one block, in median line heights. Body text set at
#: 1.2-1.6 line spacing leaves gaps of 0.2-0.6 line heights; a blank line 1.2 or more.
MAX_GAP = 1.0
#: Narrowest gutter between two columns, in median line heights. Word spaces are
#: about 0.25 em and never show in a projection of whole lines; gutters are 1-2 em,
#: but ragged columns leave less: linn.png's, read by PP-OCR, is 0.78 line heights.
MIN_GUTTER = 0.5
#: Share of a region's lines that may cross a gutter (titles, running heads, page
#: numbers, a full-width paragraph between two column sections).
SPAN_SHARE = 0.5
#: A line crosses a gutter when it reaches this many line heights beyond both of its
#: edges (set on the phone photo of linn.png, whose keystoned left-column lines poke
#: 0.25 line heights into the right column).
SPAN_REACH = 0.5
#: A side of a gutter is a column of text when it has this many lines ...
MIN_COLUMN_LINES = 2
#: ... whose median width is at least this many line heights (a text column of
#: 25-40 characters is 12-20 line heights wide; table cells, prices and list
#: numbers are a few).
MIN_COLUMN_WIDTH = 6.0
#: Two lines are in one row when they overlap vertically by this share of the
#: smaller height.
ROW_OVERLAP = 0.5
#: Largest skew corrected, in degrees; beyond it the boxes are taken as they are.
MAX_SKEW = 10.0
#: Only lines at least this many heights long vote on the skew (short ones are noisy).
SKEW_MIN_ASPECT = 4.0

Box = tuple[float, float, float, float]
#: A block's lines as rows: each row the indices of its lines, left to right.
Rows = list[list[int]]


@dataclass(frozen=True, slots=True)
class _Page:
    """The boxes being ordered (deskewed) and their median height ``h`` (pixels)."""

    boxes: Sequence[Box]
    h: float


# -- skew ----------------------------------------------------------------------------


def estimate_skew(polygons: Sequence[Sequence[Sequence[float]] | None]) -> float:
    """The page's skew in degrees from line polygons (positive: lines fall to the right).

    Each 4-point polygon (top-left, top-right, bottom-right, bottom-left, as
    PP-OCR/RapidOCR gives them) at least :data:`SKEW_MIN_ASPECT` times as long as
    high votes with the mean angle of its top and bottom edges; the result is the
    median vote, 0.0 without votes or when beyond :data:`MAX_SKEW`.
    """
    votes = []
    for poly in polygons:
        if not poly or len(poly) != 4:
            continue
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = ((float(p[0]), float(p[1])) for p in poly)
        length = math.hypot(x1 - x0, y1 - y0)
        height = math.hypot(x3 - x0, y3 - y0)
        if x1 <= x0 or x2 <= x3 or length < SKEW_MIN_ASPECT * max(height, 1.0):
            continue
        top = math.atan2(y1 - y0, x1 - x0)
        bottom = math.atan2(y2 - y3, x2 - x3)
        votes.append(math.degrees((top + bottom) / 2))
    if not votes:
        return 0.0
    skew = median(votes)
    return skew if abs(skew) <= MAX_SKEW else 0.0


def _deskewed(points: Sequence[Sequence[float]], skew: float) -> Box:
    """Axis-aligned box of ``points`` turned by ``-skew`` degrees about the origin."""
    a = math.radians(skew)
    cos, sin = math.cos(a), math.sin(a)
    xs = [x * cos + y * sin for x, y in points]
    ys = [-x * sin + y * cos for x, y in points]
    return (min(xs), min(ys), max(xs), max(ys))


# -- projections ---------------------------------------------------------------------


def _segments(intervals: list[tuple[float, float]]) -> list[tuple[float, float, int]]:
    """The axis from the lowest start to the highest end of ``intervals`` (``end``
    exclusive) as ``(start, end, count)`` pieces, ``count`` = intervals covering it."""
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    pieces: list[tuple[float, float, int]] = []
    count, prev = 0, events[0][0]
    for pos, delta in events:
        if pos > prev:
            pieces.append((prev, pos, count))
        count += delta
        prev = pos
    return pieces


def _runs(pieces: list[tuple[float, float, int]], most: int) -> list[tuple[float, float]]:
    """Inner runs of ``pieces`` (:func:`_segments`) covered by at most ``most`` intervals.

    A run is a maximal ``(start, end)`` of consecutive pieces with ``count <= most``;
    runs touching either end of the axis are left out (margins, not gaps).
    ``most=0`` gives the plain projection's gaps.
    """
    runs: list[tuple[float, float]] = []
    start = None
    for a, b, count in pieces:
        if count <= most:
            if start is None:
                start = a
            end = b
        elif start is not None:
            runs.append((start, end))
            start = None
    return [r for r in runs if r[0] > pieces[0][0]]


def _is_text_column(page: _Page, members: list[int]) -> bool:
    """Whether ``members`` look like a column of text lines (see the module docstring)."""
    if len(members) < MIN_COLUMN_LINES:
        return False
    widths = [page.boxes[i][2] - page.boxes[i][0] for i in members]
    return median(widths) >= MIN_COLUMN_WIDTH * page.h


@dataclass(frozen=True, slots=True)
class _Gutter:
    """A vertical cut: x run ``(x0, x1)``, the lines left and right of it and across it."""

    x0: float
    x1: float
    left: list[int]
    right: list[int]
    spanning: list[int]


def _split(page: _Page, members: list[int], x0: float, x1: float) -> _Gutter:
    """``members`` as left of, right of and across the x run ``(x0, x1)``: a line
    across covers the run and :data:`SPAN_REACH` line heights on each side of it;
    any other goes by the side of its centre (a line of a tilted or keystoned
    column that pokes into the next column is still of its own column)."""
    middle = (x0 + x1) / 2
    reach = SPAN_REACH * page.h
    left, right, spanning = [], [], []
    for i in members:
        start, _, end, _ = page.boxes[i]
        if start <= x0 - reach and end >= x1 + reach:
            spanning.append(i)
        elif (start + end) / 2 < middle:
            left.append(i)
        else:
            right.append(i)
    return _Gutter(x0, x1, left, right, spanning)


def _gutter(page: _Page, members: list[int]) -> _Gutter | None:
    """The gutter of ``members`` crossed by the fewest lines, or None.

    Thresholds ``most`` = 0, 1, 2 ... up to :data:`SPAN_SHARE` of the lines are
    tried in turn; at each, the inner x runs covered by at most ``most`` lines and
    at least :data:`MIN_GUTTER` line heights wide, widest first, until one has
    text columns on both sides (:func:`_is_text_column`).
    """
    if len(members) < 2 * MIN_COLUMN_LINES:
        return None
    pieces = _segments([(page.boxes[i][0], page.boxes[i][2]) for i in members])
    limit = int(SPAN_SHARE * len(members))
    for most in sorted({c for _, _, c in pieces if c <= limit}):
        runs = [r for r in _runs(pieces, most) if r[1] - r[0] >= MIN_GUTTER * page.h]
        for x0, x1 in sorted(runs, key=lambda r: r[0] - r[1]):
            gutter = _split(page, members, x0, x1)
            if _is_text_column(page, gutter.left) and _is_text_column(page, gutter.right):
                return gutter
    return None


def _y_center(page: _Page, i: int) -> float:
    return (page.boxes[i][1] + page.boxes[i][3]) / 2


def _strips(page: _Page, members: list[int]) -> list[list[int]]:
    """``members`` cut at every y gap wider than :data:`MAX_GAP` line heights, top down."""
    gaps = _runs(_segments([(page.boxes[i][1], page.boxes[i][3]) for i in members]), 0)
    gaps = [(a, b) for a, b in gaps if b - a > MAX_GAP * page.h]
    cuts = sorted((a + b) / 2 for a, b in gaps)
    strips: list[list[int]] = [[] for _ in range(len(cuts) + 1)]
    for i in members:
        strips[sum(1 for c in cuts if _y_center(page, i) > c)].append(i)
    return [s for s in strips if s]


def _join_columns(page: _Page, strips: list[list[int]]) -> list[list[int]]:
    """Join consecutive strips whose gutters overlap in x (one column section)."""
    out: list[list[int]] = []
    last: _Gutter | None = None
    for strip in strips:
        gutter = _gutter(page, strip)
        if out and last and gutter and gutter.x0 < last.x1 and last.x0 < gutter.x1:
            out[-1] = out[-1] + strip
            gutter = _gutter(page, out[-1]) or gutter
        else:
            out.append(strip)
        last = gutter
    return out


def _sections(page: _Page, gutter: _Gutter) -> list[list[int]]:
    """The region of ``gutter`` cut into horizontal sections by its spanning lines.

    Lines in order of their vertical centre; a run of column lines between
    spanning lines is a section of its own when it has lines on both sides of the
    gutter, else it belongs with the spanning lines around it (the short last
    line of a full-width paragraph); the rest are sections of spanning lines.
    """
    spanning, left = set(gutter.spanning), set(gutter.left)
    members = sorted(gutter.left + gutter.right + gutter.spanning, key=lambda i: _y_center(page, i))
    runs: list[list[int]] = []
    for i in members:
        if runs and (i in spanning) == (runs[-1][0] in spanning):
            runs[-1].append(i)
        else:
            runs.append([i])
    sections: list[list[int]] = []
    wide = False
    for run in runs:
        columns = run[0] not in spanning and 0 < sum(i in left for i in run) < len(run)
        if sections and not columns and wide:
            sections[-1].extend(run)
        else:
            sections.append(list(run))
        wide = not columns
    return sections


def _rows(page: _Page, members: list[int]) -> list[list[int]]:
    """``members`` in rows, rows top down, each left to right.

    Lines in order of their vertical centres; a line joins the current row when it
    overlaps the row's first line vertically by :data:`ROW_OVERLAP` of the smaller
    height (the first line, not the last: a chain of lines each a little lower
    than the last is not one row) and stands beside every line of the row (overlaps
    none of them in x by more than :data:`ROW_OVERLAP` line heights: the wrapped
    end of a tilted line under it is not beside it).
    """
    boxes = page.boxes
    slack = ROW_OVERLAP * page.h
    rows: list[list[int]] = []
    for i in sorted(members, key=lambda i: (_y_center(page, i), boxes[i][0])):
        if rows:
            row = rows[-1]
            j = row[0]
            overlap = min(boxes[i][3], boxes[j][3]) - max(boxes[i][1], boxes[j][1])
            smaller = min(boxes[i][3] - boxes[i][1], boxes[j][3] - boxes[j][1])
            beside = all(
                min(boxes[i][2], boxes[k][2]) - max(boxes[i][0], boxes[k][0]) <= slack for k in row
            )
            if overlap >= ROW_OVERLAP * smaller and beside:
                row.append(i)
                continue
        rows.append([i])
    return [sorted(row, key=lambda i: boxes[i][0]) for row in rows]


def _is_grid(page: _Page, rows: list[list[int]], left: set[int]) -> bool:
    """Whether at least two rows, and at least half of them, have lines on both sides
    (in ``left`` and not): a table, a receipt or a form, read row by row."""
    both = sum(1 for row in rows if 0 < sum(i in left for i in row) < len(row))
    return both >= 2 and 2 * both >= len(rows)


def _chains(page: _Page, members: list[int]) -> list[list[int]]:
    """``members`` as chains of lines each directly under the last of its chain.

    Lines top down (by their centres: a line tilted more than the page, on a
    curved page, has a high top); a line continues the chain whose last line is above it by a
    gap of at most :data:`MAX_GAP` line heights and overlaps it in x (the nearest
    such chain), else starts one. Chains in order of their first line (top, then
    left). This keeps a caption under a figure, set beside the text, out of the
    text's lines (the rule of ``ppocr_layout`` before this module).
    """
    boxes = page.boxes
    chains: list[list[int]] = []
    for i in sorted(members, key=lambda i: (_y_center(page, i), boxes[i][0])):
        best, best_gap = None, None
        for chain in chains:
            last = boxes[chain[-1]]
            gap = boxes[i][1] - last[3]
            overlaps = min(boxes[i][2], last[2]) > max(boxes[i][0], last[0])
            if gap <= MAX_GAP * page.h and overlaps and (best_gap is None or gap < best_gap):
                best, best_gap = chain, gap
        if best is None:
            chains.append([i])
        else:
            best.append(i)
    return sorted(chains, key=lambda c: (boxes[c[0]][1], boxes[c[0]][0]))


def _cells(page: _Page, rows: list[list[int]]) -> bool:
    """Whether the lines that stand side by side in ``rows`` are cells, not flows of text:
    their median width is under :data:`MIN_COLUMN_WIDTH` line heights (a receipt's
    labels, values and prices, a form's fields; two text columns or a caption beside a
    paragraph are wider)."""
    widths = [page.boxes[i][2] - page.boxes[i][0] for row in rows if len(row) > 1 for i in row]
    return bool(widths) and median(widths) < MIN_COLUMN_WIDTH * page.h


def _leaf(page: _Page, members: list[int]) -> list[Rows]:
    """Blocks of a region with no gutter and no gap: one block in rows when its lines
    form a grid (:func:`_is_grid`, any two lines side by side count) or the lines side
    by side are cells (:func:`_cells`: a receipt whose full-width header and footer
    lines outnumber its label-and-price rows), else its chains (:func:`_chains`), a
    line per row."""
    rows = _rows(page, members)
    if any(len(row) > 1 for row in rows):
        first = {row[0] for row in rows}
        if _is_grid(page, rows, first) or _cells(page, rows):
            return [rows]
    return [[[i] for i in chain] for chain in _chains(page, members)]


def _aside(page: _Page, members: list[int]) -> _Gutter | None:
    """An x gap of a leaf that sets a side note apart, or None (a table's column gap).

    The widest gap of the plain x projection at least :data:`MIN_GUTTER` line
    heights wide, unless at least two rows, and at least half of the rows,
    have lines on both sides of it: then it is a grid (table, receipt, form)
    and is read row by row.
    """
    pieces = _segments([(page.boxes[i][0], page.boxes[i][2]) for i in members])
    runs = [r for r in _runs(pieces, 0) if r[1] - r[0] >= MIN_GUTTER * page.h]
    if not runs:
        return None
    gutter = _split(page, members, *max(runs, key=lambda r: r[1] - r[0]))
    return None if _is_grid(page, _rows(page, members), set(gutter.left)) else gutter


def _order(page: _Page, members: list[int]) -> list[Rows]:
    """Blocks of ``members`` in reading order, each as its rows (the recursion of the
    module docstring)."""
    if len(members) <= 1:
        return [[members]] if members else []
    gutter = _gutter(page, members)
    if gutter is not None:
        if not gutter.spanning:
            return _order(page, gutter.left) + _order(page, gutter.right)
        sections = _sections(page, gutter)
        if len(sections) > 1:
            return [b for s in sections for b in _order(page, s)]
    strips = _strips(page, members)
    if len(strips) > 1:
        strips = _join_columns(page, strips)
    if len(strips) > 1:
        return [b for s in strips for b in _order(page, s)]
    aside = _aside(page, members)
    if aside is not None:
        return _order(page, aside.left) + _order(page, aside.right)
    return _leaf(page, members)


# -- public --------------------------------------------------------------------------


def order_rows(
    boxes: Sequence[Sequence[float]],
    polygons: Sequence[Sequence[Sequence[float]] | None] | None = None,
) -> list[Rows]:
    """Blocks in reading order, each a list of rows, each row a list of indices into
    ``boxes`` from left to right.

    ``boxes``: ``[left, top, right, bottom]`` per line, pixels. ``polygons``
    (optional, same length, items may be None): the lines' polygons, used for
    the skew (:func:`estimate_skew`) and, where given, for the line's deskewed
    box. A row holds more than one line only in a block read row by row (a
    table, a receipt, a form: :func:`_leaf`). Every index appears exactly once;
    no boxes gives no blocks. Raises ``ValueError`` when ``polygons`` and
    ``boxes`` differ in length.
    """
    if not boxes:
        return []
    polys = list(polygons) if polygons is not None else [None] * len(boxes)
    if len(polys) != len(boxes):
        raise ValueError("boxes and polygons differ in length")
    skew = estimate_skew(polys)
    deskewed: list[Box] = []
    for box, poly in zip(boxes, polys, strict=True):
        x0, y0, x1, y1 = (float(v) for v in box[:4])
        points = poly if (poly and skew) else [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        deskewed.append(_deskewed(points, skew) if skew else (x0, y0, x1, y1))
    h = median(max(1.0, b[3] - b[1]) for b in deskewed)
    return _order(_Page(deskewed, h), list(range(len(boxes))))


def order_boxes(
    boxes: Sequence[Sequence[float]],
    polygons: Sequence[Sequence[Sequence[float]] | None] | None = None,
) -> list[list[int]]:
    """Blocks in reading order, each a list of indices into ``boxes`` in reading order
    (:func:`order_rows` with each block's rows joined)."""
    return [[i for row in block for i in row] for block in order_rows(boxes, polygons)]


def order_lines(lines: list[Line]) -> list[Block]:
    """``lines`` (any order) as blocks in reading order (:func:`order_rows`).

    Uses each line's ``bbox`` and ``polygon``. The lines of one row of a block
    read row by row (a receipt's label and its price, a table's cells) become one
    line, their words left to right (its ``polygon`` None: the row's lines keep
    their own only as words' boxes); any other line is kept as it is. Each
    block's ``bbox`` is the union of its lines' and its ``confidence`` the mean
    of its words' (:meth:`Block.from_lines`). No lines give no blocks.
    """
    order = order_rows([ln.bbox for ln in lines], [ln.polygon for ln in lines])
    return [
        Block.from_lines([_row_line([lines[i] for i in row]) for row in block]) for block in order
    ]


def _row_line(row: list[Line]) -> Line:
    """One line of a row's lines (left to right); a row of one line is that line."""
    if len(row) == 1:
        return row[0]
    words = [w for ln in row for w in ln.words]
    if all(ln.words for ln in row):
        return Line.from_words(words)
    return Line(
        bbox=union_bbox(ln.bbox for ln in row),
        text=" ".join(ln.text for ln in row if ln.text),
        confidence=mean_confidence(ln.confidence for ln in row),
        words=words,
    )
