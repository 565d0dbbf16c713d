"""Tesseract, kept loaded in the worker process.

Two backends produce the same result:

* ``tesserocr`` (default): the model stays loaded between pages, one
  ``PyTessBaseAPI`` per (languages, OEM) pair. Measured on this kind of
  machine: 10 ms vs 144 ms for the CLI on a 400x50 crop.
* ``cli``: the Debian ``tesseract`` command through pytesseract, used when
  tesserocr cannot be imported or ``OCR_TESSERACT_BACKEND=cli``.

Both read Tesseract's TSV output (columns ``level page_num block_num par_num
line_num word_num left top width height conf text``; level 2 = block,
4 = line, 5 = word), which :func:`parse_tsv` turns into the schema.

tesserocr is built from source against the system's libtesseract
(requirements.txt: ``--no-binary tesserocr``), so both backends run the same
Tesseract as the ``tesseract`` command, with the language data packaged for
it: an upright page reads exactly as the CLI reads it (bench/accuracy.py).
The PyPI wheel bundles libtesseract 5.5.4 instead: about 17 % faster on a
page here, but it reads some files differently from Debian's 5.3.0 CLI
(worse on 2 of the 15 accuracy files) and aborts the process in
``DetectOrientationScript`` with Debian's ``osd.traineddata``. Orientation
detection goes through the CLI's ``--psm 0`` either way (a separate process).

Memory: a loaded model set costs tens of MB (14 MB for ``eng`` alone, 80 MB
for the seven installed packs together, more once it has recognised a page),
and every distinct ordering of ``languages`` and every ``oem`` is a model set
of its own (Tesseract weighs the first language most, so the order is kept as
asked). A worker keeps at most ``OCR_TESSERACT_MAX_MODELS`` of them, least
recently used first out (:class:`TesseractEngine`). Orientation detection and
the OSD page segmentation modes (``psm`` 1 and 12) run in a ``tesseract``
subprocess, so they keep nothing loaded in the worker.

Which OCR engine modes a language supports is read from its ``.traineddata``
component table (:func:`traineddata_components`), so ``oem=0`` on an LSTM-only
model is refused when the job is submitted instead of failing when it runs.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from app.engines.base import EngineInfo, EngineOptions, OcrEngine
from app.errors import OcrError
from app.pipeline.frames import check_sides
from app.pipeline.gutter import split_at_gutter
from app.pipeline.schema import Block, Line, PageResult, Word

log = logging.getLogger(__name__)

#: The public interface: the engine, and the helpers other engines use (the MRZ
#: engine reads its tessdata folder and TSV output with ``find_tessdata`` and
#: ``parse_tsv``). The rest is this module's own.
__all__ = [
    "ENGINE_NAME",
    "OSD_MIN_CONFIDENCE",
    "TesseractConfig",
    "TesseractEngine",
    "build",
    "detect_orientation",
    "find_tessdata",
    "installed_languages",
    "oem_supported",
    "osd_available",
    "parse_osd",
    "parse_tsv",
    "set_image",
    "traineddata_components",
]

ENGINE_NAME = "tesseract"

TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
)

#: PageResult segmentation modes that produce text (0 = OSD only, 2 = not implemented).
VALID_PSM = frozenset({1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})
#: OCR engine modes (0 legacy, 1 LSTM, 2 both, 3 default); Debian's tessdata_fast
#: models are LSTM-only, so legacy modes fail on them (see :func:`oem_supported`).
VALID_OEM = frozenset({0, 1, 2, 3})
#: Model sets a worker process keeps loaded when ``OCR_TESSERACT_MAX_MODELS`` is unset.
DEFAULT_MAX_MODELS = 3

# Component indices of a .traineddata file: ``enum TessdataType`` in tesseract's
# src/ccutil/tessdatamanager.h (TESSDATA_LANG_CONFIG = 0 ... TESSDATA_VERSION = 23).
TESSDATA_UNICHARSET = 1
TESSDATA_INTTEMP = 3
TESSDATA_LSTM = 17
#: ``kMaxNumTessdataEntries`` in tessdatamanager.h: a larger count means the other byte order.
_MAX_TESSDATA_ENTRIES = 1000
#: Modes that run OSD inside recognition (handled by the CLI backend, see module doc).
OSD_PSM = frozenset({1, 12})
#: Modes with Tesseract's own page layout analysis (automatic page segmentation), whose
#: readings across the fold of a photographed book spread are repaired
#: (:func:`app.pipeline.gutter.split_at_gutter`); the others are what the caller asked for.
LAYOUT_PSM = frozenset({1, 3})
#: ``Recognize()`` returning False before this share of the timeout has passed is
#: a page Tesseract refused (``invalid_image``), not a ``timeout``: its monitor
#: only cancels once the deadline is reached.
TIMEOUT_SHARE = 0.9
#: Message of a page Tesseract gave up on without a timeout (both backends).
UNREADABLE = "Tesseract could not read this page."
#: OSD: minimum "Orientation confidence" to apply its answer.
OSD_MIN_CONFIDENCE = 2.0
#: Longest side, in pixels, of the grey copy handed to OSD.
OSD_MAX_SIDE = 2000
#: Seconds the OSD subprocess may take.
OSD_TIMEOUT = 15.0


@functools.cache
def find_tessdata(configured: str = "") -> str | None:
    """The tessdata folder: ``configured``, ``$TESSDATA_PREFIX`` or Debian's paths.

    Looked up once per process and argument (jobs ask for it on every run).
    """
    for candidate in (configured, os.environ.get("TESSDATA_PREFIX", ""), *TESSDATA_CANDIDATES):
        if candidate and Path(candidate).is_dir() and any(Path(candidate).glob("*.traineddata")):
            return str(Path(candidate))
    return None


def installed_languages(tessdata_dir: str | None) -> tuple[str, ...]:
    """Sorted language codes with a ``.traineddata`` file in ``tessdata_dir`` (``osd`` too)."""
    if not tessdata_dir:
        return ()
    return tuple(
        sorted(p.name[: -len(".traineddata")] for p in Path(tessdata_dir).glob("*.traineddata"))
    )


def parse_tsv(
    tsv: str, *, page_number: int, width: int, height: int, dpi: int | None
) -> PageResult:
    """Turn Tesseract TSV text into a :class:`PageResult`.

    Rows with ``level`` 5 (words) are grouped by (block, paragraph, line);
    empty words are dropped; a confidence of -1 means none. Tesseract blocks
    become blocks (their paragraphs are flattened into lines).
    """
    blocks: dict[int, dict[tuple[int, int], list[Word]]] = {}
    for row in tsv.splitlines():
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        if not text:
            continue
        try:
            block, par, line = int(cols[2]), int(cols[3]), int(cols[4])
            left, top, w, h = (int(c) for c in cols[6:10])
            conf = float(cols[10])
        except ValueError:
            continue
        word = Word(
            bbox=[left, top, left + w, top + h],
            text=text,
            confidence=round(conf, 2) if conf >= 0 else None,
        )
        blocks.setdefault(block, {}).setdefault((par, line), []).append(word)
    out = [
        Block.from_lines([Line.from_words(words) for _, words in sorted(lines.items())])
        for _, lines in sorted(blocks.items())
    ]
    return PageResult.from_blocks(
        number=page_number, width=width, height=height, blocks=out, dpi=dpi
    )


def read_tsv(
    tsv: str, *, psm: int, page_number: int, width: int, height: int, dpi: int | None
) -> PageResult:
    """The page of Tesseract's TSV (:func:`parse_tsv`), read in page segmentation mode
    ``psm``: with Tesseract's own layout analysis (:data:`LAYOUT_PSM`), a reading across
    the fold of a photographed book spread is repaired
    (:func:`app.pipeline.gutter.split_at_gutter`: lines cut at the fold, the two pages
    read one after the other); any other page is :func:`parse_tsv`'s as it is.
    ``width``/``height``: the image's size in pixels; ``dpi`` as Tesseract was told.
    """
    page = parse_tsv(tsv, page_number=page_number, width=width, height=height, dpi=dpi)
    if psm not in LAYOUT_PSM:
        return page
    blocks = split_at_gutter(page.blocks)
    if blocks is None:
        return page
    return PageResult.from_blocks(
        number=page_number, width=width, height=height, blocks=blocks, dpi=dpi
    )


@functools.cache
def traineddata_components(path: str) -> frozenset[int]:
    """The component indices present in the ``.traineddata`` file at ``path`` (cached per path).

    Reads only the file's header, as ``TessdataManager::LoadMemBuffer`` does
    (tesseract src/ccutil/tessdatamanager.cpp): an unsigned 32-bit entry count,
    then one signed 64-bit byte offset per entry, -1 for an absent component;
    an entry's size runs to the next present offset (or the end of the file),
    and an empty one counts as absent (``IsComponentAvailable``). A count above
    ``kMaxNumTessdataEntries`` (1000) means the file has the other byte order.
    Indices are ``enum TessdataType`` of src/ccutil/tessdatamanager.h, e.g.
    ``TESSDATA_UNICHARSET`` = 1, ``TESSDATA_INTTEMP`` = 3, ``TESSDATA_LSTM`` = 17.

    Returns an empty set for a file that cannot be read or is not in this format.
    """
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(4)
            if len(head) < 4:
                return frozenset()
            order = "<"
            (count,) = struct.unpack("<I", head)
            if count > _MAX_TESSDATA_ENTRIES:
                order = ">"
                (count,) = struct.unpack(">I", head)
                if count > _MAX_TESSDATA_ENTRIES:
                    return frozenset()
            table = fh.read(8 * count)
    except OSError:
        return frozenset()
    if len(table) < 8 * count:
        return frozenset()
    offsets = struct.unpack(f"{order}{count}q", table)
    present = set()
    for index, offset in enumerate(offsets):
        if offset < 0:
            continue
        following = next((o for o in offsets[index + 1 :] if o != -1), size)
        if following - offset > 0:
            present.add(index)
    return frozenset(present)


def oem_supported(components: frozenset[int], oem: int) -> bool:
    """Whether a language with these ``components`` (:func:`traineddata_components`) runs ``oem``.

    As tesseract decides (src/ccutil/tessdatamanager.h ``IsBaseAvailable`` /
    ``IsLSTMAvailable``; src/ccmain/tessedit.cpp ``init_tesseract_lang_data``):
    the legacy engine needs ``TESSDATA_UNICHARSET`` and ``TESSDATA_INTTEMP``,
    the LSTM engine ``TESSDATA_LSTM``. ``oem`` 0 needs legacy, 1 LSTM, 2 both;
    3 (default) picks whichever the file has.
    """
    legacy = {TESSDATA_UNICHARSET, TESSDATA_INTTEMP} <= components
    lstm = TESSDATA_LSTM in components
    if oem == 0:
        return legacy
    if oem == 1:
        return lstm
    if oem == 2:
        return legacy and lstm
    return True


#: Bytes per pixel that ``TessBaseAPI::SetImage`` takes for each Pillow mode
#: (0: one bit per pixel, byte-packed, most significant bit first, 1 = white).
_BYTES_PER_PIXEL = {"1": 0, "L": 1, "RGB": 3}


def set_image(api: Any, image: Image.Image) -> None:
    """Hand ``image`` (mode ``1``, ``L`` or ``RGB``) to a tesserocr API as raw pixels.

    ``PyTessBaseAPI.SetImage`` encodes a Pillow image to an in-memory BMP that
    Leptonica decodes again; ``SetImageBytes`` passes the pixel buffer as is
    (``TessBaseAPI::SetImage(data, width, height, bytes_per_pixel,
    bytes_per_line)``). Same pixels, same text (checked on the OCRmyPDF test
    scans); measured 2.7 s -> 1.6 s on a 2550x3300 RGB page, because the BMP
    round trip of a large RGB image is slow. Raises ``ValueError`` for other modes.
    """
    bpp = _BYTES_PER_PIXEL.get(image.mode)
    if bpp is None:
        raise ValueError(f"unsupported image mode {image.mode!r}")
    line = (image.width + 7) // 8 if bpp == 0 else image.width * bpp
    api.SetImageBytes(image.tobytes(), image.width, image.height, bpp, line)


# -- orientation (OSD) ---------------------------------------------------------------

_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)
_CONFIDENCE = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.MULTILINE)


_SCRIPT = re.compile(r"^Script:\s*(\S+)", re.MULTILINE)
_SCRIPT_CONFIDENCE = re.compile(r"^Script confidence:\s*([-\d.]+)", re.MULTILINE)


def parse_osd_script(text: str) -> tuple[str, float] | None:
    """``(script, confidence)`` from ``tesseract IMG stdout --psm 0`` output
    (lines ``Script: Latin`` and ``Script confidence: 3.33``), or None."""
    script, conf = _SCRIPT.search(text), _SCRIPT_CONFIDENCE.search(text)
    if not script or not conf:
        return None
    return script.group(1), float(conf.group(1))


def parse_osd(text: str) -> tuple[int, float] | None:
    """(clockwise rotation to apply, confidence) from ``tesseract --psm 0`` output."""
    rot, conf = _ROTATE.search(text), _CONFIDENCE.search(text)
    if not rot or not conf:
        return None
    degrees = int(rot.group(1)) % 360
    if degrees not in (0, 90, 180, 270):
        return None
    return degrees, float(conf.group(1))


def osd_available(tessdata_dir: str | None) -> bool:
    """True when the ``tesseract`` CLI and ``osd.traineddata`` are both there."""
    return bool(
        shutil.which("tesseract")
        and tessdata_dir
        and (Path(tessdata_dir) / "osd.traineddata").is_file()
    )


def detect_orientation(
    gray: Image.Image, *, tessdata_dir: str | None, dpi: int | None = None,
    timeout: float = OSD_TIMEOUT,
) -> tuple[int, float] | None:  # fmt: skip
    """Run Tesseract OSD; ``(clockwise degrees to apply, confidence)`` or None
    (:func:`run_osd`, then :func:`parse_osd`)."""
    out = run_osd(gray, tessdata_dir=tessdata_dir, dpi=dpi, timeout=timeout)
    return parse_osd(out) if out is not None else None


def run_osd(
    gray: Image.Image, *, tessdata_dir: str | None, dpi: int | None = None,
    timeout: float = OSD_TIMEOUT,
) -> str | None:  # fmt: skip
    """Tesseract OSD's printed answer (``Rotate:``, ``Orientation confidence:``,
    ``Script:``, ``Script confidence:`` lines), or None.

    Debian's ``tesseract IMG stdout --psm 0`` on ``gray`` shrunk to at most
    :data:`OSD_MAX_SIDE` pixels a side (``dpi``: its resolution, 300 assumed
    when unknown), in a subprocess: native code failing on an odd page costs
    an orientation, not the worker. None when the CLI or ``osd.traineddata``
    is missing, Tesseract finds too few characters, fails or exceeds
    ``timeout`` seconds. :meth:`TesseractEngine.detect_orientation` applies
    :data:`OSD_MIN_CONFIDENCE`.
    """
    exe = shutil.which("tesseract")
    if not exe or not tessdata_dir or not (Path(tessdata_dir) / "osd.traineddata").is_file():
        return None
    factor = min(1.0, OSD_MAX_SIDE / max(gray.size))
    if factor < 1.0:
        gray = gray.resize(
            (max(1, round(gray.width * factor)), max(1, round(gray.height * factor))),
            Image.Resampling.LANCZOS,
        )
        dpi = round(dpi * factor) if dpi else None
    with tempfile.TemporaryDirectory(prefix="osd-") as tmp:
        path = os.path.join(tmp, "page.png")
        gray.save(path, dpi=(dpi, dpi) if dpi else (300, 300))
        cmd = [exe, path, "stdout", "--psm", "0", "--tessdata-dir", tessdata_dir]
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("tesseract OSD failed: %s", exc)
            return None
    return out.stdout


@dataclass(frozen=True, slots=True)
class TesseractConfig:
    """Engine configuration: tessdata folder, backend (auto|tesserocr|cli) and
    ``max_models``, the model sets (language ordering, OEM) kept loaded (at least 1)."""

    tessdata_dir: str | None
    backend: str = "auto"
    max_models: int = DEFAULT_MAX_MODELS

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> TesseractConfig:
        return cls(
            tessdata_dir=find_tessdata(config.get("OCR_TESSDATA_DIR", "")),
            backend=config.get("OCR_TESSERACT_BACKEND", "auto") or "auto",
            max_models=int(config.get("OCR_TESSERACT_MAX_MODELS", DEFAULT_MAX_MODELS)),
        )


class _ApiSlot:
    """One loaded tesserocr API, the lock that serialises its use, and its users.

    ``users`` (threads between :meth:`TesseractEngine._checkout` and
    ``_checkin``) and ``evicted`` are guarded by the engine's ``_slots_lock``;
    the model is ended by whoever sees it evicted with no user left.
    """

    def __init__(self, api: Any) -> None:
        self.api = api
        self.lock = threading.Lock()
        self.users = 0
        self.evicted = False


class TesseractEngine(OcrEngine):
    """Local Tesseract OCR. See the module docstring for the backends."""

    name = ENGINE_NAME
    kind = "local"
    #: Pages are prepared (orientation, deskew, upscaling) before this engine sees them.
    preprocess = True
    #: No options besides languages/psm/oem.
    accepted_options = frozenset()

    def __init__(self, config: TesseractConfig) -> None:
        self.config = config
        self._tesserocr: Any = None
        if config.backend in ("auto", "tesserocr"):
            try:
                import tesserocr

                self._tesserocr = tesserocr
            except ImportError:
                if config.backend == "tesserocr":
                    raise
        self._cli = shutil.which("tesseract")
        #: Loaded model sets by (languages joined with "+", oem), least recently used first.
        self._slots: OrderedDict[tuple[str, int], _ApiSlot] = OrderedDict()
        self._slots_lock = threading.Lock()
        self._max_models = max(1, config.max_models)
        self._languages = installed_languages(config.tessdata_dir)
        self._version = self._read_version()

    # -- info ------------------------------------------------------------------
    def _read_version(self) -> str:
        if self._tesserocr is not None:
            return self._tesserocr.tesseract_version().split()[1]
        if self._cli:
            try:
                out = subprocess.run(
                    [self._cli, "--version"], capture_output=True, text=True, timeout=10
                )
                return (out.stdout or out.stderr).split()[1]
            except (OSError, subprocess.SubprocessError, IndexError):
                return ""
        return ""

    @property
    def backend(self) -> str:
        """``tesserocr`` or ``cli``: what :meth:`recognize_page` will use by default."""
        return "tesserocr" if self._tesserocr is not None else "cli"

    def recognition_languages(self) -> tuple[str, ...]:
        """Installed languages usable for recognition (``osd`` excluded)."""
        return tuple(lang for lang in self._languages if lang != "osd")

    def info(self) -> EngineInfo:
        available = bool(self.config.tessdata_dir) and (
            self._tesserocr is not None or self._cli is not None
        )
        reason = ""
        if not self.config.tessdata_dir:
            reason = "no tessdata folder found: install tesseract-ocr-eng"
        elif not available:
            reason = "neither tesserocr nor the tesseract command is installed"
        return EngineInfo(
            name=self.name,
            title="Tesseract",
            available=available,
            version=self._version,
            languages=self.recognition_languages(),
            kind=self.kind,
            reason=reason,
        )

    # -- validation --------------------------------------------------------------
    def check_options(self, options: EngineOptions) -> None:
        """Raise ``OcrError`` for unknown languages or invalid PSM/OEM values.

        ``unknown_language`` (field ``languages``) for a language without a
        ``.traineddata`` file; ``invalid_option`` for a ``psm`` outside
        :data:`VALID_PSM` (field ``psm``), or an ``oem`` outside 0-3 or that a
        requested language's model cannot run (field ``oem``, e.g. legacy
        ``oem=0`` on an LSTM-only model; see :func:`oem_supported`).
        """
        known = set(self.recognition_languages())
        unknown = [lang for lang in options.languages if lang not in known]
        if unknown or not options.languages:
            raise OcrError(
                "unknown_language",
                f"Unknown or uninstalled language(s): {', '.join(unknown) or '(none)'}. "
                f"Installed: {'+'.join(sorted(known))}.",
                field="languages",
            )
        if options.psm is not None and options.psm not in VALID_PSM:
            raise OcrError(
                "invalid_option",
                f"psm must be one of {sorted(VALID_PSM)}.",
                field="psm",
            )
        if options.oem is not None and options.oem not in VALID_OEM:
            raise OcrError("invalid_option", "oem must be 0, 1, 2 or 3.", field="oem")
        if options.oem is not None and self.config.tessdata_dir:
            lacking = [
                lang
                for lang in options.languages
                if not oem_supported(
                    traineddata_components(
                        str(Path(self.config.tessdata_dir) / f"{lang}.traineddata")
                    ),
                    options.oem,
                )
            ]
            if lacking:
                needs = {0: "legacy", 1: "LSTM", 2: "legacy and LSTM"}[options.oem]
                raise OcrError(
                    "invalid_option",
                    f"oem={options.oem} needs the {needs} engine's model, which the installed "
                    f"language data for {', '.join(lacking)} does not include. "
                    "Use oem=3 (the default) or oem=1.",
                    field="oem",
                )

    # -- recognition -------------------------------------------------------------
    @contextmanager
    def _model(self, lang: str, oem: int) -> Iterator[Any]:
        """The loaded tesserocr API for ``lang`` (``"eng+deu"``, order kept) and ``oem``,
        held exclusively (its lock) for the ``with`` block.

        At most ``max_models`` model sets stay loaded: loading another evicts the
        least recently used one. An evicted model still in use by another thread
        is ended by that thread once it is done with it, never under it.
        """
        slot = self._checkout(lang, oem)
        try:
            with slot.lock:
                yield slot.api
        finally:
            self._checkin(slot)

    def _checkout(self, lang: str, oem: int) -> _ApiSlot:
        key = (lang, oem)
        with self._slots_lock:
            slot = self._slots.get(key)
            if slot is None:
                api = self._tesserocr.PyTessBaseAPI(
                    path=self.config.tessdata_dir.rstrip("/") + "/",
                    lang=lang,
                    oem=oem,
                    init=True,
                )
                slot = self._slots[key] = _ApiSlot(api)
            else:
                self._slots.move_to_end(key)
            slot.users += 1
            while len(self._slots) > self._max_models:
                old_key, old = self._slots.popitem(last=False)
                old.evicted = True
                log.debug("tesseract model %s+oem%s evicted", *old_key)
                if old.users == 0:
                    old.api.End()
            return slot

    def _checkin(self, slot: _ApiSlot) -> None:
        with self._slots_lock:
            slot.users -= 1
            if slot.evicted and slot.users == 0:
                slot.api.End()

    def loaded_models(self) -> list[tuple[str, int]]:
        """The (languages, oem) model sets loaded now, least recently used first."""
        with self._slots_lock:
            return list(self._slots)

    def recognize_page(
        self, image: Image.Image, *, page_number: int, options: EngineOptions
    ) -> PageResult:
        """OCR ``image``; boxes are in its pixels.

        Raises ``OcrError``: ``too_many_pixels`` for an image with a side over
        :data:`~app.pipeline.frames.MAX_SIDE` pixels (32,767; Tesseract's
        ``FindLines`` refuses it, so it is never handed over), ``timeout`` when
        the page took ``options.timeout`` seconds, ``invalid_image`` when
        Tesseract gave up on the page before that (:data:`TIMEOUT_SHARE`; the
        CLI: a non-zero exit), ``engine_crash`` when the CLI was killed by a
        signal, and the :meth:`check_options` errors.
        """
        self.check_options(options)
        check_sides(image.width, image.height, field=None, what="page")
        if image.mode not in ("L", "RGB", "1"):
            image = image.convert("RGB")
        psm = options.psm if options.psm is not None else 3
        if self._tesserocr is not None and psm not in OSD_PSM:
            tsv = self._tsv_tesserocr(image, psm=psm, options=options)
        elif self._cli:
            tsv = self._tsv_cli(image, psm=psm, options=options)
        else:
            raise OcrError("engine_unavailable", "Tesseract is not installed.", field="engine")
        return read_tsv(
            tsv,
            psm=psm,
            page_number=page_number,
            width=image.width,
            height=image.height,
            dpi=options.dpi,
        )

    def _tsv_tesserocr(self, image: Image.Image, *, psm: int, options: EngineOptions) -> str:
        lang = "+".join(options.languages)
        oem = options.oem if options.oem is not None else 3
        with self._model(lang, oem) as api:
            try:
                api.SetPageSegMode(psm)
                set_image(api, image)
                # Unknown DPI: 0 makes Tesseract estimate it from the text size, as the
                # CLI does for a file without one.
                api.SetSourceResolution(int(options.dpi) if options.dpi else 0)
                started = time.monotonic()
                ok = api.Recognize(timeout=int(options.timeout * 1000))
                if not ok:
                    raise _recognize_failed(time.monotonic() - started, options.timeout)
                return api.GetTSVText(0)
            finally:
                api.Clear()

    def _tsv_cli(self, image: Image.Image, *, psm: int, options: EngineOptions) -> str:
        import pytesseract

        config = f"--psm {psm}"
        if options.oem is not None:
            config += f" --oem {options.oem}"
        if options.dpi:
            config += f" --dpi {int(options.dpi)}"
        if self.config.tessdata_dir:
            config += f' --tessdata-dir "{self.config.tessdata_dir}"'
        try:
            return pytesseract.image_to_data(
                image,
                lang="+".join(options.languages),
                config=config,
                timeout=options.timeout,
            )
        except pytesseract.TesseractError as exc:  # a RuntimeError too: caught first
            status, message = exc.args[0] if exc.args else None, " ".join(map(str, exc.args[1:]))
            log.warning("tesseract exited with %s: %s", status, message[:500])
            if isinstance(status, int) and status < 0:  # killed by a signal
                raise OcrError(
                    "engine_crash", f"Tesseract stopped with signal {-status} on this page."
                ) from exc
            raise OcrError("invalid_image", UNREADABLE) from exc
        except RuntimeError as exc:  # pytesseract's timeout ("Tesseract process timeout")
            raise OcrError(
                "timeout", f"Tesseract did not finish the page within {options.timeout:g} s."
            ) from exc

    # -- orientation ---------------------------------------------------------------
    def detect_orientation(self, image: Image.Image, *, dpi: int | None = None) -> int | None:
        """The clockwise turn (0/90/180/270 degrees) that sets ``image`` upright, by OSD.

        :func:`detect_orientation` (the ``tesseract`` CLI, ``--psm 0``, with
        this engine's tessdata folder); None when OSD cannot run (no CLI or
        ``osd.traineddata``), finds too few characters, fails, or answers with
        an ``Orientation confidence`` under :data:`OSD_MIN_CONFIDENCE`.
        """
        found = detect_orientation(image, tessdata_dir=self.config.tessdata_dir, dpi=dpi)
        if found is None:
            return None
        degrees, confidence = found
        return degrees if confidence >= OSD_MIN_CONFIDENCE else None

    def detect_script(
        self, image: Image.Image, *, dpi: int | None = None
    ) -> tuple[str, float] | None:
        """``(script, confidence)`` of ``image`` by OSD (``Script: Latin``, ``Cyrillic``,
        ``Han`` ...; confidence as Tesseract prints it, 0 = a guess), or None when OSD
        cannot run or finds too few characters. Used by ``languages=auto``
        (:mod:`app.pipeline.langdetect`)."""
        out = run_osd(image, tessdata_dir=self.config.tessdata_dir, dpi=dpi)
        return parse_osd_script(out) if out is not None else None

    def close(self) -> None:
        """Release every loaded model (one in use is ended when its user is done)."""
        with self._slots_lock:
            for slot in self._slots.values():
                slot.evicted = True
                if slot.users == 0:
                    slot.api.End()
            self._slots.clear()


def _recognize_failed(elapsed: float, timeout: float) -> OcrError:
    """The error for ``Recognize()`` returning False after ``elapsed`` of ``timeout`` seconds.

    ``TessBaseAPI::Recognize`` (tesseract src/api/baseapi.cpp) fails when
    ``FindLines`` does (no image, or a side over ``MAX_INT16``: "Image too
    large", see :data:`~app.pipeline.frames.MAX_SIDE`) or when recognition is
    cancelled by its monitor, which tesserocr sets to ``timeout``
    milliseconds. So a failure well before the deadline (under
    :data:`TIMEOUT_SHARE` of it) is Tesseract refusing the page
    (``invalid_image``), and only one at the deadline is a ``timeout``.
    """
    if timeout and elapsed >= TIMEOUT_SHARE * timeout:
        return OcrError("timeout", f"Tesseract did not finish the page within {timeout:g} s.")
    return OcrError("invalid_image", UNREADABLE)


def build(config: Mapping[str, Any]) -> TesseractEngine:
    """Registry factory: a :class:`TesseractEngine` from the ``OCR_*`` settings."""
    return TesseractEngine(TesseractConfig.from_mapping(config))
