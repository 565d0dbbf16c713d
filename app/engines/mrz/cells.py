"""Reading an MRZ line cell by cell, using its fixed pitch.

MRZ text is OCR-B at a fixed pitch of 10 characters per inch (ICAO Doc 9303
part 3, 4.2), every line having exactly 30, 36 or 44 character cells. A
general OCR model miscounts runs of the filler ``<`` and reads some of them
as ``K`` or ``X``. So each line is rebuilt on its grid:

1. the line's ink extent and the median spacing of Tesseract's symbols give
   the number of cells (snapped to 30, 36 or 44) and the pitch;
2. each Tesseract symbol goes to the cell under its centre;
3. each cell's ink is tested for the chevron shape of ``<`` (:func:`is_chevron`):
   ink at the left only in the middle third of the rows, at the right only in
   the top and bottom thirds (no other OCR-B character of ``A-Z0-9`` has
   that shape; the tests check it on every glyph). A cell that passes becomes
   ``<`` whatever Tesseract read there (it reads ``<`` as ``K``, ``X``, ``S``,
   ``E`` ...); any other cell keeps Tesseract's most confident symbol, or
   ``<`` when Tesseract left it empty.

Coordinates are pixels of the (straightened) crop the symbols come from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

LINE_LENGTHS = (30, 36, 44)


@dataclass(frozen=True, slots=True)
class Symbol:
    """One Tesseract symbol: text, box ``[l, t, r, b]`` and confidence 0-100."""

    text: str
    box: tuple[int, int, int, int]
    confidence: float


def is_chevron(cell: np.ndarray) -> bool:
    """Whether a binary cell (``True`` = ink, rows x columns) holds a ``<``.

    Only the cell's largest connected blob of ink is looked at (noise specks
    and a neighbour's edge are dropped): ``<`` is a single stroke.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        cell.astype(np.uint8), connectivity=8
    )
    if count < 2:
        return False
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    ys, xs = np.nonzero(labels == biggest)
    if len(xs) < 6:
        return False
    ink = (labels == biggest)[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = ink.shape
    if h < 5 or w < 4 or w < 0.45 * h:
        return False
    t1, t2 = round(h * 0.3), round(h * 0.7)
    left = ink[:, : max(1, round(w * 0.3))]
    right = ink[:, w - max(1, round(w * 0.3)) :]

    def share(part: np.ndarray) -> float:
        return float(part.sum()) / max(1, part.size)

    left_mid, left_ends = share(left[t1:t2]), max(share(left[:t1]), share(left[t2:]))
    right_mid = share(right[t1:t2])
    right_top, right_bottom = share(right[:t1]), share(right[t2:])
    return (
        left_mid > 0.08
        and left_ends < 0.25 * left_mid
        and min(right_top, right_bottom) > 0.05
        and right_mid < 0.5 * min(right_top, right_bottom)
    )


def read_line(
    binary: np.ndarray,
    symbols: list[Symbol],
    read_cell: Callable[[tuple[int, int, int, int]], str] | None = None,
) -> tuple[str, tuple[int, int, int, int]]:
    """Rebuild one MRZ line on its character grid.

    ``binary`` is the whole crop (``True`` = ink); ``symbols`` Tesseract's
    symbols of this line, left to right. Returns the line text (30, 36 or 44
    characters, or Tesseract's own text when the grid cannot be set up) and
    the line's box in crop pixels. ``read_cell``, if given, reads one cell
    box (crop pixels) as a single character; it is asked about cells holding
    ink that Tesseract's line reading skipped.
    """
    raw = "".join(s.text for s in symbols)
    if len(symbols) < 10:
        return raw, _union(symbols)
    top = int(np.median([s.box[1] for s in symbols]))
    bottom = int(np.median([s.box[3] for s in symbols]))
    pad = max(2, round((bottom - top) * 0.15))
    top, bottom = max(0, top - pad), min(binary.shape[0], bottom + pad)
    centres = np.array([(s.box[0] + s.box[2]) / 2 for s in symbols])
    steps = np.diff(centres)
    steps = steps[steps > 0]
    if not len(steps):
        return raw, _union(symbols)
    pitch = float(np.median(steps))
    band = binary[top:bottom]
    cols = band.sum(axis=0) >= 1
    left = min(s.box[0] for s in symbols)
    right = _extend_right(cols, max(s.box[2] for s in symbols), gap=pitch * 0.8)
    count = (right - left) / pitch
    n = min(LINE_LENGTHS, key=lambda k: abs(k - count))
    if abs(n - count) > 3:
        return raw, _union(symbols)
    pitch = (right - left) / n
    cells: list[list[Symbol]] = [[] for _ in range(n)]
    for s, cx in zip(symbols, centres, strict=True):
        idx = int((cx - left) / pitch)
        if 0 <= idx < n:
            cells[idx].append(s)
    out = []
    for i, found in enumerate(cells):
        x0, x1 = round(left + i * pitch), round(left + (i + 1) * pitch)
        best = max(found, key=lambda s: s.confidence).text if found else ""
        if is_chevron(band[:, x0:x1]):
            out.append("<")
        else:
            if not best and read_cell is not None and band[:, x0:x1].sum() > 6:
                best = read_cell((x0, top, x1, bottom))[:1]
            out.append(best or "<")
    return "".join(out), (int(left), top, int(right), bottom)


def _extend_right(cols: np.ndarray, start: int, *, gap: float) -> int:
    """The right end of the ink that continues from column ``start`` with gaps < ``gap``."""
    end = min(start, len(cols))
    x = end
    while x < len(cols):
        if cols[x]:
            end = x + 1
        elif x - end > gap:
            break
        x += 1
    return end


def _union(symbols: list[Symbol]) -> tuple[int, int, int, int]:
    if not symbols:
        return (0, 0, 0, 0)
    return (
        min(s.box[0] for s in symbols),
        min(s.box[1] for s in symbols),
        max(s.box[2] for s in symbols),
        max(s.box[3] for s in symbols),
    )
