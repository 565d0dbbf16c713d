"""The options of one OCR job: one typed, frozen object from request to engine.

:class:`JobOptions` is made once from the validated request
(:meth:`JobOptions.from_request`), stored with the job (``Job.engine``,
``Job.languages`` and ``Job.options``, :meth:`JobOptions.stored`) and read back
from it (:meth:`JobOptions.from_job_fields`). What the engine and the
preprocessing get is derived by methods (:meth:`engine_options`,
:meth:`preprocess_options`, :meth:`page_numbers`), never by editing dicts.

Pure: no ORM, no settings. The option names and their meaning are the API's
(docs/architecture.md, "Job options"); ``Job.options`` keeps only the options
the client gave, so ``GET /api/ocr/{id}/`` shows them as sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.engines.base import EngineOptions
from app.pipeline.langdetect import AUTO, FIRST_READING
from app.pipeline.page_ranges import parse_page_ranges
from app.pipeline.preprocess import PreprocessOptions

#: Options the pipeline itself consumes (Tesseract modes, pages, preprocessing, the
#: PDF text layer), in the order ``Job.options`` lists them.
PIPELINE_OPTION_NAMES = ("psm", "oem", "pages", "rotate", "deskew", "clean", "dpi", "pdf_text")
#: Engine-specific options a client may send (handed only to an engine that lists
#: them in ``accepted_options``; refused for any other engine).
ENGINE_OPTION_NAMES = ("service", "box_threshold", "unclip_ratio", "upscale_limit")
#: Every per-job option besides ``engine``, ``languages`` and ``metadata``.
OPTION_NAMES = PIPELINE_OPTION_NAMES + ENGINE_OPTION_NAMES


@dataclass(frozen=True, slots=True)
class JobOptions:
    """How one job is read: engine, languages, Tesseract modes, pages, preprocessing.

    ``engine``: engine name (``/api/engines/``); ``languages``: Tesseract codes in
    the order given, e.g. ``("eng", "deu")``, or ``("auto",)`` to detect each page's
    (:attr:`detect_languages`); ``psm`` (0-13) / ``oem`` (0-3):
    Tesseract modes, None for the engine's default; ``pages``: page ranges such as
    ``"1-3,7"``, None for every page; ``rotate``: ``"auto"``/``"off"``, None =
    auto; ``deskew``/``clean``: None = the default (deskew on, clean off);
    ``dpi``: the image resolution in DPI overriding the file's (images only);
    ``pdf_text``: ``"use"`` takes a PDF page's own text layer instead of OCR,
    ``"ocr"``/None OCRs every page; ``engine_options``: the engine-specific options
    (e.g. UltraOCR ``service``) as sorted ``(name, value)`` pairs.

    Fields left None were not given by the client and are not stored.
    """

    engine: str = "tesseract"
    languages: tuple[str, ...] = ("eng",)
    psm: int | None = None
    oem: int | None = None
    pages: str | None = None
    rotate: str | None = None
    deskew: bool | None = None
    clean: bool | None = None
    dpi: int | None = None
    pdf_text: str | None = None
    engine_options: tuple[tuple[str, Any], ...] = field(default=())

    @classmethod
    def from_request(cls, data: Mapping[str, Any], *, engine: str, languages: str) -> JobOptions:
        """The options of a validated submission (the serializer's ``validated_data``).

        ``engine``/``languages``: the request's, defaults applied (``languages``
        joined by ``+``). Options absent or None in ``data`` stay unset.
        """
        return cls.from_job_fields(engine=engine, languages=languages, options=data)

    @classmethod
    def from_job_fields(
        cls, *, engine: str, languages: str, options: Mapping[str, Any] | None
    ) -> JobOptions:
        """The options stored with a job: its ``engine``, ``languages`` (``eng+deu``)
        and ``options`` JSON object (:meth:`stored`). Unknown keys are ignored."""
        opts = options or {}
        given = {name: opts[name] for name in PIPELINE_OPTION_NAMES if opts.get(name) is not None}
        own = tuple(
            sorted((name, opts[name]) for name in ENGINE_OPTION_NAMES if opts.get(name) is not None)
        )
        langs = tuple(lang for lang in languages.split("+") if lang)
        return cls(engine=engine, languages=langs, engine_options=own, **given)

    def stored(self) -> dict[str, Any]:
        """The ``Job.options`` JSON object: the options that were given, by name."""
        out = {name: getattr(self, name) for name in PIPELINE_OPTION_NAMES}
        out.update(self.engine_options)
        return {name: value for name, value in out.items() if value is not None}

    @property
    def languages_joined(self) -> str:
        """``languages`` as ``Job.languages`` stores them (``eng+deu``)."""
        return "+".join(self.languages)

    def changed(self, **changes: Any) -> JobOptions:
        """A copy with ``changes`` (field names or engine option names; None unsets one).

        Raises ``KeyError`` for a name that is neither.
        """
        own = dict(self.engine_options)
        fields = {}
        for name, value in changes.items():
            if name in ENGINE_OPTION_NAMES:
                own[name] = value
            elif name in {f.name for f in dataclasses.fields(self)}:
                fields[name] = value
            else:
                raise KeyError(name)
        own_pairs = tuple(sorted((k, v) for k, v in own.items() if v is not None))
        return dataclasses.replace(self, engine_options=own_pairs, **fields)

    def engine_options_for(self, accepted: frozenset[str] | set[str]) -> dict[str, Any]:
        """The engine-specific options an engine declaring ``accepted`` gets."""
        return {name: value for name, value in self.engine_options if name in accepted}

    def for_engine(
        self,
        *,
        accepted: frozenset[str] | set[str] | None = None,
        dpi: int | None = None,
        timeout: float = 120.0,
    ) -> EngineOptions:
        """The :class:`~app.engines.base.EngineOptions` an engine gets.

        ``accepted``: the engine's ``accepted_options`` (None: every engine option,
        as the submission check wants them to refuse the undeclared ones); ``dpi``
        of the page if known; ``timeout`` in seconds per engine call.
        """
        own = dict(self.engine_options) if accepted is None else self.engine_options_for(accepted)
        return EngineOptions(
            languages=FIRST_READING if self.detect_languages else self.languages,
            psm=self.psm,
            oem=self.oem,
            dpi=dpi,
            timeout=timeout,
            extra=own,
        )

    def preprocess_options(self, *, is_pdf: bool) -> PreprocessOptions:
        """How pages are prepared: rotation, deskew, clean, and the DPI override
        (images only: a PDF page's DPI is the one it is rendered at)."""
        return PreprocessOptions(
            rotate=self.rotate or "auto",
            deskew=self.deskew is not False,
            clean=bool(self.clean),
            dpi=None if is_pdf else self.dpi,
        )

    @property
    def detect_languages(self) -> bool:
        """Whether ``languages`` is ``auto``: each page's language is detected and the
        page read with its pack (:mod:`app.pipeline.langdetect`); the engine is handed
        :data:`~app.pipeline.langdetect.FIRST_READING` (``eng``) by :meth:`for_engine`."""
        return self.languages == (AUTO,)

    @property
    def use_text_layer(self) -> bool:
        """Whether a PDF page's own text layer replaces OCR (``pdf_text=use``)."""
        return self.pdf_text == "use"

    def page_numbers(self, page_count: int) -> list[int]:
        """The 1-based pages to read of a document of ``page_count`` pages, in order.

        Every page when ``pages`` is unset. Raises ``OcrError("invalid_pages")``
        for ranges outside the document (:func:`~app.pipeline.page_ranges.parse_page_ranges`).
        """
        if not self.pages:
            return list(range(1, page_count + 1))
        return parse_page_ranges(self.pages, page_count)
