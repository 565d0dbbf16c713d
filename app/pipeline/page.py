"""OCR of one page: preprocessing, the engine, and the automatic orientation policy.

Used by the document pipeline (``app.pipeline.document``), so jobs and
``manage.py ocr`` give the
same result. Pure: no ORM, no settings (everything arrives as arguments).

Orientation policy (``rotate=auto``), for an engine that detects orientation
(its ``detect_orientation`` hook, :class:`app.engines.base.OcrEngine`; an
engine without one reads the page as it is, ``rotation`` 0). Tesseract's
OSD costs about 0.3-1 s per
page through the CLI (a separate process, see ``app.engines.tesseract``), so
it only runs when the first, upright reading
looks wrong: fewer than :data:`OSD_MIN_WORDS` words, or a mean word confidence
under :data:`OSD_CONFIDENCE_TRIGGER` with fewer than :data:`UPRIGHT_MIN_SHARE` of
the words read confidently (see :func:`looks_wrong`). When OSD then finds a
rotation, the page is read again rotated, and the better of the two readings
is kept.

A page whose text lines run up and down (``Prepared.sideways``, from the ink
profiles preprocessing measures anyway) asks OSD first: when OSD turns it by
90 or 270 degrees and that reading looks right, the upright reading, which
would be of a sideways page, is never made (one reading instead of two); when
it looks wrong, the upright one is made too and the better kept. Otherwise the
policy above runs, reusing that OSD answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PIL import Image

from app.engines.auto import AutoEngine
from app.engines.base import EngineOptions, OcrEngine
from app.pipeline.preprocess import PreprocessOptions, preprocess
from app.pipeline.schema import PageResult

#: Below this mean word confidence (0-100) an upright reading triggers OSD.
OSD_CONFIDENCE_TRIGGER = 70.0
#: Fewer words than this also trigger OSD (a sideways page reads as noise).
OSD_MIN_WORDS = 3
#: A word is read confidently at this confidence (0-100) with 3 letters or more.
CONFIDENT_WORD = 85.0
#: A low-confidence reading is still taken as upright when at least this share
#: of its words is read confidently (a map, a form: real words among noise).
UPRIGHT_MIN_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class PageSettings:
    """How to prepare pages: ``preprocess`` options and the pixel budget (pixels)."""

    prep: PreprocessOptions = PreprocessOptions()
    max_pixels: int | None = 60_000_000
    #: ``languages=auto``: detect each page's language and re-read it with that pack
    #: (:func:`app.pipeline.langdetect.read_page`; docs/languages-auto.md).
    detect_languages: bool = False


def _score(page: PageResult) -> float:
    words = page.words()
    if not words:
        return 0.0
    conf = page.confidence if page.confidence is not None else 50.0
    return conf * min(len(words), 200)


def looks_wrong(page: PageResult) -> bool:
    """True when an upright reading of ``page`` may be of a turned page (OSD should run).

    Measured on the OCRmyPDF test pages (bench/throughput.py's set) read
    upright and turned 90/180 degrees: upright, 29-81 % of the words have
    confidence >= :data:`CONFIDENT_WORD` and 3+ letters, even on maps and
    forms whose mean confidence is 43-66; turned pages that Tesseract cannot
    read show 0-7 % (20 % once, on a 5-word page). So a mean confidence under
    :data:`OSD_CONFIDENCE_TRIGGER` alone no longer costs an OSD run (0.3-0.8 s
    each) when enough words are confidently real.
    """
    words = page.words()
    if len(words) < OSD_MIN_WORDS or page.confidence is None:
        return True
    if page.confidence >= OSD_CONFIDENCE_TRIGGER:
        return False
    confident = sum(
        1
        for w in words
        if w.confidence is not None
        and w.confidence >= CONFIDENT_WORD
        and sum(c.isalpha() for c in w.text) >= 3
    )
    return confident < UPRIGHT_MIN_SHARE * len(words)


def _read(
    engine: OcrEngine, image: Image.Image, number: int, options: EngineOptions, prepared
) -> PageResult:
    page = engine.recognize_page(
        prepared.image, page_number=number, options=replace(options, dpi=prepared.dpi)
    )
    page.number = number
    # An engine may turn the page itself (MRZ reads an upside-down passport at
    # 180): its boxes are then in the turned image, so the turn is recorded on
    # top of ours. Its own deskew is local to its reading (boxes are mapped back).
    turned = (page.rotation or 0) % 360
    page.rotation = (prepared.rotation + turned) % 360
    page.skew = prepared.skew
    page.dpi = prepared.dpi
    if prepared.photo is not None:
        page.photo = prepared.photo.to_dict()
    width, height = prepared.image.size
    page.width, page.height = (height, width) if turned in (90, 270) else (width, height)
    return page


def ocr_page(
    engine: OcrEngine,
    image: Image.Image,
    *,
    number: int,
    dpi: int | None,
    options: EngineOptions,
    settings: PageSettings,
) -> PageResult:
    """OCR one page image (``dpi`` its resolution if known) and return the schema's PageResult.

    Engines that declare ``preprocess = True`` (Tesseract) get the prepared
    image (orientation through their ``detect_orientation`` hook, deskew,
    upscaling, optional clean, photo preprocessing); the others (cloud providers,
    MRZ) do their own and get the EXIF-transposed image as is, except that an
    engine declaring ``photo_preprocess = True`` (a local engine that reads
    photos better once they are flattened and squared, PP-OCR) gets photo
    preprocessing (:mod:`app.pipeline.photo`) alone.
    ``rotation``, ``skew``, ``dpi``, ``width`` and ``height`` of the returned
    page describe the image the engine saw. Raises ``OcrError``.
    ``engine=auto`` (:class:`~app.engines.auto.AutoEngine`) reads the page with the
    engine that suits it (:func:`app.pipeline.auto.ocr_page_auto`).
    """
    if isinstance(engine, AutoEngine):  # first: languages=auto applies to its Tesseract reading
        from app.pipeline.auto import ocr_page_auto

        return ocr_page_auto(
            engine, image, number=number, dpi=dpi, options=options, settings=settings
        )
    if settings.detect_languages:
        from app.pipeline.langdetect import read_page

        return read_page(
            ocr_page, engine, image, number=number, dpi=dpi, options=options, settings=settings
        )
    if not engine.preprocess:
        prepared = preprocess(
            image,
            source_dpi=dpi,
            options=PreprocessOptions(
                rotate="off",
                deskew=False,
                clean=False,
                dpi=settings.prep.dpi,
                upscale=False,
                photo=settings.prep.photo and engine.photo_preprocess,
            ),
            max_pixels=settings.max_pixels,
        )
        return _read(engine, image, number, options, prepared)

    # An engine keeping the base class's detect_orientation cannot tell: no second pass.
    detects = type(engine).detect_orientation is not OcrEngine.detect_orientation
    auto = settings.prep.rotate == "auto" and detects
    first = preprocess(
        image,
        source_dpi=dpi,
        options=replace(settings.prep, rotate="off"),
        max_pixels=settings.max_pixels,
    )

    def oriented():
        return preprocess(
            image,
            source_dpi=dpi,
            options=settings.prep,
            orientation=engine.detect_orientation,
            max_pixels=settings.max_pixels,
        )

    second = None
    if auto and first.sideways:
        # Text lines run up and down: ask OSD first and skip the upright reading,
        # which would be of a sideways page, when OSD turns it a quarter.
        second = oriented()
        if second.rotation in (90, 270):
            rotated = _read(engine, image, number, options, second)
            if not looks_wrong(rotated):
                return rotated
            page = _read(engine, image, number, options, first)
            return rotated if _score(rotated) >= _score(page) else page
    page = _read(engine, image, number, options, first)
    if not auto or not looks_wrong(page):
        return page
    second = second or oriented()
    if second.rotation == 0:
        return page
    rotated = _read(engine, image, number, options, second)
    return rotated if _score(rotated) >= _score(page) else page
