"""Finding the machine readable zone in a page image.

The MRZ (ICAO Doc 9303 part 3, section 4) is 2 or 3 lines of OCR-B text at
10 characters per inch, printed edge to edge with ``<`` fillers, so each
line is one long, dense, evenly tall band of dark marks. The search:

1. work on a grey copy at most :data:`WORK_SIZE` pixels on its long side;
2. a morphological black-hat (closing minus image) keeps dark strokes
   smaller than the kernel and drops shading and large dark areas (photos);
3. Otsu binarisation, then a closing with a wide, flat kernel merges the
   characters of each line into one band;
4. each connected band that is long (aspect ratio >= :data:`MIN_ASPECT`) and
   solid becomes a candidate line, with its slope fitted by least squares;
5. candidates of similar length, slope, left edge and height stacked at a
   regular pitch form 2- or 3-line groups; groups are ranked by line count,
   length and how low on the page they sit (the MRZ is at the bottom).

Output boxes are in the input image's pixels, ``[left, top, right, bottom]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

#: Long side, in pixels, of the copy the search works on.
WORK_SIZE = 1200
#: A candidate line band must be at least this many times longer than tall.
MIN_ASPECT = 8.0


@dataclass(frozen=True, slots=True)
class Band:
    """One candidate MRZ line in work pixels: centre, length, height, slope angle."""

    cx: float
    cy: float
    length: float
    height: float
    angle: float  # degrees, positive = the line rises to the right in image space
    left: float
    right: float


@dataclass(frozen=True, slots=True)
class Region:
    """A probable MRZ: ``bbox`` ``[l, t, r, b]`` in image pixels (with a margin).

    ``angle`` is the text's skew in degrees (counter-clockwise positive, as
    :func:`PIL.Image.Image.rotate` takes it to straighten the crop), ``lines``
    the number of lines found (1 for a fallback region), ``line_height`` the
    height of one text band in image pixels, ``score`` the ranking (higher is
    better).
    """

    bbox: tuple[int, int, int, int]
    angle: float
    lines: int
    line_height: float
    score: float


def _to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return image


def find_bands(gray: np.ndarray) -> list[Band]:
    """Long text bands in a grey ``uint8`` image (already at work size)."""
    h, w = gray.shape
    side = max(h, w)
    k = max(9, side // 70) | 1
    blackhat = cv2.morphologyEx(
        gray, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    )
    _, binary = cv2.threshold(blackhat, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    # drop specks, then merge each line's characters
    binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    closed = cv2.morphologyEx(
        binary, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (max(15, side // 45), 3))
    )
    count, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    bands: list[Band] = []
    for i in range(1, count):
        x, y, bw, bh, area = stats[i]
        if bw < side * 0.15 or bh < 4:
            continue
        ys, xs = np.nonzero(labels[y : y + bh, x : x + bw] == i)
        if len(xs) < 50:
            continue
        slope, _ = np.polyfit(xs.astype(np.float64), ys.astype(np.float64), 1)
        if abs(slope) > math.tan(math.radians(12)):
            continue
        # thickness perpendicular to the fitted line
        resid = ys - slope * xs
        thick = float(np.percentile(resid, 95) - np.percentile(resid, 5)) * math.cos(
            math.atan(slope)
        )
        length = float(bw) / math.cos(math.atan(slope))
        if thick < 4 or length / max(thick, 1.0) < MIN_ASPECT:
            continue
        if area / (length * thick + 1e-6) < 0.45:  # not a solid band
            continue
        bands.append(
            Band(
                cx=float(x + bw / 2),
                cy=float(y + ys.mean()),
                length=length,
                height=thick,
                angle=-math.degrees(math.atan(slope)),
                left=float(x),
                right=float(x + bw),
            )
        )
    return bands


def _fits(a: Band, b: Band) -> bool:
    """Whether ``b`` can be the MRZ line right below ``a``."""
    pitch = b.cy - a.cy
    size = max(a.height, b.height)
    return (
        size * 1.1 < pitch < size * 3.5
        and abs(a.length - b.length) < 0.12 * max(a.length, b.length)
        and abs(a.left - b.left) < 0.08 * a.length + size
        and abs(a.angle - b.angle) < 2.0
        and max(a.height, b.height) < 1.8 * min(a.height, b.height)
    )


def group_bands(bands: list[Band], height: int) -> list[list[Band]]:
    """2- and 3-line stacks of bands, best first."""
    bands = sorted(bands, key=lambda b: b.cy)
    groups: list[list[Band]] = []
    for i, a in enumerate(bands):
        for j in range(i + 1, len(bands)):
            b = bands[j]
            if not _fits(a, b):
                continue
            groups.append([a, b])
            for c in bands[j + 1 :]:
                if _fits(b, c) and abs((c.cy - b.cy) - (b.cy - a.cy)) < 0.3 * (b.cy - a.cy):
                    groups.append([a, b, c])

    def score(g: list[Band]) -> float:
        low = g[-1].cy / max(height, 1)
        return len(g) * 1.0 + low + g[0].length / max(height, 1) * 0.1

    groups.sort(key=score, reverse=True)
    return groups


def find_regions(image: np.ndarray, *, max_regions: int = 3) -> list[Region]:
    """Probable MRZ regions in ``image`` (``H x W`` grey or ``H x W x 3`` RGB ``uint8``).

    Returns up to ``max_regions`` regions, best first: 3-line stacks and
    2-line stacks (a 3-line TD1 stack also yields its 2-line sub-stacks, the
    OCR decides), then, when no stack is found, the lowest long single bands
    widened to hold 3 lines.
    """
    gray = _to_gray(image)
    h, w = gray.shape
    scale = min(1.0, WORK_SIZE / max(h, w))
    work = cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    bands = find_bands(work)
    regions: list[Region] = []
    seen: list[tuple[int, int, int, int]] = []
    for group in group_bands(bands, work.shape[0]):
        region = _region(group, scale, w, h, score=len(group) + group[-1].cy / work.shape[0])
        if any(_inside(region.bbox, s) for s in seen):
            continue
        seen.append(region.bbox)
        regions.append(region)
        if len(regions) >= max_regions:
            return regions
    if not regions:
        for band in sorted(bands, key=lambda b: b.cy, reverse=True)[:max_regions]:
            regions.append(_region([band], scale, w, h, score=band.cy / work.shape[0], extra=2.5))
    return regions


def _inside(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] >= b[0] and a[1] >= b[1] and a[2] <= b[2] and a[3] <= b[3]


def _region(
    group: list[Band], scale: float, w: int, h: int, *, score: float, extra: float = 0.0
) -> Region:
    angle = float(np.median([b.angle for b in group]))
    size = float(np.median([b.height for b in group]))
    left = min(b.left for b in group)
    right = max(b.right for b in group)
    tilt = abs(math.tan(math.radians(angle))) * (right - left) / 2
    top = min(b.cy for b in group) - tilt - size * (1.0 + extra)
    bottom = max(b.cy for b in group) + tilt + size * (1.0 + extra)
    margin = size * 1.2
    box = (
        max(0, int((left - margin) / scale)),
        max(0, int(top / scale)),
        min(w, int(math.ceil((right + margin) / scale))),
        min(h, int(math.ceil(bottom / scale))),
    )
    return Region(bbox=box, angle=angle, lines=len(group), line_height=size / scale, score=score)
