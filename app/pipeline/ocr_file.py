"""OCR a local file in this process with the same checks and engines as a job.

Used by ``manage.py ocr``; no database, no queue.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from app.engines import registry
from app.engines.base import EngineOptions
from app.pipeline import inputs
from app.pipeline.preprocess import PreprocessOptions
from app.pipeline.run import PageSettings, ocr_page
from app.pipeline.schema import Document


def ocr_path(
    path: Path,
    *,
    engine: str = "tesseract",
    languages: tuple[str, ...] = ("eng",),
    psm: int | None = None,
    pages: str | None = None,
    prep: PreprocessOptions | None = None,
) -> Document:
    """OCR every page of the file at ``path`` as a job would; raises ``OcrError`` or ``OSError``.

    ``prep`` sets orientation/deskew/clean/DPI handling (default: as jobs).
    """
    data = Path(path).read_bytes()
    options = EngineOptions(languages=languages, psm=psm)
    eng = registry.checked_engine(engine, options)
    info = inputs.inspect_document(
        data,
        max_bytes=settings.OCR_MAX_UPLOAD_BYTES,
        max_pixels=settings.OCR_MAX_PIXELS,
        max_pages=settings.OCR_MAX_PAGES,
        pdf_dpi=settings.OCR_PDF_DPI,
        pdf_min_dpi=settings.OCR_PDF_MIN_DPI,
    )
    numbers = None
    if pages:
        from app.pipeline.pages import parse_page_ranges

        numbers = parse_page_ranges(pages, info.page_count)
    page_settings = PageSettings(
        prep=prep or PreprocessOptions(),
        max_pixels=settings.OCR_MAX_PIXELS,
    )
    out = []
    for page in inputs.iter_pages(
        path,
        info.content_type,
        max_pixels=settings.OCR_MAX_PIXELS,
        page_numbers=numbers,
        pdf_dpi=settings.OCR_PDF_DPI,
    ):
        out.append(
            ocr_page(
                eng,
                page.image,
                number=page.number,
                dpi=page.dpi,
                options=options,
                settings=page_settings,
            )
        )
        page.image.close()
    return Document(
        engine=engine,
        engine_version=eng.info().version,
        languages=list(languages),
        pages=out,
        fields=next((p.fields for p in out if p.fields), None),
        mrz=next((p.mrz for p in out if p.mrz), None),
    )
