"""A test-only engine plug-in whose native code really aborts the process.

It calls tesserocr's ``DetectOrientationScript``, which in tesserocr 2.13's
bundled libtesseract 5.5.4 aborts with ``std::out_of_range`` on Debian's
``osd.traineddata`` (measured): the worker child dies exactly as it would in
production. Loaded through ``OCR_EXTRA_ENGINES=tests.engines.crashing.build``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.engines.base import EngineInfo, EngineOptions
from app.engines.tesseract import find_tessdata

ENGINE_NAME = "crash_test"


class CrashingEngine:
    name = ENGINE_NAME
    kind = "local"

    def __init__(self, tessdata: str | None) -> None:
        self.tessdata = tessdata

    def info(self) -> EngineInfo:
        return EngineInfo(
            name=self.name,
            title="Aborts in native code (tests)",
            available=bool(self.tessdata),
            version="0",
            languages=("eng",),
        )

    def recognize_page(self, image, *, page_number: int, options: EngineOptions):
        import tesserocr

        api = tesserocr.PyTessBaseAPI(
            path=self.tessdata + "/", lang="eng", psm=tesserocr.PSM.AUTO_OSD
        )
        api.SetImage(image)
        api.DetectOrientationScript()  # aborts the process (std::out_of_range)
        raise AssertionError("DetectOrientationScript returned; expected an abort")


def build(config: Mapping[str, Any]) -> CrashingEngine:
    return CrashingEngine(find_tessdata(config.get("OCR_TESSDATA_DIR", "")))
