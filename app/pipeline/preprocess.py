"""Page preprocessing before OCR: orientation, deskew, resolution, cleaning.

Pure functions on Pillow images (numpy for the maths), no Django. Steps, in
order (:func:`preprocess`):

1. EXIF orientation (``ImageOps.exif_transpose``): the photo as a viewer
   shows it. Not counted in ``rotation``.
   Then, with ``photo=True``, photo preprocessing (:mod:`app.pipeline.photo`):
   a page photographed on a background is warped to a rectangle and its
   light flattened; a page under uneven or dim light is flattened. A scan is
   left as it is. A warped page's DPI is unknown from there on.
2. Scale decision: a known DPI below 200 is brought to ``target_dpi``; with
   no DPI, text whose lines are shorter than :data:`MIN_LINE_PX` pixels is
   enlarged toward :data:`TARGET_LINE_PX`. At most :data:`MAX_SCALE` times,
   ``max_pixels`` pixels and :data:`~app.pipeline.frames.MAX_SIDE` (32,767)
   pixels a side, the longest Tesseract reads. Images are never shrunk.
3. Orientation (``rotate="auto"``): the engine's ``detect_orientation``
   hook (:meth:`app.engines.base.OcrEngine.detect_orientation`, handed in as
   ``orientation``) is asked about a grey copy, upscaled like the page but to
   at most :data:`ORIENTATION_MAX_SIDE` pixels a side, and its clockwise turn
   is applied. No hook, or an answer of None (the engine cannot tell), skips
   this step. Tesseract's hook runs OSD in a ``tesseract`` subprocess
   (:func:`app.engines.tesseract.detect_orientation`).
4. Deskew (``deskew=True``): a projection-profile search on a binarised
   copy of at most :data:`ANALYSIS_MAX_SIDE` pixels (binarised after its
   light is flattened, :func:`_analysis_mask`), +-:data:`MAX_SKEW`
   degrees, 0.25 degree steps then 0.02 around the best; the image is rotated with white fill and
   ``expand=True`` (so it grows a little). Not when the grown canvas would
   have a side over ``MAX_SIDE`` pixels (:func:`_deskew_fits`): the page is
   then read unrotated, ``skew`` 0.
5. Upscaling by the factor chosen in step 2 (bicubic), lowered if need be so
   that no side of the (deskewed) image exceeds ``MAX_SIDE`` pixels.
6. ``clean=True``: 3x3 median denoise, then Otsu binarisation (``L`` image,
   0/255).

Word boxes that an engine returns refer to :attr:`Prepared.image`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from app.pipeline.frames import MAX_SIDE
from app.pipeline.photo import PhotoReport, flatten_array, prepare_photo, warp_page

log = logging.getLogger(__name__)

#: Longest side, in pixels, that upscaling gives the grey copy handed to orientation
#: detection (a larger page is handed over as it is; Tesseract's OSD shrinks it).
ORIENTATION_MAX_SIDE = 2000
#: Longest side, in pixels, of the copy used to measure skew and text size.
ANALYSIS_MAX_SIDE = 1600
#: Largest skew, in degrees, that deskew looks for.
MAX_SKEW = 15.0
#: Ink pixels sampled (evenly) for the skew search; each of its ~150 angle scores
#: costs time in proportion (measured: 0.20 s -> 0.06 s on a 2550x3300 page at 60k).
SKEW_MAX_POINTS = 60_000
#: Of these, the coarse 0.25 degree search scores every n-th, about this many.
SKEW_COARSE_POINTS = 15_000
#: Smallest skew, in degrees, worth a rotation (Tesseract copes below that; on
#: OCRmyPDF's typewriter.png (0.2) and 3small.pdf page 3 (0.24) rotating raised the
#: error rate: bench/accuracy.py).
MIN_SKEW = 0.3
#: With no DPI, text lines shorter than this (pixels, ink of a line from
#: ascender to descender, about 0.75 x the font size in pixels) are enlarged...
MIN_LINE_PX = 16
#: Column profile this many times as structured as the row profile: sideways text.
SIDEWAYS_RATIO = 1.3
#: A lone row run up to this tall (pixels) is one line of text, not a sideways page.
SINGLE_LINE_MAX_PX = 64
#: ...to about this line height (pixels): 12 pt text at about 250 DPI.
TARGET_LINE_PX = 32
#: Largest upscaling factor.
MAX_SCALE = 4.0
#: A known DPI below this is brought up to ``target_dpi``.
LOW_DPI = 200
DEFAULT_MAX_PIXELS = 40_000_000


@dataclass(frozen=True, slots=True)
class PreprocessOptions:
    """What :func:`preprocess` does.

    ``rotate``: ``"auto"`` (ask the engine's orientation detection for a turn of
    0/90/180/270 degrees; Tesseract: OSD) or ``"off"``.
    ``deskew``: straighten small angles (up to 15 degrees).
    ``clean``: denoise and binarise.
    ``dpi``: the source resolution in DPI, overriding the file's; None = the file's.
    ``target_dpi``: the resolution low-DPI images are enlarged toward.
    ``upscale``: enlarge low-resolution images at all.
    ``photo``: photo preprocessing (:func:`app.pipeline.photo.prepare_photo`):
    perspective correction and light flattening, only for a page it finds to
    be a photo.
    """

    rotate: str = "auto"
    deskew: bool = True
    clean: bool = False
    dpi: int | None = None
    target_dpi: int = 300
    upscale: bool = True
    photo: bool = True

    def __post_init__(self) -> None:
        if self.rotate not in ("auto", "off"):
            raise ValueError("rotate must be 'auto' or 'off'")
        if self.dpi is not None and self.dpi <= 0:
            raise ValueError("dpi must be positive")
        if self.target_dpi <= 0:
            raise ValueError("target_dpi must be positive")


@dataclass(frozen=True, slots=True)
class Prepared:
    """The page as the engine will see it.

    ``image``: ``RGB`` or ``L`` (``L`` when ``clean``).
    ``rotation``: clockwise degrees (0/90/180/270) applied by orientation detection.
    ``skew``: the tilt, in degrees counter-clockwise, found in the page and
    corrected (the image was rotated by ``-skew``); 0.0 if none.
    ``dpi``: the resolution ``image`` now has (None when unknown).
    ``scale``: the enlargement factor applied (1.0 = none).
    ``orientation``: the engine's answer to orientation detection (clockwise
    degrees), None when it was not asked or could not tell.
    ``sideways``: the text lines of the page as given look vertical
    (:func:`looks_sideways`); False when the page was not analysed (deskew off
    and a known DPI).
    ``photo``: what photo preprocessing did (None when ``photo`` was off).
    """

    image: Image.Image
    rotation: int = 0
    skew: float = 0.0
    dpi: int | None = None
    scale: float = 1.0
    orientation: int | None = None
    sideways: bool = False
    photo: PhotoReport | None = None


# -- helpers ------------------------------------------------------------------------


def otsu_threshold(gray: np.ndarray) -> int:
    """Otsu's threshold (0-255) of a uint8 grey array: pixels <= it are ink."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    if total == 0:
        return 127
    levels = np.arange(256, dtype=np.float64)
    weight0 = np.cumsum(hist)
    weight1 = total - weight0
    cum_mean = np.cumsum(hist * levels)
    mean_all = cum_mean[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_all * weight0 - total * cum_mean) ** 2 / (weight0 * weight1)
    between = np.nan_to_num(between, nan=0.0, posinf=0.0)
    return int(np.argmax(between))


