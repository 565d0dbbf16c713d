"""``languages=auto``: find a page's language from a first reading, and re-read it with that pack.

Pure (no ORM, no settings): the page is read through a callable, the installed
packs and the script detector arrive as arguments (docs/languages-auto.md).

Per page (:func:`read_auto`):

1. The page is read with :data:`FIRST_READING` (``eng``: Tesseract's best
   trained Latin model; it reads German, French, Dutch ... with their accents
   lost, e.g. ``Briicke`` for ``Brücke``, ``StraBe`` for ``Straße``).
2. Its text goes to the language identifier **py3langid** 0.4.0 (langid.py's
   naive Bayes over byte n-grams, Lui & Baldwin, "langid.py: An Off-the-shelf
   Language Identification Tool", ACL 2012; the model ships inside the wheel,
   4.5 MB), restricted to the languages of :data:`TESSERACT_CODES`. Under
   1 ms a call on a page's text; the model is loaded once per process (about
   2 s, +68 MB RSS; measured 2026-11-30, busy 2-core machine), on the first
   ``languages=auto`` page.
3. A confident guess (probability >= :data:`CONFIDENT`, on at least
   :data:`MIN_LETTERS` letters) names the page's language. When it is a
   language already read with (English), the first reading is kept: **one
   reading**. Otherwise, when its Tesseract pack is installed, the page is
   read again with it, and the new reading is kept when the identifier agrees
   on it; when the pack is missing, the first reading is kept and the page
   reports the language all the same.
4. No confident guess, or a reading whose mean confidence is under
   :data:`WEAK_CONFIDENCE` (a page of another script read with ``eng`` is
   noise): the page's script is asked (Tesseract OSD, ``Script:``, through
   the engine's ``detect_script`` hook). A non-Latin script whose pack
   (:data:`SCRIPT_PACKS`) is installed gives one more reading with it, kept
   when it scores better (mean confidence x words).

At most :data:`MAX_READINGS` readings a page. The kept page reports
``languages`` (what it was read with), ``detected_languages`` (what it is in)
and ``script`` (when OSD was asked) (docs/result-schema.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import Any

from app.pipeline.schema import PageResult

log = logging.getLogger(__name__)

#: The value of ``languages`` that asks for detection (alone: not mixed with codes).
AUTO = "auto"
#: What a ``languages=auto`` page is read with first.
FIRST_READING: tuple[str, ...] = ("eng",)
#: Smallest probability (0-1, py3langid ``norm_probs``) taken as the page's language.
#: Calibrated 2026-11-30 on 378 Tesseract ``eng`` readings of rendered en/de/fr/nl/es/it/pt
#: text, clean and degraded (pages, lines, 5- and 3-word fragments): every wrong guess was
#: at most 0.651 (3-word fragments), every whole page at least 0.929.
CONFIDENT = 0.70
#: Fewer letters than this in the first reading: too little text to tell a language.
MIN_LETTERS = 30
#: A first reading with a mean word confidence (0-100) under this asks OSD for the script.
WEAK_CONFIDENCE = 60.0
#: Smallest OSD ``Script confidence`` acted upon (Tesseract prints it; 0 = a guess).
MIN_SCRIPT_CONFIDENCE = 1.0
#: Readings of one page at most (first, script pack, language pack).
MAX_READINGS = 3

#: ISO 639-1 (py3langid's labels) -> Tesseract pack (tessdata file name), for the
#: languages both know. Names: tesseract-ocr/tessdoc "Data-Files-in-different-versions"
#: (the ``LangCode`` column), the Debian packages ``tesseract-ocr-<code>``.
TESSERACT_CODES: dict[str, str] = {
    "af": "afr", "am": "amh", "ar": "ara", "as": "asm", "az": "aze", "be": "bel",
    "bg": "bul", "bn": "ben", "br": "bre", "bs": "bos", "ca": "cat", "cs": "ces",
    "cy": "cym", "da": "dan", "de": "deu", "dz": "dzo", "el": "ell", "en": "eng",
    "eo": "epo", "es": "spa", "et": "est", "eu": "eus", "fa": "fas", "fi": "fin",
    "fo": "fao", "fr": "fra", "fy": "fry", "ga": "gle", "gd": "gla", "gl": "glg",
    "gu": "guj", "he": "heb", "hi": "hin", "hr": "hrv", "ht": "hat", "hu": "hun",
    "hy": "hye", "id": "ind", "is": "isl", "it": "ita", "ja": "jpn", "jv": "jav",
    "ka": "kat", "kk": "kaz", "km": "khm", "kn": "kan", "ko": "kor", "ku": "kmr",
    "ky": "kir", "la": "lat", "lb": "ltz", "lo": "lao", "lt": "lit", "lv": "lav",
    "mk": "mkd", "ml": "mal", "mn": "mon", "mr": "mar", "ms": "msa", "mt": "mlt",
    "my": "mya", "ne": "nep", "nl": "nld", "no": "nor", "oc": "oci", "or": "ori",
    "pa": "pan", "pl": "pol", "ps": "pus", "pt": "por", "qu": "que", "ro": "ron",
    "ru": "rus", "sa": "san", "si": "sin", "sk": "slk", "sl": "slv", "sq": "sqi",
    "sr": "srp", "sv": "swe", "sw": "swa", "ta": "tam", "te": "tel", "tg": "tgk",
    "th": "tha", "tl": "tgl", "tr": "tur", "tt": "tat", "ug": "uig", "uk": "ukr",
    "ur": "urd", "uz": "uzb", "vi": "vie", "yo": "yor", "zh": "chi_sim",
}  # fmt: skip

#: OSD script (tesseract src/ccmain/osdetect.cpp: the unicharset's script names and
#: the pseudo-scripts ``Japanese``, ``Korean``, ``Fraktur``) -> Tesseract packs that
#: write it, the one read with first. Latin is left out: it is what ``eng`` reads.
SCRIPT_PACKS: dict[str, tuple[str, ...]] = {
    "Arabic": ("ara", "fas", "urd", "pus", "uig"),
    "Armenian": ("hye",),
    "Bengali": ("ben", "asm"),
    "Cyrillic": ("rus", "ukr", "bul", "srp", "mkd", "bel", "kaz", "kir", "mon", "tgk", "tat"),
    "Devanagari": ("hin", "mar", "nep", "san"),
    "Ethiopic": ("amh",),
    "Fraktur": ("deu_latf", "frk"),
    "Georgian": ("kat",),
    "Greek": ("ell",),
    "Gujarati": ("guj",),
    "Gurmukhi": ("pan",),
    "Han": ("chi_sim", "chi_tra"),
    "Hangul": ("kor",),
    "Hebrew": ("heb",),
    "Japanese": ("jpn",),
    "Kannada": ("kan",),
    "Khmer": ("khm",),
    "Korean": ("kor",),
    "Lao": ("lao",),
    "Malayalam": ("mal",),
    "Myanmar": ("mya",),
    "Oriya": ("ori",),
    "Sinhala": ("sin",),
    "Tamil": ("tam",),
    "Telugu": ("tel",),
    "Thai": ("tha",),
    "Tibetan": ("bod", "dzo"),
}


#: ``(script, confidence)`` of a page, or None when OSD cannot tell.
ScriptDetector = Callable[[], tuple[str, float] | None]


@dataclass(frozen=True, slots=True)
class Guess:
    """The identifier's answer: ``iso`` (ISO 639-1), ``language`` (Tesseract pack name),
    ``probability`` (0-1) and ``letters`` (letters in the text it was given)."""

    iso: str
    language: str
    probability: float
    letters: int

    @property
    def confident(self) -> bool:
        return self.probability >= CONFIDENT and self.letters >= MIN_LETTERS


_identifier: Any = None
_identifier_lock = threading.Lock()


def _get_identifier() -> Any:
    """py3langid's identifier restricted to :data:`TESSERACT_CODES`, loaded once per process.

    Raises ``ImportError`` when py3langid is not installed.
    """
    global _identifier
    with _identifier_lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            ident.set_languages(sorted(set(TESSERACT_CODES) & set(ident.labels)))
            # set_languages keeps the full 142-language matrix to reset to (py3langid 0.4.0
            # ``_full_model``, 27 MB float16): never reset here, so it is let go
            # (measured: +95 MB RSS with it, +68 MB without).
            if hasattr(ident, "_full_model"):
                ident._full_model = (ident.nb_ptc, ident.nb_pc, ident.nb_classes)
            _identifier = ident
        return _identifier


def available() -> bool:
    """Whether the language identifier (py3langid) can be loaded."""
    try:
        _get_identifier()
    except ImportError:
        return False
    return True


def identify(text: str) -> Guess | None:
    """The language of ``text`` (OCR output), or None when there are no letters or no
    identifier (py3langid missing: logged once per call site as a warning)."""
    letters = sum(c.isalpha() for c in text)
    if not letters:
        return None
    try:
        ident = _get_identifier()
    except ImportError:
        log.warning("languages=auto: py3langid is not installed; no language detection")
        return None
    iso, probability = ident.classify(text)
    language = TESSERACT_CODES.get(iso)
    if language is None:
        return None
    return Guess(iso=iso, language=language, probability=float(probability), letters=letters)


def _score(page: PageResult) -> float:
    """Mean word confidence x words (at most 200): which of two readings to keep."""
    words = page.words()
    conf = page.confidence if page.confidence is not None else 0.0
    return conf * min(len(words), 200)


def _report(
    page: PageResult,
    read_with: tuple[str, ...],
    detected: list[str],
    script: str | None,
) -> PageResult:
    page.languages = list(read_with)
    page.detected_languages = detected
    page.script = script
    return page


def read_auto(
    read: Callable[[tuple[str, ...]], PageResult],
    *,
    installed: Collection[str],
    script_of: ScriptDetector | None = None,
    reread: bool = True,
    first: tuple[str, ...] = FIRST_READING,
) -> PageResult:
    """Read a page with ``languages=auto`` (module docstring) and return the kept reading.

    ``read(languages)``: the page read with those Tesseract codes (raises
    ``OcrError``); ``installed``: the engine's languages (``info().languages``),
    the only packs read with; ``script_of()``: the page's OSD script and its
    confidence, or None (no detector: no script step); ``reread``: False for an
    engine whose reading does not depend on the language (PP-OCR: one model for
    all), which then only reports. The page's ``languages``, ``detected_languages``
    and ``script`` are set.
    """
    page = read(first)
    readings = 1
    read_with = first
    guess = identify(page.text)
    script: str | None = None
    weak = page.confidence is None or page.confidence < WEAK_CONFIDENCE
    if (guess is None or not guess.confident or weak) and script_of is not None:
        found = script_of()
        if found is not None and found[1] >= MIN_SCRIPT_CONFIDENCE:
            script = found[0]
        packs = [p for p in SCRIPT_PACKS.get(script or "", ()) if p in installed]
        if packs and reread and packs[0] not in read_with:
            other = read((packs[0],))
            readings += 1
            if _score(other) > _score(page):
                page, read_with = other, (packs[0],)
                guess = identify(page.text)
    if guess is None or not guess.confident:
        return _report(page, read_with, [], script)
    detected = [guess.language]
    if guess.language in read_with or not reread or readings >= MAX_READINGS:
        return _report(page, read_with, detected, script)
    if guess.language not in installed:
        log.info("languages=auto: page in %s, whose pack is not installed", guess.language)
        return _report(page, read_with, detected, script)
    again = read((guess.language,))
    check = identify(again.text)
    if check is not None and check.language == guess.language:
        return _report(again, (guess.language,), detected, script)
    return _report(page, read_with, detected, script)


def read_page(
    ocr_page: Callable[..., PageResult],
    engine: Any,
    image: Any,
    *,
    number: int,
    dpi: int | None,
    options: Any,
    settings: Any,
) -> PageResult:
    """One ``languages=auto`` page through ``ocr_page`` (:func:`app.pipeline.page.ocr_page`,
    passed in: this module does not import it) and :func:`read_auto`.

    ``engine``: an :class:`~app.engines.base.OcrEngine`; ``image``: the page (Pillow);
    ``dpi``: its resolution if known; ``options``: the ``EngineOptions`` whose
    ``languages`` are the first reading's; ``settings``: the ``PageSettings``
    (``detect_languages`` set). Each reading is a whole ``ocr_page`` (preprocessing,
    orientation policy) with other languages. Installed packs: ``engine.info().languages``.
    The script comes from the engine's ``detect_script(image, dpi=...)`` hook when it
    has one (Tesseract OSD's ``Script:``; none: no script step). An engine declaring
    ``languages_select_model = False`` (one model reads every language, PP-OCR), or a
    cloud engine (each reading is a paid call), is read once: the languages are only
    reported.
    """
    plain = replace(settings, detect_languages=False)

    def read(languages: tuple[str, ...]) -> PageResult:
        return ocr_page(
            engine,
            image,
            number=number,
            dpi=dpi,
            options=replace(options, languages=languages),
            settings=plain,
        )

    detect_script = getattr(engine, "detect_script", None)
    script_of: ScriptDetector | None = None
    if detect_script is not None:

        def script_of() -> tuple[str, float] | None:
            return detect_script(image.convert("L"), dpi=dpi)

    reread = engine.kind == "local" and engine.languages_select_model
    return read_auto(
        read,
        installed=engine.info().languages,
        script_of=script_of,
        reread=reread,
        first=tuple(options.languages),
    )
