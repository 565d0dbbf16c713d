"""Test-only engine plug-ins for ``OCR_EXTRA_ENGINES`` (tests/engines/test_base.py).

``minimal``: an :class:`~app.engines.base.OcrEngine` subclass that defines only
what the base class requires (``name``, ``kind``, ``info``,
``recognize_page``) and asks for preprocessing, so every optional hook is the
base class's default. It "reads" one word: the size of the image it was given,
``<width>x<height>`` in pixels, so a test sees whether the page was turned.

``duck``: a factory returning an object with the same methods that does not
subclass ``OcrEngine`` (a plug-in written for the old protocol): the registry
refuses it and lists it as unavailable. ``nokind``: a subclass that declares
no ``kind``, refused as well.

The engines are named after their factories (this module has no ``ENGINE_NAME``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PIL import Image

from app.engines.base import EngineInfo, EngineOptions, OcrEngine
from app.pipeline.schema import Block, Line, PageResult, Word


def _page(image: Image.Image, page_number: int, options: EngineOptions) -> PageResult:
    word = Word(bbox=[0, 0, image.width, image.height], text=f"{image.width}x{image.height}")
    block = Block.from_lines([Line.from_words([word])])
    return PageResult.from_blocks(
        number=page_number, width=image.width, height=image.height, blocks=[block], dpi=options.dpi
    )


class MinimalEngine(OcrEngine):
    """Only the required parts; the options it was last called with in ``seen``."""

    name = "minimal"
    kind = "local"
    preprocess = True

    def __init__(self) -> None:
        self.seen: list[EngineOptions] = []

    def info(self) -> EngineInfo:
        return EngineInfo(
            name=self.name, title="Minimal (tests)", available=True, version="1", languages=()
        )

    def recognize_page(
        self, image: Image.Image, *, page_number: int, options: EngineOptions
    ) -> PageResult:
        self.seen.append(options)
        return _page(image, page_number, options)


class DuckEngine:
    """The same methods, without the base class: refused by the registry."""

    name = "duck"
    kind = "local"
    closed = False

    def info(self) -> EngineInfo:
        return EngineInfo(name=self.name, title="Duck", available=True, version="1", languages=())

    def recognize_page(self, image, *, page_number: int, options: EngineOptions) -> PageResult:
        return _page(image, page_number, options)

    def close(self) -> None:
        DuckEngine.closed = True


def minimal(config: Mapping[str, Any]) -> MinimalEngine:
    return MinimalEngine()


def duck(config: Mapping[str, Any]) -> DuckEngine:
    return DuckEngine()


class NoKindEngine(OcrEngine):
    """A subclass that declares no ``kind``: refused by the registry."""

    name = "nokind"

    def info(self) -> EngineInfo:
        return EngineInfo(
            name=self.name, title="No kind", available=True, version="1", languages=()
        )

    def recognize_page(self, image, *, page_number: int, options: EngineOptions) -> PageResult:
        return _page(image, page_number, options)


def nokind(config: Mapping[str, Any]) -> NoKindEngine:
    return NoKindEngine()