def _ink_mask(gray: Image.Image) -> np.ndarray:
    """Boolean ink mask (dark on light) of a grey image, by Otsu."""
    arr = np.asarray(gray, dtype=np.uint8)
    if arr.size == 0 or int(arr.max()) - int(arr.min()) < 32:
        return np.zeros(arr.shape, dtype=bool)
    mask = arr <= otsu_threshold(arr)
    if mask.mean() > 0.5:  # light text on a dark background
        mask = ~mask
    return mask


def _rotate_clockwise(image: Image.Image, degrees: int) -> Image.Image:
    if degrees == 90:
        return image.transpose(Image.Transpose.ROTATE_270)
    if degrees == 180:
        return image.transpose(Image.Transpose.ROTATE_180)
    if degrees == 270:
        return image.transpose(Image.Transpose.ROTATE_90)
    return image


def _white(image: Image.Image) -> int | tuple[int, int, int]:
    return 255 if image.mode == "L" else (255, 255, 255)


def _analysis_mask(gray: Image.Image) -> tuple[np.ndarray, float]:
    """The ink mask of :func:`_analysis_copy` and its factor (one per page and rotation).

    The copy's light is flattened first (:func:`app.pipeline.photo.flatten_array`:
    divided by its dilated and blurred background), then Otsu's threshold splits
    ink from paper. Thresholding the raw grey page made a shadow gradient or a
    dark table around a photographed page count as ink, and the skew search
    locked onto its edge (a false 14 degrees on two photos: docs/photos-bench.md,
    cause 2). On a scan's white paper the division changes nothing that the
    threshold sees (the scan figures of bench/accuracy.py are unchanged).
    """
    small, factor = _analysis_copy(gray)
    arr = np.asarray(small, dtype=np.uint8)
    if arr.size and min(arr.shape) >= 8:
        small = Image.fromarray(flatten_array(arr), "L")
    return _ink_mask(small), factor


