"""The engine protocol: what every OCR engine (local or cloud) implements.

Engines never read Django settings. The registry builds each engine once per
worker process from a frozen config object, and every call gets a frozen
:class:`EngineOptions`. Each engine turns its own raw output into the schema of
:mod:`app.pipeline.schema`, so every exporter works for every engine.

An engine raises :class:`app.errors.OcrError` with a stable code
(``engine_unavailable``, ``provider_error``, ``provider_auth``,
``quota_exceeded``, ``timeout``, ``invalid_image`` ...) for anything a user
should see; any other exception becomes ``internal_error`` on the job.

Every engine subclasses :class:`OcrEngine`: it implements ``info()`` and
``recognize_page()``, declares ``name`` and ``kind``, and inherits a default
for every optional hook (``check_options``, ``detect_orientation``,
``close``; ``preprocess = False``; ``accepted_options`` empty). The registry
refuses a factory whose product is not an ``OcrEngine`` (docs/architecture.md,
"Engines").
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from PIL import Image

    from app.pipeline.schema import PageResult


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Per-job options handed to an engine.

    ``languages``: Tesseract language codes, e.g. ``("eng", "deu")``.
    ``psm``/``oem``: Tesseract page segmentation / engine modes (None = default).
    ``dpi``: resolution of the page image in dots per inch, if known.
    ``timeout``: seconds the engine may spend on one call before giving up.
    ``extra``: the job's engine-specific options, only those the engine lists
    in :attr:`OcrEngine.accepted_options` (e.g. UltraOCR ``service``).
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


#: The values of :attr:`OcrEngine.kind`: runs in the worker, or forwards to a provider.
KINDS = frozenset({"local", "cloud"})


class OcrEngine(abc.ABC):
    """One OCR engine.

    Declared by every subclass (class attributes):

    ``name``: its registry key (``tesseract``, ``mrz``, ``clova`` ...).
    ``kind``: ``"local"`` (OCR in the worker) or ``"cloud"`` (a provider; its
    jobs go to ``OCR_PROVIDER_QUEUE``). A class that sets another value is
    refused when defined (``TypeError``); one that sets none is refused by the
    registry.

    Optional, with defaults here:

    ``preprocess``: True when pages are prepared for it (orientation, deskew,
    upscaling, clean; :func:`app.pipeline.page.ocr_page`); False (default):
    it gets the EXIF-transposed image as is and does its own.
    ``accepted_options``: the job options it understands besides
    ``languages``/``psm``/``oem`` and the pipeline's own (``pages``,
    ``rotate`` ...), e.g. UltraOCR's ``service``. Any other one is refused at
    submission (``invalid_option``, :func:`app.engines.registry.checked_engine`)
    and only these reach :attr:`EngineOptions.extra`.
    ``photo_preprocess``: True when an engine with ``preprocess = False`` gets
    photo preprocessing alone (a photographed page squared and its light
    flattened, :mod:`app.pipeline.photo`); PP-OCR. Default False.
    ``languages_select_model``: True (default) when the job's languages choose
    the model that reads (Tesseract's packs), so ``languages=auto`` re-reads a
    page with the detected language's pack; False when one model reads every
    language it knows (PP-OCR): the detected languages are only reported.

    ``recognize_page`` OCRs one page image (a Pillow image in RGB or L mode)
    and returns a :class:`~app.pipeline.schema.PageResult` numbered ``page_number``
    whose ``width``/``height`` are the image's size in pixels and whose boxes
    are in that image's pixel space.
    """

    name: ClassVar[str]
    kind: ClassVar[str]
    preprocess: ClassVar[bool] = False
    photo_preprocess: ClassVar[bool] = False
    languages_select_model: ClassVar[bool] = True
    accepted_options: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if kind is not None and kind not in KINDS:
            raise TypeError(f"{cls.__name__}.kind must be one of {sorted(KINDS)}, not {kind!r}")

    @abc.abstractmethod
    def info(self) -> EngineInfo:
        """Availability, version and languages; must be cheap and never raise."""

    @abc.abstractmethod
    def recognize_page(
        self, image: Image.Image, *, page_number: int, options: EngineOptions
    ) -> PageResult:
        """OCR one page image. Raises :class:`app.errors.OcrError`."""

    def check_options(self, options: EngineOptions) -> None:
        """Raise ``OcrError`` (``unknown_language``, ``invalid_option``) for options
        this engine cannot run, before any work is done. Default: accept them all.

        ``options.extra`` holds only :attr:`accepted_options` (the registry
        refuses the others first).
        """
        return None

    def detect_orientation(self, image: Image.Image, *, dpi: int | None = None) -> int | None:
        """The clockwise turn (0, 90, 180 or 270 degrees) that sets ``image`` upright.

        ``image``: a grey (``L``) copy of the page; ``dpi``: its resolution if
        known. None when the engine cannot tell (the default: no detection, the
        page is read as it is). Asked by :func:`app.pipeline.preprocess.preprocess`
        for engines with ``preprocess = True`` when ``rotate="auto"``; must not
        raise for image content.
        """
        return None

    def close(self) -> None:
        """Release what the engine holds (models, HTTP sessions). Default: nothing."""
        return None
