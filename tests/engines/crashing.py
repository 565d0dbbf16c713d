"""A test-only engine plug-in whose native code really aborts the process.

``recognize_page`` calls the C library's ``abort()`` through ctypes: the
worker child dies from SIGABRT in native code, exactly as it does when
libtesseract throws an uncaught C++ exception (measured: tesserocr 2.13's
wheel, which bundles libtesseract 5.5.4, aborts with ``std::out_of_range`` in
``DetectOrientationScript`` on Debian's ``osd.traineddata``). Loaded through
``OCR_EXTRA_ENGINES=tests.engines.crashing.build``.
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping
from typing import Any

from app.engines.base import EngineInfo, EngineOptions, OcrEngine

ENGINE_NAME = "crash_test"


class CrashingEngine(OcrEngine):
    name = ENGINE_NAME
    kind = "local"

    def info(self) -> EngineInfo:
        return EngineInfo(
            name=self.name,
            title="Aborts in native code (tests)",
            available=True,
            version="0",
            languages=("eng",),
        )

    def recognize_page(self, image, *, page_number: int, options: EngineOptions):
        ctypes.CDLL(None).abort()  # SIGABRT: the process ends here, no Python exception
        raise AssertionError("abort() returned")


def build(config: Mapping[str, Any]) -> CrashingEngine:
    return CrashingEngine()
