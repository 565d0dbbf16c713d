"""``engine=auto``: each page is read by the local engine that suits it.

Not an OCR engine of its own: a registry entry whose pages the page pipeline
(:func:`app.pipeline.page.ocr_page`) hands to :func:`app.pipeline.auto.ocr_page_auto`,
which reads the page with the *primary* engine (Tesseract) and, when that
reading looks weak, with the *secondary* one (PP-OCR) too, and keeps the
better; the page result names the engine that read it (``PageResult.engine``).
The policy and its calibration are in :mod:`app.pipeline.auto` and
docs/engines-auto.md.

The members are the registry's own engines (the same instances ``engine=tesseract``
and ``engine=ppocr`` use: one model set per worker process, never two), looked
up on first use, not by the factory: the registry builds engines under its lock.

* Available when Tesseract is. Without PP-OCR (``rapidocr`` not installed, or its
  models missing) ``auto`` reads every page with Tesseract.
* Languages: Tesseract's. A job whose languages PP-OCR does not read
  (:mod:`app.engines.ppocr_languages`, e.g. ``rus``) is read by Tesseract alone.
* Options: Tesseract's (``psm``, ``oem``) and PP-OCR's own
  (``box_threshold``, ``unclip_ratio``, ``upscale_limit``); each member gets
  only those it declares.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.engines.base import EngineInfo, EngineOptions, OcrEngine
from app.errors import OcrError

if TYPE_CHECKING:
    from PIL import Image

    from app.pipeline.schema import PageResult

ENGINE_NAME = "auto"
#: The engine every page is read with first, and the one asked when that reading is weak.
PRIMARY = "tesseract"
SECONDARY = "ppocr"
#: The options the members declare (kept in step with ``ppocr.OPTIONS``; Tesseract has none).
MEMBER_OPTIONS = frozenset({"box_threshold", "unclip_ratio", "upscale_limit"})

Lookup = Callable[[str], OcrEngine]


def member_options(engine: OcrEngine, options: EngineOptions) -> EngineOptions:
    """``options`` as member ``engine`` gets them: ``extra`` cut to its ``accepted_options``."""
    extra = {k: v for k, v in options.extra.items() if k in engine.accepted_options}
    return replace(options, extra=extra)


class AutoEngine(OcrEngine):
    """Per page: Tesseract, and PP-OCR when Tesseract's reading is weak (module docstring).

    ``lookup(name)`` returns a loaded engine or raises ``OcrError``
    (``engine_unavailable``); default :func:`app.engines.registry.get_engine`.
    """

    name = ENGINE_NAME
    kind = "local"
    #: Pages are prepared per member by :func:`app.pipeline.page.ocr_page`.
    preprocess = True
    accepted_options = MEMBER_OPTIONS

    def __init__(self, lookup: Lookup | None = None) -> None:
        self._lookup = lookup
        self._lock = threading.Lock()

    def _engine(self, name: str) -> OcrEngine | None:
        """Member ``name`` if it is available, else None."""
        lookup = self._lookup
        if lookup is None:
            from app.engines.registry import get_engine

            lookup = get_engine
        try:
            return lookup(name)
        except OcrError:
            return None

    def primary(self) -> OcrEngine:
        """The engine every page is read with first; ``OcrError("engine_unavailable")``."""
        engine = self._engine(PRIMARY)
        if engine is None:
            raise OcrError(
                "engine_unavailable",
                f"Engine 'auto' needs {PRIMARY!r}, which is not available on this server.",
                field="engine",
            )
        return engine

    def secondary(self, options: EngineOptions) -> OcrEngine | None:
        """The engine asked when the primary's reading is weak, if it is available and
        reads ``options.languages`` (its ``check_options`` accepts them); else None."""
        engine = self._engine(SECONDARY)
        if engine is None:
            return None
        try:
            engine.check_options(member_options(engine, options))
        except OcrError:
            return None
        return engine

    # -- the engine protocol ---------------------------------------------------------
    def info(self) -> EngineInfo:
        first = self._engine(PRIMARY)
        second = self._engine(SECONDARY)
        if first is None:
            return EngineInfo(
                name=self.name,
                title="Automatic",
                available=False,
                version="",
                languages=(),
                kind=self.kind,
                reason=f"needs {PRIMARY}, which is not available",
            )
        members = [e for e in (first, second) if e is not None]
        return EngineInfo(
            name=self.name,
            title="Automatic (best engine per page)",
            available=True,
            version="; ".join(f"{e.name} {e.info().version}" for e in members),
            languages=first.info().languages,
            kind=self.kind,
        )

    def check_options(self, options: EngineOptions) -> None:
        """The primary's check (``unknown_language``, ``invalid_option``), then the
        secondary's option values when PP-OCR options are given (``invalid_option``)."""
        first = self.primary()
        first.check_options(member_options(first, options))
        second = self._engine(SECONDARY)
        if second is not None and options.extra:
            from app.engines.ppocr import _option

            for name, value in options.extra.items():
                _option(name, value)

    def detect_orientation(self, image: Image.Image, *, dpi: int | None = None) -> int | None:
        """The primary's orientation detection (Tesseract's OSD)."""
        return self.primary().detect_orientation(image, dpi=dpi)

    def recognize_page(
        self, image: Image.Image, *, page_number: int, options: EngineOptions
    ) -> PageResult:
        """Read ``image`` with the primary alone (no choice, no preprocessing).

        The page pipeline does not call this: it reads ``auto`` pages through
        :func:`app.pipeline.auto.ocr_page_auto`. Kept for callers of the bare
        protocol; the result names the primary in ``engine``.
        """
        first = self.primary()
        page = first.recognize_page(
            image, page_number=page_number, options=member_options(first, options)
        )
        page.engine = first.name
        return page


def build(config: Mapping[str, Any]) -> AutoEngine:
    """Registry factory: an :class:`AutoEngine` over the registry's engines (looked up on
    first use, outside the registry's lock)."""
    return AutoEngine()
