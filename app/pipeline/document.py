"""The document pipeline: a source, its type and typed options -> page results, one by one.

Pure (no ORM, no settings: limits arrive as :class:`Limits`). A job's page tasks
(``app.services.run``) and ``manage.py ocr`` both read documents through
:func:`read_pages`, so the command and a job read the same file the same way:
the same page rendering, text layer (``pdf_text=use``), preprocessing,
orientation policy and engine options (docs/architecture.md, "The life of a job").
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from app.engines.base import OcrEngine
from app.errors import OcrError
from app.pipeline import inputs
from app.pipeline.options import JobOptions
from app.pipeline.page import PageSettings, ocr_page
from app.pipeline.schema import Document, PageResult


@dataclass(frozen=True, slots=True)
class Limits:
    """The resource limits a document is read under.

    ``max_bytes``: largest document (bytes); ``max_pixels``: largest page image
    (pixels; larger PDF pages render at a lower DPI); ``max_pages``: most pages;
    ``pdf_dpi``: the DPI PDF pages are rendered at, ``pdf_min_dpi`` the lowest a
    too-big page may go to; ``engine_timeout``: seconds one engine call may take.
    The service builds them from settings (``OCR_MAX_UPLOAD_BYTES``, ``OCR_MAX_PIXELS``,
    ``OCR_MAX_PAGES``, ``OCR_PDF_DPI``, ``OCR_PDF_MIN_DPI``, ``OCR_TASK_SOFT_TIME_LIMIT``).
    """

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 60_000_000
    max_pages: int = 500
    pdf_dpi: int = 300
    pdf_min_dpi: int = 72
    engine_timeout: float = 600.0


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """One page read: the schema's ``result`` and ``seconds`` of work on it
    (decode or render, preprocessing and the engine, as the tesseract command's
    own time counts)."""

    result: PageResult
    seconds: float


def inspect(data: bytes, limits: Limits) -> inputs.DocumentInfo:
    """Check a document by content without OCR (type, completeness, pages, pixels).

    Raises ``OcrError`` (``unsupported_format``, ``invalid_image``, ``invalid_pdf``,
    ``encrypted_pdf``, ``file_too_large``, ``too_many_pixels``, ``too_many_pages``).
    """
    return inputs.inspect_document(
        data,
        max_bytes=limits.max_bytes,
        max_pixels=limits.max_pixels,
        max_pages=limits.max_pages,
        pdf_dpi=limits.pdf_dpi,
        pdf_min_dpi=limits.pdf_min_dpi,
    )


def read_pages(
    source: bytes,
    content_type: str,
    *,
    engine: OcrEngine,
    options: JobOptions,
    limits: Limits,
    numbers: Iterable[int],
) -> Iterator[PageOutcome]:
    """Read pages ``numbers`` (1-based, ascending) of a checked document, one by one.

    ``source``: the document's bytes; ``content_type`` as :func:`inspect` found it.
    A PDF page with ``options.pdf_text == "use"`` and a text layer of its own gives
    that layer instead of OCR. Raises ``OcrError`` with ``page`` set to the page
    at fault; pages yielded before stay valid.
    """
    wanted = list(numbers)
    if not wanted:
        return
    is_pdf = content_type == inputs.PDF_TYPE
    settings = PageSettings(
        prep=options.preprocess_options(is_pdf=is_pdf),
        max_pixels=limits.max_pixels,
        detect_languages=options.detect_languages,
    )
    engine_options = options.for_engine(
        accepted=engine.accepted_options, timeout=limits.engine_timeout
    )
    pages = inputs.iter_pages(
        io.BytesIO(source),
        content_type,
        max_pixels=limits.max_pixels,
        page_numbers=wanted,
        pdf_dpi=limits.pdf_dpi,
    )
    started = time.perf_counter()
    try:
        for page in pages:
            try:
                result = None
                if is_pdf and options.use_text_layer:
                    from app.pipeline import pdf

                    result = pdf.page_text_layer(
                        io.BytesIO(source),
                        page.number,
                        limits.pdf_dpi,
                        max_pixels=limits.max_pixels,
                    )
                if result is None:
                    result = ocr_page(
                        engine,
                        page.image,
                        number=page.number,
                        dpi=page.dpi,
                        options=engine_options,
                        settings=settings,
                    )
            except OcrError as exc:
                exc.page = exc.page or page.number
                raise
            finally:
                page.image.close()
            yield PageOutcome(result=result, seconds=time.perf_counter() - started)
            started = time.perf_counter()
    finally:
        pages.close()


def document_of(pages: list[PageResult], *, engine: OcrEngine, options: JobOptions) -> Document:
    """The schema's Document of ``pages`` (in page order) read with ``engine`` and ``options``.

    ``fields`` and ``mrz`` are the first page's that has them (docs/result-schema.md).
    """
    return Document(
        engine=options.engine,
        engine_version=engine.info().version,
        languages=list(options.languages),
        pages=pages,
        fields=next((p.fields for p in pages if p.fields), None),
        mrz=next((p.mrz for p in pages if p.mrz), None),
    )


def summary_of(results: Iterable[dict[str, Any]], *, engine: OcrEngine, options: JobOptions):
    """The job's ``result`` summary: engine, engine_version, languages, and the first
    non-empty ``fields``/``mrz`` among the page ``results`` (schema dicts, page order)."""
    first: dict[str, Any] = {}
    for result in results:
        for key in ("fields", "mrz"):
            if key not in first and result.get(key):
                first[key] = result[key]
        if len(first) == 2:
            break
    return {
        "engine": options.engine,
        "engine_version": engine.info().version,
        "languages": list(options.languages),
        **first,
    }
