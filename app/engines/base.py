"""The engine protocol: what every OCR engine (local or cloud) implements.

Engines never read Django settings. The registry builds each engine once per
worker process from a frozen config object, and every call gets a frozen
:class:`EngineOptions`. Each engine turns its own raw output into the schema of
:mod:`app.pipeline.schema`, so every exporter works for every engine.

An engine raises :class:`app.errors.OcrError` with a stable code
(``engine_unavailable``, ``provider_error``, ``provider_auth``,
``quota_exceeded``, ``timeout``, ``invalid_image`` ...) for anything a user
should see; any other exception becomes ``internal_error`` on the job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from PIL import Image

    from app.pipeline.schema import Page


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Per-job options handed to an engine.

    ``languages``: Tesseract language codes, e.g. ``("eng", "deu")``.
    ``psm``/``oem``: Tesseract page segmentation / engine modes (None = default).
    ``dpi``: resolution of the page image in dots per inch, if known.
    ``timeout``: seconds the engine may spend on one call before giving up.
    ``extra``: engine-specific options (e.g. UltraOCR ``service``).
    """

    languages: tuple[str, ...] = ("eng",)
    psm: int | None = None
    oem: int | None = None
    dpi: int | None = None
    timeout: float = 120.0
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """What ``/api/engines/`` shows about one engine."""

    name: str
    title: str
    available: bool
    version: str
    languages: tuple[str, ...]
    kind: str = "local"  # "local" or "cloud"
    reason: str = ""  # why it is unavailable, for operators (never a secret)


@runtime_checkable
class OcrEngine(Protocol):
    """One OCR engine.

    ``name`` is its registry key (``tesseract``, ``mrz``, ``clova`` ...).
    ``recognize_page`` OCRs one page image (a Pillow image in RGB or L mode)
    and returns a :class:`~app.pipeline.schema.Page` numbered ``page_number``
    whose ``width``/``height`` are the image's size in pixels and whose boxes
    are in that image's pixel space.
    """

    name: str
    kind: str

    def info(self) -> EngineInfo:
        """Availability, version and languages; must be cheap and never raise."""
        ...

    def recognize_page(
        self, image: Image.Image, *, page_number: int, options: EngineOptions
    ) -> Page:
        """OCR one page image. Raises :class:`app.errors.OcrError`."""
        ...