def _analysis_copy(gray: Image.Image) -> tuple[Image.Image, float]:
    """A grey copy with at most ANALYSIS_MAX_SIDE pixels a side, and its factor."""
    factor = min(1.0, ANALYSIS_MAX_SIDE / max(gray.size))
    if factor < 1.0:
        size = (max(1, round(gray.width * factor)), max(1, round(gray.height * factor)))
        gray = gray.resize(size, Image.Resampling.BOX)
    return gray, factor


def _profile_structure(mask: np.ndarray, axis: int) -> float:
    profile = mask.sum(axis=axis).astype(np.float64)
    return float(profile.std() / (profile.mean() + 1e-9))


def looks_sideways(mask: np.ndarray) -> bool:
    """True when the text lines of an ink mask run up and down (a page turned 90/270).

    Lines of text make the ink's row profile a comb of peaks and gaps; on a
    page turned a quarter the comb is in the column profile instead. Sideways
    when the columns' coefficient of variation is at least :data:`SIDEWAYS_RATIO`
    times the rows'. Measured on the 28 OCRmyPDF test pages of bench/accuracy.py's
    and bench/throughput.py's sets, columns / rows: upright 0.33-0.75 (1.13 on
    skew.pdf's skewed page, 1.23 on aspect.pdf's sparse one), the same pages
    turned 90 degrees 1.33-3.02 (aspect.pdf 0.81, the skewed ones 0.80-0.89).
    A hint only (:func:`app.pipeline.page.ocr_page` asks OSD before reading such a
    page): a wrong answer costs time, never text. Blank masks are never sideways.
    """
    if mask.sum() < 50:
        return False
    rows = _profile_structure(mask, 1)
    return _profile_structure(mask, 0) >= SIDEWAYS_RATIO * rows > 0


def line_height(mask: np.ndarray) -> float | None:
    """Median height, in pixels, of text lines in an ink mask (either orientation).

    Uses the projection (rows or columns) with the clearer line structure;
    None when there is too little ink to tell.
    """
    if mask.sum() < 50:
        return None
    best: tuple[float, float, int] | None = None
    # Rows (horizontal lines) first. On a single line of text the column profile
    # measures letter widths, not line height, so the columns (a sideways page)
    # are only looked at when the rows show one run taller than a text line.
    for axis in (1, 0):
        if axis == 0 and best is not None and (best[2] >= 2 or best[1] <= SINGLE_LINE_MAX_PX):
            break
        profile = mask.sum(axis=axis).astype(np.float64)
        if profile.max() <= 0:
            continue
        on = profile > 0.05 * profile.max()
        edges = np.diff(np.concatenate(([0], on.astype(np.int8), [0])))
        starts, ends = np.where(edges == 1)[0], np.where(edges == -1)[0]
        runs = ends - starts
        runs = runs[runs >= 2]
        # Descender-only slivers (p, g, y below a line) are not lines of their own.
        if len(runs):
            runs = runs[runs >= 0.4 * runs.max()]
        if len(runs) == 0:
            continue
        structure = float(profile.std() / (profile.mean() + 1e-9))
        if best is None or structure > best[0]:
            best = (structure, float(np.median(runs)), len(runs))
    return best[1] if best else None


def detect_skew(
    gray: Image.Image, max_angle: float = MAX_SKEW, *, mask: np.ndarray | None = None
) -> float:
    """The tilt of text lines in ``gray``, in degrees counter-clockwise (+-``max_angle``).

    Projection profile: for each candidate angle the ink pixels are sheared
    onto the y axis and the sum of squared row counts is scored (sharp text
    lines score high). Coarse 0.25 degree steps, then 0.02 around the best.
    Returns 0.0 when there is too little ink or no clear answer. ``mask``: the
    page's :func:`_analysis_mask`, when the caller has it already.
    """
    if mask is None:
        mask, _ = _analysis_mask(gray)
    ys, xs = np.nonzero(mask)
    if len(ys) < 200:
        return 0.0
    if len(ys) > SKEW_MAX_POINTS:
        step = len(ys) // SKEW_MAX_POINTS + 1
        ys, xs = ys[::step], xs[::step]
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64) - xs.mean()
    height = mask.shape[0]

    def score(angle: float, step: int = 1) -> float:
        # a line tilted counter-clockwise by `angle` has y = y0 - x tan(angle)
        proj = ys[::step] + xs[::step] * math.tan(math.radians(angle))
        idx = np.round(proj - proj.min()).astype(np.int64)
        counts = np.bincount(idx, minlength=height)
        return float(np.dot(counts, counts))

    # The coarse search only has to land within a step of the peak: a quarter
    # of the points will do (0.06 -> 0.03 s on a 2550x3300 page).
    sparse = max(1, len(ys) // SKEW_COARSE_POINTS)
    coarse = np.arange(-max_angle, max_angle + 1e-9, 0.25)
    scores = np.array([score(a, sparse) for a in coarse])
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - 0.25, best + 0.25 + 1e-9, 0.02)
    fine_scores = np.array([score(a) for a in fine])
    angle = float(fine[int(np.argmax(fine_scores))])
    if fine_scores.max() <= score(0.0) * 1.01:  # no real improvement over flat
        return 0.0
    return round(angle, 2)


