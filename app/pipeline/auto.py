"""``engine=auto`` on one page: Tesseract first, PP-OCR when the page calls for it.

Pure (no ORM, no settings): the members come from the
:class:`~app.engines.auto.AutoEngine` handed in, everything else as arguments.

The policy (:func:`ocr_page_auto`), calibrated on ``bench/accuracy.py``'s scan set
(14 files, 17 pages read) and photo set (15 camera simulations), 2026-11-30
(docs/engines-auto.md has the figures):

1. Read the page with the primary (Tesseract, with its preprocessing and
   orientation policy: :func:`app.pipeline.page.ocr_page`). On scans it is as
   good as or better than PP-OCR in characters and much better in reading
   order (PP-OCR: CER 0.39 on two-column ``linn.png`` against 0.01), and 3-5x
   faster.
2. Ask the secondary (PP-OCR) only when the page gives a reason
   (:func:`second_opinion`):

   * the photo preprocessing found a photo: a page on a background or uneven /
     dim light (the page result's ``photo`` report, :mod:`app.pipeline.photo`);
   * the image says a camera took it (EXIF ``Make``/``Model``,
     :func:`app.pipeline.inputs.camera_made`): a phone photo of a page lying flat
     in even light passes the photo step's tests, yet is a photo (the real-photo
     set's cookbook pages and German spread);
   * the page is a strip at least :data:`STRIP_ASPECT` times as tall as it is wide:
     a till receipt (no paper page is that narrow: A4 1.41, legal 1.65), where
     PP-OCR reads the small, widely spaced print better (the Walgreens receipt of
     the real-photo set, cropped, no EXIF: CER 0.056 against Tesseract's 0.172);
   * Tesseract's reading looks wrong (:func:`app.pipeline.page.looks_wrong`:
     fewer than 3 words, or a low mean confidence with few confidently read words).

   Tesseract's own mean confidence does not tell a photo it half read: before the
   photo preprocessing, on ``tale-perspective`` it read 88 of ~530 words (CER 0.83)
   at a mean confidence of 91, higher than on most scans (88-96); the photo report
   catches such pages. A further trigger, paper that is not white (median paper
   brightness under 245, as a camera records paper and a scanner does not), was
   measured and dropped: on the photo set it changed no choice (the 5 photos only
   it flagged kept Tesseract's reading), on the scans it ran PP-OCR on a yellowed
   book page (``c03-29.pdf``) for nothing.
3. With both readings, keep PP-OCR's only when it has at least
   :data:`KEEP_SECOND_RATIO` times as many confidently read words
   (:func:`confident_words`) as Tesseract's; else Tesseract's. Calibrated on the
   16 pages where both engines ran (photo set and real-photo set, with the
   reading order of rows and the gutter repair in place): PP-OCR read better
   (by CER) at ratios 1.08-5.9 (``c03-29-shaded`` 1.08, ``tale-curved`` 1.11,
   the Walgreens receipt 1.26, ...), Tesseract as well or better at 0.67-1.00
   (``linn-dim-bleed`` 0.99, the cookbook pages 0.71 and 0.84, ...).

The page result names the engine that read it (``PageResult.engine``).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from PIL import Image

from app.engines.auto import AutoEngine, member_options
from app.engines.base import EngineOptions
from app.pipeline.inputs import camera_made
from app.pipeline.page import CONFIDENT_WORD, PageSettings, looks_wrong, ocr_page
from app.pipeline.schema import PageResult

if TYPE_CHECKING:
    from app.engines.base import OcrEngine

log = logging.getLogger(__name__)

#: Keep the secondary's reading when it has at least this many times the
#: confidently read words of the primary's (calibration: module docstring).
KEEP_SECOND_RATIO = 1.05
#: A page at least this many times as tall as it is wide is a till receipt's strip.
STRIP_ASPECT = 2.5


def confident_words(page: PageResult) -> int:
    """Words read with confidence >= ``CONFIDENT_WORD`` (85, 0-100) that have 3+
    letters or digits.

    :func:`app.pipeline.page.looks_wrong`'s test with digits counted as letters: a
    count of real words read, comparable between engines whose confidences both run
    0-100. Digits count because a receipt's or a form's prices and numbers are what
    its reader wants (a receipt photo whose prices Tesseract half read, "4." for
    "4.20", kept Tesseract's reading when only letters counted: tests/web/test_browser.py).
    """
    return sum(
        1
        for w in page.words()
        if w.confidence is not None
        and w.confidence >= CONFIDENT_WORD
        and sum(c.isalnum() for c in w.text) >= 3
    )


def second_opinion(first: PageResult, image: Image.Image | None = None) -> str | None:
    """Why the secondary should read the page too, or None (see the module docstring).

    ``first``: the primary's reading (with its ``photo`` report and the size of the
    image it read, pixels); ``image``: the page as it came in (its EXIF).
    Returns ``"photo"``, ``"camera"``, ``"receipt"`` or ``"weak"``.
    """
    report = first.photo or {}
    if report.get("page_detected") or report.get("flattened") or report.get("perspective"):
        return "photo"
    if image is not None and camera_made(image):
        return "camera"
    if first.width and first.height >= STRIP_ASPECT * first.width:
        return "receipt"
    if looks_wrong(first):
        return "weak"
    return None


def keep_second(first: PageResult, second: PageResult) -> bool:
    """Whether the secondary's reading is the better: :data:`KEEP_SECOND_RATIO` times
    the primary's confidently read words (at least 1) or more."""
    return confident_words(second) >= KEEP_SECOND_RATIO * max(confident_words(first), 1)


def _read(
    engine: OcrEngine,
    image: Image.Image,
    *,
    number: int,
    dpi: int | None,
    options: EngineOptions,
    settings: PageSettings,
) -> PageResult:
    page = ocr_page(
        engine,
        image,
        number=number,
        dpi=dpi,
        options=member_options(engine, options),
        settings=settings,
    )
    page.engine = engine.name
    return page


def ocr_page_auto(
    engine: AutoEngine,
    image: Image.Image,
    *,
    number: int,
    dpi: int | None,
    options: EngineOptions,
    settings: PageSettings,
) -> PageResult:
    """Read one page with the engine that suits it (module docstring); the result's
    ``engine`` names it. Arguments as :func:`app.pipeline.page.ocr_page`.

    Raises ``OcrError`` from the primary. An error of the secondary (any
    exception: it is a second opinion) is logged and the primary's reading kept.
    """
    primary = engine.primary()
    first = _read(primary, image, number=number, dpi=dpi, options=options, settings=settings)
    secondary = engine.secondary(options)
    if secondary is None:
        return first
    reason = second_opinion(first, image)
    if reason is None:
        return first
    # languages=auto was settled by the primary's reading (app.pipeline.langdetect): the
    # second opinion reads once, and reports what the first detected.
    plain = replace(settings, detect_languages=False)
    try:
        second = _read(secondary, image, number=number, dpi=dpi, options=options, settings=plain)
        second.detected_languages = first.detected_languages
        second.script = first.script
    except Exception:
        log.warning("auto: %s failed on page %s, %s kept", secondary.name, number, primary.name)
        log.debug("auto: the error", exc_info=True)
        return first
    chosen = second if keep_second(first, second) else first
    log.info(
        "auto: page %s (%s): %s %d confident words, %s %d: %s",
        number,
        reason,
        primary.name,
        confident_words(first),
        secondary.name,
        confident_words(second),
        chosen.engine,
    )
    return chosen
