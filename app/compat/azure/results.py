"""Our result schema as Azure's analyze operation and ``analyzeResult``.

Fields (docs/result-schema.md -> Azure REST 2024-11-30):

- ``content``: every line's words joined by one space; lines, paragraphs (our
  blocks) and pages joined by ``\\n`` (``outputContentFormat=text``), or paragraphs
  by a blank line and pages by ``<!-- PageBreak -->`` (``markdown``, plain text).
- ``pages[]``: ``pageNumber`` = page ``number``; ``width``/``height`` in pixels
  (``unit: pixel``) for images, in inches (``unit: inch``, pixels / the page's
  ``dpi``) for PDFs; ``angle`` 0 (boxes are in the page as OCRed: upright and
  deskewed, the pixel space of our boxes and of the searchable PDF); ``words[]``
  (``content``, ``polygon`` from the ``bbox`` clockwise from top-left, or the
  engine's own 4-point ``polygon``; ``confidence`` = ours / 100, 1.0 when the engine
  gives none; ``span``), ``lines[]`` (``content``, ``polygon``, ``spans``),
  ``spans``.
- ``paragraphs[]``: one per block: ``content``, ``spans``, ``boundingRegions``.
- ``styles``: empty.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.compat.azure.errors import job_error
from app.compat.azure.submission import MODEL_ID, ResultOptions
from app.compat.azure.text import ContentBuilder, clean_word
from app.pipeline.schema import BBox, Document, Line, PageResult

#: Our job statuses -> Azure's operation statuses.
STATUSES = {
    "pending": "notStarted",
    "processing": "running",
    "done": "succeeded",
    "failed": "failed",
    "canceled": "canceled",
}
#: A PDF page's resolution when its ``dpi`` is unknown (as the PDF export assumes).
DEFAULT_DPI = 300
PAGE_BREAK_MARKDOWN = "\n\n<!-- PageBreak -->\n\n"


def iso(moment: datetime) -> str:
    """``2024-11-30T10:20:30Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def operation(
    *,
    status: str,
    created_at: datetime,
    updated_at: datetime,
    error_code: str = "",
    error_message: str = "",
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of ``GET .../analyzeResults/{id}`` for a job in ``status`` (ours)."""
    body: dict[str, Any] = {
        "status": STATUSES.get(status, "running"),
        "createdDateTime": iso(created_at),
        "lastUpdatedDateTime": iso(updated_at),
    }
    if status == "failed":
        body["error"] = job_error(error_code, error_message)
    if result is not None:
        body["analyzeResult"] = result
    return body


def analyze_result(
    document: Document,
    *,
    options: ResultOptions,
    api_version: str,
    is_pdf: bool,
    with_content_format: bool = True,
) -> dict[str, Any]:
    """The ``analyzeResult`` of a done job's ``document``; ``is_pdf``: the upload was
    a PDF (inches, else pixels); ``with_content_format``: the API version has
    ``contentFormat`` (2023-10-31 and later)."""
    markdown = options.content_format == "markdown"
    block_sep = "\n\n" if markdown else "\n"
    page_sep = PAGE_BREAK_MARKDOWN if markdown else "\n"
    builder = ContentBuilder(options.index_type)
    pages: list[dict[str, Any]] = []
    paragraphs: list[dict[str, Any]] = []
    for page in document.pages:
        scale = 1.0 / (page.dpi or DEFAULT_DPI) if is_pdf else 1.0
        words: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        page_start: int | None = None
        sep = page_sep if builder.offset else ""
        for block in page.blocks:
            block_start: int | None = None
            texts: list[str] = []
            for line in block.lines:
                pieces = _pieces(line)
                if not pieces:
                    continue
                if sep:
                    builder.add(sep)
                sep = "\n"
                line_start = builder.offset
                block_start = line_start if block_start is None else block_start
                page_start = line_start if page_start is None else page_start
                for i, (word, text) in enumerate(pieces):
                    if i:
                        builder.add(" ")
                    span = builder.add(text)
                    if word is not None:
                        words.append(
                            {
                                "content": text,
                                "polygon": _polygon(word.bbox, word.polygon, scale),
                                "confidence": _confidence(word.confidence),
                                "span": span,
                            }
                        )
                content = " ".join(text for _, text in pieces)
                texts.append(content)
                lines.append(
                    {
                        "content": content,
                        "polygon": _polygon(line.bbox, line.polygon, scale),
                        "spans": [builder.span(line_start, builder.offset)],
                    }
                )
            if block_start is not None:
                paragraphs.append(
                    {
                        "spans": [builder.span(block_start, builder.offset)],
                        "boundingRegions": [
                            {
                                "pageNumber": page.number,
                                "polygon": _polygon(block.bbox, block.polygon, scale),
                            }
                        ],
                        "content": "\n".join(texts),
                    }
                )
                sep = block_sep
        pages.append(_page(page, is_pdf, scale, words, lines, builder, page_start))
    result: dict[str, Any] = {
        "apiVersion": api_version,
        "modelId": MODEL_ID,
        "stringIndexType": options.index_type,
        "content": builder.content,
        "pages": pages,
        "paragraphs": paragraphs,
        "styles": [],
    }
    if with_content_format:
        result["contentFormat"] = options.content_format
    return result


def _pieces(line: Line) -> list[tuple[Any, str]]:
    """``(word or None, text)`` of a line as it goes into the content: its words
    (cleaned, empty ones dropped), or its text for a line without words."""
    if line.words:
        cleaned = ((word, clean_word(word.text)) for word in line.words)
        return [(word, text) for word, text in cleaned if text]
    text = clean_word(line.text)
    return [(None, text)] if text else []


def _page(
    page: PageResult,
    is_pdf: bool,
    scale: float,
    words: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    builder: ContentBuilder,
    start: int | None,
) -> dict[str, Any]:
    start = builder.offset if start is None else start
    return {
        "pageNumber": page.number,
        "angle": 0.0,
        "width": _measure(page.width, scale),
        "height": _measure(page.height, scale),
        "unit": "inch" if is_pdf else "pixel",
        "words": words,
        "lines": lines,
        "spans": [builder.span(start, builder.offset)],
    }


def _measure(value: float, scale: float) -> float | int:
    return int(value) if scale == 1.0 else round(value * scale, 4)


def _polygon(bbox: BBox, polygon: Any, scale: float) -> list[float | int]:
    """8 numbers, x and y of the corners clockwise from the top left: the engine's own
    4-point polygon when it has one, else the box's corners."""
    if polygon and len(polygon) == 4:
        points = [(p[0], p[1]) for p in polygon]
    else:
        left, top, right, bottom = bbox
        points = [(left, top), (right, top), (right, bottom), (left, bottom)]
    return [_measure(v, scale) for point in points for v in point]


def _confidence(value: float | None) -> float:
    if value is None:
        return 1.0
    return round(min(100.0, max(0.0, float(value))) / 100.0, 3)
