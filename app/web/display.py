"""Presentation helpers for the browser pages and the admin: names, units, boxes.

Pure functions over models and schema dicts; no queries beyond what they are
handed, no writes. The API URLs the pages use live here so the templates and
scripts agree on one spelling of the contract with ``app/api``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.errors import ERROR_CODES, error_message
from app.pipeline.exporters import EXPORT_FORMATS

#: Human names of the Tesseract language codes installed by the Makefile (and a few more).
LANGUAGE_NAMES: dict[str, str] = {
    "eng": "English",
    "deu": "German",
    "fra": "French",
    "spa": "Spanish",
    "por": "Portuguese",
    "ita": "Italian",
    "nld": "Dutch",
    "vie": "Vietnamese",
    "kor": "Korean",
    "jpn": "Japanese",
    "chi_sim": "Chinese (simplified)",
    "chi_tra": "Chinese (traditional)",
    "rus": "Russian",
    "ukr": "Ukrainian",
    "pol": "Polish",
    "tur": "Turkish",
    "ara": "Arabic",
    "hin": "Hindi",
    "mrz": "Machine-readable zone",
    "ocrb": "OCR-B",
}

#: Codes that are not languages a person picks (orientation data, test data).
HIDDEN_LANGUAGES = frozenset({"osd", "equ", "snum"})

#: What each stable error code means, in words (the API's message adds detail): a view
#: of :data:`app.errors.ERROR_CODES` for the upload page's script, not a second table.
ERROR_MESSAGES: dict[str, str] = {c.code: c.message for c in ERROR_CODES.values()}


def language_label(code: str) -> str:
    """``"English"`` for ``"eng"``; the code itself when unknown."""
    return LANGUAGE_NAMES.get(code, code)


def error_text(code: str) -> str:
    """The human message of an error code from :data:`app.errors.ERROR_CODES` (empty for none)."""
    return error_message(code)


def page_image_url(job_id: Any, number: int, max_width: int | None = None) -> str:
    """``/api/ocr/{id}/pages/{n}/image/``: the page as OCRed (box coordinate space)."""
    url = f"/api/ocr/{job_id}/pages/{number}/image/"
    return f"{url}?max_width={max_width}" if max_width else url


def export_links(job_id: Any) -> list[dict[str, str]]:
    """One download link per format in ``EXPORT_FORMATS`` (name, title, url, extension)."""
    return [
        {
            "name": fmt.name,
            "title": fmt.title,
            "extension": fmt.extension,
            "url": f"/api/ocr/{job_id}/export/?format={fmt.name}",
        }
        for fmt in EXPORT_FORMATS.values()
    ]


def batch_export_links(batch_id: Any) -> list[dict[str, str]]:
    """One zip download per format (``/api/batches/{id}/export/?format=...``): name,
    title, extension and url, in the order of ``EXPORT_FORMATS``."""
    return [
        {
            "name": fmt.name,
            "title": fmt.title,
            "extension": fmt.extension,
            "url": f"/api/batches/{batch_id}/export/?format={fmt.name}",
        }
        for fmt in EXPORT_FORMATS.values()
    ]


def human_duration(seconds: float | None) -> str:
    """``"0.8 s"``, ``"12 s"``, ``"3 min 5 s"``; empty for None."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest} s"


def confidence_class(confidence: float | None) -> str:
    """CSS class of a word box by confidence: ``hi`` (>= 85), ``mid`` (>= 60), ``lo``."""
    if confidence is None:
        return "na"
    if confidence >= 85:
        return "hi"
    if confidence >= 60:
        return "mid"
    return "lo"


@dataclass(frozen=True, slots=True)
class WordBox:
    """A recognised word to draw over the page image (pixels of that image)."""

    text: str
    left: int
    top: int
    width: int
    height: int
    confidence: float | None
    css: str

    @property
    def label(self) -> str:
        """``"word - 96%"`` (what hovering or focusing the box shows)."""
        if self.confidence is None:
            return self.text
        return f"{self.text} \u2014 {self.confidence:.0f}%"


def word_boxes(result: dict[str, Any] | None) -> list[WordBox]:
    """Every word of a schema Page dict, in reading order."""
    boxes: list[WordBox] = []
    for block in (result or {}).get("blocks") or []:
        for line in block.get("lines") or []:
            for word in line.get("words") or []:
                bbox = word.get("bbox") or [0, 0, 0, 0]
                left, top, right, bottom = (int(v) for v in bbox)
                conf = word.get("confidence")
                boxes.append(
                    WordBox(
                        text=word.get("text", ""),
                        left=left,
                        top=top,
                        width=max(1, right - left),
                        height=max(1, bottom - top),
                        confidence=conf,
                        css=confidence_class(conf),
                    )
                )
    return boxes
