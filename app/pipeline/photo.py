"""Photo preprocessing: illumination flattening, page detection, perspective correction.

Pure functions on Pillow images and numpy arrays (OpenCV for the image maths),
no Django. :func:`prepare_photo` decides per page whether the image is a
*photo* of a page and only then changes it; a scan passes through untouched
(the same object is returned).

What makes a page a photo here (both measured on a small analysis copy, at
most :data:`ANALYSIS_SIDE` pixels a side):

* **a page on a background** (:func:`find_page`): the largest bright region
  of the frame is a convex quadrilateral covering :data:`MIN_PAGE_AREA` to
  :data:`MAX_PAGE_AREA` of it, clearly brighter than what surrounds it
  (:data:`MIN_PAGE_CONTRAST` grey levels) and not an axis-aligned rectangle
  (a scan's dark border is left alone: cropping it is not worth a changed
  scan). Its corners are mapped to a rectangle by a perspective transform
  (``cv2.getPerspectiveTransform``; the "document scanner" recipe of OpenCV's
  contour tutorials: Otsu mask, largest external contour, ``approxPolyDP``).
* **uneven or dim light** (:func:`lighting`): the paper brightness, estimated
  per cell of a :data:`GRID` x :data:`GRID` grid as the cell's 95th percentile
  grey level, varies more than :data:`UNEVEN_RATIO` (10th / 90th percentile of
  the cells) or its brightest cells are under :data:`DIM_PAPER` grey levels.

A photo's page is then flattened (:func:`flatten`): each channel divided by an
estimate of its background (the paper without the ink), the classic
"background division" of shading correction (e.g. Leptonica's
``pixBackgroundNorm``; here a grey dilation, which removes dark strokes
narrower than its kernel, then a Gaussian blur of the same size, both with
OpenCV, computed at reduced size and scaled back). The paper becomes white
and the ink keeps its contrast to it, whatever the light.

Dewarping of curved book pages is not done (see docs/photos-bench.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image

#: Longest side, in pixels, of the analysis copy page detection and the light check use.
ANALYSIS_SIDE = 1000
#: A page covers at least this share of the frame (smaller: a card, a label; left alone).
MIN_PAGE_AREA = 0.20
#: ...and at most this share (more: the page fills the frame; nothing to correct).
MAX_PAGE_AREA = 0.97
#: The page's median grey level is at least this much above the surroundings'.
MIN_PAGE_CONTRAST = 40.0
#: Corners this close (share of the analysis copy's side) to an axis-aligned
#: rectangle make the page a plain rectangle: no perspective to correct.
RECT_TOLERANCE = 0.01
#: Cells per side of the paper-brightness grid.
GRID = 8
#: Uneven light: 10th percentile of the cells' paper brightness under this share of the 90th.
UNEVEN_RATIO = 0.80
#: Dim light: the 90th percentile of the cells' paper brightness (0-255) under this.
DIM_PAPER = 160.0
#: Background kernel (pixels of the analysis copy): a dilation wider than a text stroke.
BACKGROUND_KERNEL = 21


@dataclass(frozen=True, slots=True)
class PhotoReport:
    """What :func:`prepare_photo` did to a page.

    ``page_detected``: a page was found on a background; ``perspective``: it was
    warped to a rectangle; ``flattened``: the light was flattened. ``corners``:
    the page's corners (top-left, top-right, bottom-right, bottom-left) as
    ``[x, y]`` pixels of the image given, when it was warped (what
    :func:`warp_page` needs to reproduce the warp).
    """

    page_detected: bool = False
    perspective: bool = False
    flattened: bool = False
    corners: list[list[int]] | None = None

    @property
    def changed(self) -> bool:
        return self.perspective or self.flattened

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "page_detected": self.page_detected,
            "perspective": self.perspective,
            "flattened": self.flattened,
        }
        if self.corners is not None:
            d["corners"] = [list(c) for c in self.corners]
        return d


def _small(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """``gray`` (uint8, h x w) shrunk to at most ANALYSIS_SIDE a side, and its factor."""
    factor = min(1.0, ANALYSIS_SIDE / max(gray.shape))
    if factor < 1.0:
        size = (max(1, round(gray.shape[1] * factor)), max(1, round(gray.shape[0] * factor)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return gray, factor


def _order(corners: np.ndarray) -> np.ndarray:
    """Four ``[x, y]`` points ordered top-left, top-right, bottom-right, bottom-left."""
    pts = corners.reshape(4, 2).astype(np.float32)
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.array(
        [pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], np.float32
    )


def _is_upright_rectangle(quad: np.ndarray, side: int) -> bool:
    """True when ordered corners ``quad`` lie within RECT_TOLERANCE x ``side`` pixels
    of an axis-aligned rectangle (top and bottom level, left and right plumb)."""
    tol = RECT_TOLERANCE * side
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = quad
    return (
        abs(y0 - y1) <= tol and abs(y2 - y3) <= tol and abs(x0 - x3) <= tol and abs(x1 - x2) <= tol
    )


def find_page(gray: np.ndarray) -> np.ndarray | None:
    """The corners of a page photographed on a background, or None.

    ``gray``: uint8 array (h x w). Returns a float32 array of 4 ``[x, y]``
    points in ``gray``'s pixels (top-left, top-right, bottom-right,
    bottom-left), or None when no page stands out (see the module docstring
    for the conditions).
    """
    small, factor = _small(gray)
    blurred = cv2.GaussianBlur(small, (5, 5), 0)
    _, mask = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    side = max(small.shape)
    k = max(3, side // 60) | 1
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    largest = max(contours, key=cv2.contourArea)
    area = small.shape[0] * small.shape[1]
    share = cv2.contourArea(largest) / area
    if not MIN_PAGE_AREA <= share <= MAX_PAGE_AREA:
        return None
    hull = cv2.convexHull(largest)
    perimeter = cv2.arcLength(hull, True)
    quad = None
    for eps in (0.01, 0.02, 0.03, 0.04, 0.05):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            quad = approx
            break
        if len(approx) < 4:
            break
    if quad is None or not cv2.isContourConvex(quad):
        return None
    # The quadrilateral must stand for the region (a curved edge bulges a little).
    if cv2.contourArea(quad) < 0.9 * cv2.contourArea(hull):
        return None
    ordered = _order(quad)
    if _is_upright_rectangle(ordered, side):
        return None
    inside = np.zeros(small.shape, np.uint8)
    cv2.fillConvexPoly(inside, ordered.astype(np.int32), 1)
    page_level = float(np.median(small[inside == 1]))
    outside = small[inside == 0]
    if outside.size == 0 or page_level - float(np.median(outside)) < MIN_PAGE_CONTRAST:
        return None
    return ordered / factor


def page_size(corners: np.ndarray) -> tuple[int, int]:
    """(width, height) in pixels of the rectangle a page with ``corners`` is warped to:
    its longer top/bottom edge and its longer left/right edge."""
    tl, tr, br, bl = corners
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    return max(1, round(float(width))), max(1, round(float(height)))


def warp_page(image: Image.Image, corners: np.ndarray | list[list[int]]) -> Image.Image:
    """``image`` (L or RGB) with the quadrilateral ``corners`` (4 ``[x, y]`` pixels,
    top-left first, clockwise) mapped to an upright rectangle of :func:`page_size`
    (``cv2.getPerspectiveTransform`` + ``cv2.warpPerspective``, bicubic)."""
    src = np.asarray(corners, np.float32).reshape(4, 2)
    width, height = page_size(src)
    dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    arr = np.asarray(image)
    out = cv2.warpPerspective(
        arr, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return Image.fromarray(out, image.mode)


def paper_levels(gray: np.ndarray) -> np.ndarray:
    """The paper brightness (0-255) of each cell of a GRID x GRID grid over ``gray``
    (uint8 h x w): the cell's 95th percentile grey level (text leaves more than
    5 % of a cell paper). Returns a float array of GRID * GRID values."""
    small, _ = _small(gray)
    h, w = small.shape
    ys = np.linspace(0, h, GRID + 1).astype(int)
    xs = np.linspace(0, w, GRID + 1).astype(int)
    return np.array(
        [
            float(np.percentile(small[ys[i] : ys[i + 1], xs[j] : xs[j + 1]], 95))
            for i in range(GRID)
            for j in range(GRID)
            if ys[i + 1] > ys[i] and xs[j + 1] > xs[j]
        ]
    )


def lighting(gray: np.ndarray) -> tuple[bool, bool]:
    """(uneven, dim) light on the page ``gray`` (uint8 h x w), from :func:`paper_levels`."""
    levels = paper_levels(gray)
    if levels.size == 0:
        return False, False
    low, high = np.percentile(levels, 10), np.percentile(levels, 90)
    return bool(low < UNEVEN_RATIO * high), bool(high < DIM_PAPER)


def background(channel: np.ndarray) -> np.ndarray:
    """The paper under ``channel`` (uint8 h x w), float32 h x w, 1-255.

    Computed on a copy of at most ANALYSIS_SIDE pixels a side: a grey dilation
    by a BACKGROUND_KERNEL square (the ink, narrower, is replaced by the paper
    next to it), then a Gaussian blur of the same size, then scaled back.
    """
    small, factor = _small(channel)
    k = BACKGROUND_KERNEL
    bg = cv2.dilate(small, np.ones((k, k), np.uint8))
    bg = cv2.GaussianBlur(bg, (0, 0), k / 2)
    if factor < 1.0:
        bg = cv2.resize(bg, (channel.shape[1], channel.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.maximum(bg.astype(np.float32), 1.0)


def flatten_array(channel: np.ndarray) -> np.ndarray:
    """``channel`` (uint8 h x w) divided by its :func:`background`, scaled to 0-255 (uint8)."""
    out = channel.astype(np.float32) * (255.0 / background(channel))
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def flatten(image: Image.Image) -> Image.Image:
    """``image`` (L or RGB) with its light flattened, channel by channel (same mode, size)."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        return Image.fromarray(flatten_array(arr), "L")
    out = np.stack([flatten_array(np.ascontiguousarray(arr[..., c])) for c in range(3)], -1)
    return Image.fromarray(out, "RGB")


def prepare_photo(image: Image.Image) -> tuple[Image.Image, PhotoReport]:
    """``image`` (L or RGB, upright) prepared if it is a photo of a page, and the report.

    Page detection first (:func:`find_page`): a page found is warped to a
    rectangle (:func:`warp_page`) and flattened; otherwise the light is checked
    (:func:`lighting`) and the image flattened when it is uneven or dim. A page
    with neither is returned as it is (the same object). Never raises for
    image content.
    """
    gray = np.asarray(image if image.mode == "L" else image.convert("L"))
    if gray.size == 0 or min(gray.shape) < 32:
        return image, PhotoReport()
    corners = find_page(gray)
    if corners is not None:
        # Whole pixels, so that the warp can be reproduced from the report exactly.
        rounded = [[int(round(x)), int(round(y))] for x, y in corners]
        page = warp_page(image, rounded)
        return flatten(page), PhotoReport(
            page_detected=True, perspective=True, flattened=True, corners=rounded
        )
    uneven, dim = lighting(gray)
    if uneven or dim:
        return flatten(image), PhotoReport(flattened=True)
    return image, PhotoReport()
