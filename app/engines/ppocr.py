"""PP-OCR (``engine=ppocr``): PaddleOCR's PP-OCRv6 models on onnxruntime, through RapidOCR.

What runs: RapidOCR 3.10.0 (``rapidocr`` on PyPI) with the three ONNX models
that ship inside its wheel (``rapidocr/models/``): ``PP-OCRv6_det_small.onnx``
(text line detection, DB), ``ch_ppocr_mobile_v2.0_cls_mobile.onnx`` (0/180
degree turn of each line) and ``PP-OCRv6_rec_small.onnx`` (recognition, one
multilingual model; its character dictionary is in the model's metadata). The
model paths are given to RapidOCR explicitly, so it never looks for, checks or
downloads a model (its default configuration would hash the files and fetch
them from modelscope.cn when they differ); nothing goes to the network.

One engine per worker process (the registry builds it once): the three
onnxruntime sessions are made on the first page read (not by ``info()`` or the
submission check, so a web process never loads them) and reused for every page
after. Each session runs on one thread (``intra_op_num_threads = 1``,
``inter_op_num_threads = 1``; OpenCV too), like Tesseract under
``OMP_THREAD_LIMIT=1``: workers run one OCR per core (docs/architecture.md).
Calls are serialised by a lock, because RapidOCR keeps the per-call detection
settings on the shared object.

Pages go to RapidOCR in RGB: palette, 1-bit, grey and alpha images are
converted first (alpha flattened on white, :func:`app.pipeline.frames.to_ocr_mode`);
RapidOCR 3.10 finds nothing on palette and 1-bit arrays.

Job options (``accepted_options``, checked by :meth:`PpocrEngine.check_options`,
refused with ``invalid_option`` outside these ranges; defaults are RapidOCR's):

* ``box_threshold`` (0.0-1.0, default 0.5): a detected text region is kept when
  its mean text probability is at least this (RapidOCR ``Det.box_thresh``);
* ``unclip_ratio`` (1.0-4.0, default 1.6): how far each detected region is
  grown around its text before it is cut out for recognition (``Det.unclip_ratio``);
* ``upscale_limit`` (0-4000 pixels, default 736): a page whose shorter side is
  under this is scaled up to it for detection (``Det.limit_side_len`` with
  ``limit_type: min``); 0 turns upscaling off, which is faster on small images.

Setting ``OCR_PPOCR_MAX_SIDE`` (pixels, default 2000, RapidOCR's
``Global.max_side_len``): a larger page is first scaled down so that its longer
side is this long; recognition reads the lines cut from that copy, boxes are
mapped back to the page's pixels.

Result: the schema (app/pipeline/schema.py). Each detected line keeps its
4-point ``polygon`` and its ``bbox`` (pixels of the page as given), confidence
= RapidOCR's line score x 100; words: :mod:`app.engines.ppocr_words`; blocks:
:mod:`app.engines.ppocr_layout`. Languages: :mod:`app.engines.ppocr_languages`
(any code outside them is ``unknown_language``; the model reads all of its
languages at once, so the choice only gates the request).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import onnxruntime  # noqa: F401  (an ImportError here lists the engine as unavailable)
import rapidocr
from rapidocr import RapidOCR

from app.engines.base import EngineInfo, EngineOptions, OcrEngine
from app.engines.ppocr_languages import readable_languages
from app.engines.ppocr_layout import group_lines
from app.engines.ppocr_model import onnx_metadata
from app.engines.ppocr_words import WordConfidenceBoxes, estimate_words, merge_line
from app.errors import OcrError
from app.pipeline.frames import to_ocr_mode
from app.pipeline.schema import Line, PageResult, polygon_bbox

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

ENGINE_NAME = "ppocr"
#: The models inside the rapidocr wheel: detection, line orientation, recognition.
MODEL_DIR = Path(rapidocr.__file__).resolve().parent / "models"
DET_MODEL = "PP-OCRv6_det_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
MODEL_NAME = "PP-OCRv6 small"
#: Option -> (lowest, highest, default, whole number): the job options this engine takes.
OPTIONS: dict[str, tuple[float, float, float, bool]] = {
    "box_threshold": (0.0, 1.0, 0.5, False),
    "unclip_ratio": (1.0, 4.0, 1.6, False),
    "upscale_limit": (0, 4000, 736, True),
}
DEFAULT_MAX_SIDE = 2000


def _version() -> str:
    from rapidocr._version import version

    return str(version)


@dataclass(frozen=True, slots=True)
class PpocrConfig:
    """Engine configuration: ``model_dir`` holding the three models and ``max_side``,
    the longest page side in pixels RapidOCR reads at (larger pages are scaled down)."""

    model_dir: Path = MODEL_DIR
    max_side: int = DEFAULT_MAX_SIDE

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> PpocrConfig:
        return cls(max_side=int(config.get("OCR_PPOCR_MAX_SIDE", DEFAULT_MAX_SIDE)))


def _option(name: str, value: Any) -> float:
    """``value`` of option ``name`` as a number in its range (:data:`OPTIONS`).

    Numbers and numeric text (form fields) are taken; raises
    ``OcrError("invalid_option", field=name)`` otherwise.
    """
    low, high, _, whole = OPTIONS[name]
    kind = "a whole number" if whole else "a number"
    message = f"{name} must be {kind} from {low:g} to {high:g} (engine 'ppocr')."
    if isinstance(value, bool):
        raise OcrError("invalid_option", message, field=name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OcrError("invalid_option", message, field=name) from None
    if not low <= number <= high or (whole and number != int(number)):
        raise OcrError("invalid_option", message, field=name)
    return int(number) if whole else number


class PpocrEngine(OcrEngine):
    """Local PP-OCR through RapidOCR (see the module docstring)."""

    name = ENGINE_NAME
    kind = "local"
    #: It gets the page as it is (no deskew: it reads tilted lines by their polygons).
    preprocess = False
    # Photos squared and flattened first (app/pipeline/photo.py): mean CER 0.063 ->
    # 0.057 on the photo set (docs/photos-bench.md, 2026-11-30); scans pass untouched.
    photo_preprocess = True
    # One model reads every language it knows: languages=auto only reports them.
    languages_select_model = False
    accepted_options = frozenset(OPTIONS)

    def __init__(self, config: PpocrConfig) -> None:
        self.config = config
        self._models = [config.model_dir / m for m in (DET_MODEL, CLS_MODEL, REC_MODEL)]
        self._missing = [p.name for p in self._models if not p.is_file()]
        self._languages: tuple[str, ...] = ()
        if not self._missing:
            dictionary = onnx_metadata(self._models[2]).get("character", "").splitlines()
            listed = RapidOCR.list_supported_langs("rec", "PP-OCRv6", "small")
            self._languages = readable_languages(set(dictionary), listed)
        self._ocr: RapidOCR | None = None
        self._lock = threading.Lock()

    # -- info ------------------------------------------------------------------
    def info(self) -> EngineInfo:
        reason = f"model file(s) missing: {', '.join(self._missing)}" if self._missing else ""
        return EngineInfo(
            name=self.name,
            title="PP-OCR (photos, many languages)",
            available=not self._missing,
            version=_version(),
            languages=self._languages,
            kind=self.kind,
            reason=reason,
        )

    def check_options(self, options: EngineOptions) -> None:
        """Raise ``OcrError``: ``unknown_language`` (field ``languages``) for a code
        outside :meth:`info`'s languages, ``invalid_option`` (field: the option) for
        an option value outside :data:`OPTIONS`."""
        unknown = [lang for lang in options.languages if lang not in self._languages]
        if unknown or not options.languages:
            raise OcrError(
                "unknown_language",
                f"Engine 'ppocr' does not read: {', '.join(unknown) or '(none)'}. "
                f"It reads: {'+'.join(self._languages)}.",
                field="languages",
            )
        for name, value in options.extra.items():
            if name in OPTIONS:
                _option(name, value)

    # -- recognition -------------------------------------------------------------
    def _engine(self) -> RapidOCR:
        """The process's RapidOCR with its three sessions, made on first use (lock held)."""
        if self._ocr is None:
            import cv2

            cv2.setNumThreads(1)
            det, cls, rec = (str(p) for p in self._models)
            ocr = RapidOCR(
                params={
                    "Global.log_level": "error",
                    "Global.max_side_len": self.config.max_side,
                    "Det.model_path": det,
                    "Cls.model_path": cls,
                    "Rec.model_path": rec,
                    "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                }
            )
            ocr.cal_rec_boxes = WordConfidenceBoxes()
            ocr._load_det_model()
            ocr._load_cls_model()
            ocr._load_rec_model()
            self._ocr = ocr
        return self._ocr

    def sessions_loaded(self) -> bool:
        """Whether this process has made its onnxruntime sessions (the first page does)."""
        return self._ocr is not None

    def recognize_page(
        self, image: Image.Image, *, page_number: int, options: EngineOptions
    ) -> PageResult:
        """OCR ``image`` (any Pillow mode); boxes and polygons are in its pixels.

        Raises ``OcrError`` (:meth:`check_options`' codes). A page with no text
        gives a page with no blocks. ``options.timeout`` is not enforced here
        (RapidOCR cannot be interrupted); the task's time limit bounds a page.
        """
        self.check_options(options)
        values = {
            name: _option(name, options.extra.get(name, default))
            for name, (_, _, default, _) in OPTIONS.items()
        }
        rgb = to_ocr_mode(image).convert("RGB")
        with self._lock:
            ocr = self._engine()
            ocr.text_det.limit_side_len = values["upscale_limit"]
            out = ocr(
                rgb,
                return_word_box=True,
                box_thresh=values["box_threshold"],
                unclip_ratio=values["unclip_ratio"],
            )
        lines = to_lines(out)
        return PageResult.from_blocks(
            number=page_number,
            width=rgb.width,
            height=rgb.height,
            blocks=group_lines(lines),
            dpi=options.dpi,
        )

    def close(self) -> None:
        """Drop the sessions (a later page makes them again)."""
        with self._lock:
            self._ocr = None


def to_lines(out: Any) -> list[Line]:
    """Schema lines from a RapidOCR 3.10 result (``RapidOCROutput``; empty: no lines).

    ``out.boxes``: one 4-point polygon per line (float pixels), ``out.txts`` and
    ``out.scores`` (0-1) per line, ``out.word_results``: per line with pieces,
    a tuple of ``(text, probability, 4 points)``; RapidOCR leaves out lines
    without pieces, so the pieces are matched to lines by their text.
    """
    if getattr(out, "boxes", None) is None or not getattr(out, "txts", None):
        return []
    groups = list(out.word_results or ())
    lines = []
    for box, text, score in zip(out.boxes, out.txts, out.scores, strict=True):
        polygon = [[int(round(float(x))), int(round(float(y)))] for x, y in box]
        bbox = polygon_bbox(polygon)
        confidence = round(100.0 * float(score), 2)
        merged = merge_line(text, groups[0]) if groups else None
        if merged is not None:
            groups.pop(0)
            text, words = merged
        else:
            words = estimate_words(text, bbox, confidence)
        lines.append(
            Line(bbox=bbox, text=text, confidence=confidence, words=words, polygon=polygon)
        )
    return lines


def build(config: Mapping[str, Any]) -> PpocrEngine:
    """Registry factory: a :class:`PpocrEngine` from the ``OCR_*`` settings (no model
    session is made here; see :meth:`PpocrEngine.recognize_page`)."""
    return PpocrEngine(PpocrConfig.from_mapping(config))