# -- main ------------------------------------------------------------------------------


def _choose_scale(
    gray: Image.Image,
    dpi: int | None,
    options: PreprocessOptions,
    max_pixels: int | None,
    analysis: tuple[np.ndarray, float] | None = None,
) -> float:
    if not options.upscale:
        return 1.0
    if dpi:
        scale = options.target_dpi / dpi if dpi < LOW_DPI else 1.0
    else:
        mask, factor = analysis or _analysis_mask(gray)
        lh = line_height(mask)
        scale = 1.0
        if lh is not None and lh / factor < MIN_LINE_PX:
            scale = TARGET_LINE_PX / max(lh / factor, 1.0)
    scale = min(max(scale, 1.0), MAX_SCALE)
    if max_pixels:
        area = gray.width * gray.height * 1.1  # deskew's expand adds a little
        scale = min(scale, math.sqrt(max_pixels / max(area, 1.0)))
    return max(1.0, _fit_side(scale, gray.size))


def _fit_side(scale: float, size: tuple[int, int]) -> float:
    """``scale`` rounded to 3 decimals, lowered (to the largest such value that
    fits) when a side of an image of ``size`` (width, height in pixels) scaled
    by it and rounded would exceed :data:`MAX_SIDE` pixels; at least 1.0
    (never a shrink)."""
    longest = max(size)
    scale = round(scale, 3)
    if round(longest * scale) > MAX_SIDE:
        scale = math.floor(MAX_SIDE / max(longest, 1) * 1000) / 1000
        while scale > 1.0 and round(longest * scale) > MAX_SIDE:
            scale = round(scale - 0.001, 3)
    return max(1.0, scale)


def _expanded_size(size: tuple[int, int], skew: float) -> tuple[int, int]:
    """The canvas (width, height in pixels) Pillow's ``rotate(-skew, expand=True)``
    gives an image of ``size``: the bounding box of the turned corners."""
    width, height = size
    rad = math.radians(skew)
    cos, sin = abs(math.cos(rad)), abs(math.sin(rad))
    # Pillow rounds the turned corners' extent up (Image.rotate, expand): allow 1 px.
    return math.ceil(width * cos + height * sin) + 1, math.ceil(width * sin + height * cos) + 1


def _deskew_fits(size: tuple[int, int], skew: float) -> bool:
    """True when rotating an image of ``size`` (pixels) by ``skew`` degrees with an
    expanded canvas keeps both sides within :data:`MAX_SIDE` pixels.

    The expanded canvas is ``w cos a + h sin a`` wide: at most about
    ``h * h / (2 w)`` pixels wider than ``w`` (at ``tan a = h / w``), so ~51 px
    for a 32767 x 1831 px page (60 MP, the default ``OCR_MAX_PIXELS``) at 3.2
    degrees. When it would not fit, :func:`preprocess` skips the rotation
    rather than shrink the page to fit (which would lower its resolution, its
    ``dpi`` with it, against the rule that pages are never shrunk) or crop
    its corners (which loses ink): the page is read as given, and ``skew``
    says 0 because it was not turned. Only a page whose long side is already
    within a few dozen pixels of the limit is affected, and Tesseract copes
    with small tilts on its own (tests/pipeline/test_preprocess.py: it
    suffers from about 6 degrees).
    """
    return max(_expanded_size(size, skew)) <= MAX_SIDE


def _deskew(image: Image.Image, skew: float) -> Image.Image:
    """Rotate by ``-skew`` degrees (counter-clockwise positive), white fill, canvas expanded."""
    return image.rotate(
        -skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=_white(image)
    )


