"""Export formats: the result schema as text, JSON, hOCR, ALTO, TSV or searchable PDF.

Exporters are pure code: they read only :mod:`app.pipeline.schema` (no Django,
no ORM), so every engine gets every format. One module per format:

========  ===========================================  =========  =====================
name      media type                                   extension  spec
========  ===========================================  =========  =====================
txt       ``text/plain; charset=utf-8``                ``.txt``   docs/result-schema.md
json      ``application/json``                         ``.json``  docs/result-schema.md
hocr      ``application/xhtml+xml; charset=utf-8``     ``.hocr``  hOCR 1.2
alto      ``application/xml``                          ``.xml``   ALTO 4.4 XSD
tsv       ``text/tab-separated-values; charset=utf-8`` ``.tsv``   Tesseract TSV
pdf       ``application/pdf``                          ``.pdf``   ISO 32000 (PDF 1.4)
========  ===========================================  =========  =====================

Use :func:`export` for bytes or :func:`export_to` to stream into a file (large
documents). Only ``pdf`` needs ``page_image``: a callable ``page_number ->
PIL.Image.Image`` returning the image each page was OCRed from (the pixels its
boxes refer to), called once per page in order.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from PIL import Image

from app.pipeline.exporters import alto, hocr, pdf, tsv, txt
from app.pipeline.exporters import json as json_export
from app.pipeline.schema import Document

PageImage = Callable[[int], Image.Image]
Writer = Callable[[Document, IO[bytes], "PageImage | None"], None]


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """One export format: its key, HTTP media type, file extension and writer.

    ``write(document, out, page_image)`` writes the export to the binary
    stream ``out``; ``needs_page_images`` tells whether ``page_image`` is used.
    """

    name: str
    title: str
    media_type: str
    extension: str
    write: Writer
    needs_page_images: bool = False

    @property
    def filename_suffix(self) -> str:
        """The extension with its dot, e.g. ``".hocr"``."""
        return "." + self.extension


def _write_pdf(document: Document, out: IO[bytes], page_image: PageImage | None) -> None:
    if page_image is None:
        raise ValueError("the pdf export needs page_image (page number -> PIL image)")
    pdf.write(document, out, page_image=page_image)


EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "txt",
            "Plain text",
            "text/plain; charset=utf-8",
            "txt",
            lambda d, o, _i: txt.write(d, o),
        ),
        ExportFormat(
            "json",
            "JSON (result schema)",
            "application/json",
            "json",
            lambda d, o, _i: json_export.write(d, o, indent=2),
        ),
        ExportFormat(
            "hocr",
            "hOCR",
            "application/xhtml+xml; charset=utf-8",
            "hocr",
            lambda d, o, _i: hocr.write(d, o),
        ),
        ExportFormat(
            "alto",
            "ALTO XML",
            "application/xml",
            "xml",
            lambda d, o, _i: alto.write(d, o),
        ),
        ExportFormat(
            "tsv",
            "Tesseract TSV",
            "text/tab-separated-values; charset=utf-8",
            "tsv",
            lambda d, o, _i: tsv.write(d, o),
        ),
        ExportFormat(
            "pdf",
            "Searchable PDF",
            "application/pdf",
            "pdf",
            _write_pdf,
            needs_page_images=True,
        ),
    )
}


def get_format(fmt: str) -> ExportFormat:
    """The :class:`ExportFormat` called ``fmt``; ``ValueError`` for an unknown name."""
    try:
        return EXPORT_FORMATS[fmt]
    except KeyError:
        raise ValueError(
            f"unknown export format {fmt!r}; known: {', '.join(EXPORT_FORMATS)}"
        ) from None


def export_to(
    document: Document, fmt: str, out: IO[bytes], *, page_image: PageImage | None = None
) -> None:
    """Write ``document`` in format ``fmt`` to the binary stream ``out``.

    Raises ``ValueError`` for an unknown format, or when ``fmt`` is ``pdf`` and
    ``page_image`` is missing.
    """
    spec = get_format(fmt)
    if spec.needs_page_images and page_image is None:
        raise ValueError(f"the {fmt} export needs page_image (page number -> PIL image)")
    spec.write(document, out, page_image)


def export(document: Document, fmt: str, *, page_image: PageImage | None = None) -> bytes:
    """``document`` in format ``fmt`` as bytes (see :func:`export_to`)."""
    buf = io.BytesIO()
    export_to(document, fmt, buf, page_image=page_image)
    return buf.getvalue()


__all__ = ["EXPORT_FORMATS", "ExportFormat", "PageImage", "export", "export_to", "get_format"]