def apply_geometry(
    image: Image.Image,
    *,
    rotation: int,
    skew: float,
    size: tuple[int, int] | None = None,
    corners: list[list[int]] | None = None,
) -> Image.Image:
    """Reproduce the geometry :func:`preprocess` applied to a page image.

    EXIF transpose, then the perspective warp of a photographed page (``corners``:
    the page result's ``photo["corners"]``, 4 ``[x, y]`` pixels; None = none),
    then ``rotation`` (clockwise degrees, 0/90/180/270), then
    the deskew by ``skew`` degrees, then a resize to ``size`` (width, height in
    pixels: the prepared image's size, so upscaling is reproduced exactly).
    Word boxes of the OCR result refer to the image this returns; it is how
    the result page and the searchable PDF show the page as OCRed. (The light
    flattening of a photo is not reproduced: the page keeps its own colours.)
    """
    image = ImageOps.exif_transpose(image) or image
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    if corners:
        image = warp_page(image, corners)
    if rotation:
        image = _rotate_clockwise(image, rotation)
    if skew:
        image = _deskew(image, skew)
    if size and image.size != tuple(size):
        image = image.resize(tuple(size), Image.Resampling.BICUBIC)
    return image


def preprocess(
    image: Image.Image,
    *,
    source_dpi: int | None,
    options: PreprocessOptions | None = None,
    orientation: Callable[..., int | None] | None = None,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> Prepared:
    """Prepare one page image for OCR (see the module docstring for the steps).

    ``source_dpi``: the file's resolution in DPI (None if unknown), overridden
    by ``options.dpi``. ``orientation``: the engine's orientation detection,
    called as ``orientation(grey_image, dpi=dpi)`` and returning the clockwise
    turn in degrees or None (:meth:`app.engines.base.OcrEngine.detect_orientation`;
    None skips orientation). ``max_pixels``: the prepared image's pixel
    budget (upscaling stops there). Neither upscaling nor deskew makes a side
    exceed :data:`MAX_SIDE` pixels (an image given with a longer side keeps
    it: the engine refuses it). Never raises for image content; returns a
    :class:`Prepared`.
    """
    options = options or PreprocessOptions()
    image = ImageOps.exif_transpose(image) or image
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    dpi = options.dpi or (int(round(source_dpi)) if source_dpi and source_dpi > 1 else None)
    report = None
    if options.photo:
        image, report = prepare_photo(image)
        if report.perspective and not options.dpi:
            dpi = None  # the page's own resolution is not the frame's
    gray = image if image.mode == "L" else image.convert("L")
    analysis = _analysis_mask(gray) if options.deskew or (options.upscale and not dpi) else None
    sideways = analysis is not None and looks_sideways(analysis[0])
    scale = _choose_scale(gray, dpi, options, max_pixels, analysis)

    rotation, found = 0, None
    if options.rotate == "auto" and orientation is not None:
        osd_gray = gray
        if scale > 1.0:
            factor = min(scale, ORIENTATION_MAX_SIDE / max(gray.size))
            if factor > 1.0:
                osd_gray = gray.resize(
                    (round(gray.width * factor), round(gray.height * factor)),
                    Image.Resampling.BICUBIC,
                )
        osd_dpi = round(dpi * osd_gray.width / gray.width) if dpi else None
        found = orientation(osd_gray, dpi=osd_dpi)
        if found is not None and found % 360 in (90, 180, 270):
            rotation = found % 360
            image = _rotate_clockwise(image, rotation)
            gray = _rotate_clockwise(gray, rotation)
            analysis = None

    skew = 0.0
    if options.deskew:
        angle = round(detect_skew(gray, mask=analysis[0] if analysis else None), 2)
        if abs(angle) >= MIN_SKEW and _deskew_fits(image.size, angle):
            skew = angle
            image = _deskew(image, angle)

    scale = _fit_side(scale, image.size)  # deskew's expanded canvas is a little larger
    if scale > 1.0:
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.BICUBIC)

    if options.clean:
        grey = image.convert("L").filter(ImageFilter.MedianFilter(3))
        arr = np.asarray(grey)
        image = Image.fromarray(np.where(arr <= otsu_threshold(arr), 0, 255).astype(np.uint8))

    out_dpi = round(dpi * scale) if dpi else None
    if out_dpi:
        image.info["dpi"] = (out_dpi, out_dpi)
    return Prepared(
        image=image,
        rotation=rotation,
        skew=round(skew, 2),
        dpi=out_dpi,
        scale=scale,
        orientation=found,
        sideways=sideways,
        photo=report,
    )
