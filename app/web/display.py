"""Presentation helpers for the browser pages and the admin: names, units, boxes.

Pure functions over models and schema dicts; no queries beyond what they are
handed, no writes. The API URLs the pages use live here so the templates and
scripts agree on one spelling of the contract with ``app/api``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    "auto": "Detected automatically",  # languages=auto (docs/languages-auto.md)
}

#: Codes that are not languages a person picks (orientation data, test data).
HIDDEN_LANGUAGES = frozenset({"osd", "equ", "snum"})

#: What each stable error code means, in words (the API's message adds detail): a view
#: of :data:`app.errors.ERROR_CODES` for the upload page's script, not a second table.
ERROR_MESSAGES: dict[str, str] = {c.code: c.message for c in ERROR_CODES.values()}


def language_label(code: str) -> str:
    """``"English"`` for ``"eng"``; the code itself when unknown."""
    return LANGUAGE_NAMES.get(code, code)


#: Short engine names for a job's header (the registry's titles are for the menus).
ENGINE_LABELS = {
    "auto": "Automatic engine",
    "tesseract": "Tesseract",
    "ppocr": "PP-OCR",
    "mrz": "MRZ",
}


def engine_label(name: str) -> str:
    """``"Automatic engine"`` for ``"auto"``, ``"PP-OCR"`` for ``"ppocr"``; other engine
    names (providers, ``mrz``) capitalised."""
    return ENGINE_LABELS.get(name, name[:1].upper() + name[1:])


def job_languages(codes: list[str], results: list[dict[str, Any]]) -> list[str]:
    """A job's languages for its header: their names; with ``languages=auto`` the
    languages found on its pages (``detected_languages`` of each page result,
    docs/languages-auto.md) as ``"detected: German"``, or nothing while no page has
    them (before the first page is read, or for an engine that reads no language,
    such as ``mrz``)."""
    if codes != ["auto"]:
        return [language_label(c) for c in codes]
    found: list[str] = []
    for result in results:
        for code in (result or {}).get("detected_languages") or []:
            if code not in found:
                found.append(code)
    if not found:
        return []
    return ["detected: " + ", ".join(language_label(c) for c in found)]


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
    #: Index of the word's line in the page (reading order), to link lines both ways.
    line: int = 0

    @property
    def label(self) -> str:
        """``"word - 96%"`` (what hovering or focusing the box shows)."""
        if self.confidence is None:
            return self.text
        return f"{self.text} \u2014 {self.confidence:.0f}%"


def word_boxes(result: dict[str, Any] | None) -> list[WordBox]:
    """Every word of a schema Page dict, in reading order."""
    boxes: list[WordBox] = []
    line_index = -1
    for block in (result or {}).get("blocks") or []:
        for line in block.get("lines") or []:
            line_index += 1
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
                        line=line_index,
                    )
                )
    return boxes


# ---- the job page's text panel, key-value table and failure card ----------------------


@dataclass(frozen=True, slots=True)
class TextLine:
    """A line of the text panel: its words (index into :func:`word_boxes`) or, for a
    line without word boxes (provider fields), its text alone."""

    index: int
    text: str
    words: list[tuple[int, str]] = field(default_factory=list)


def text_blocks(result: dict[str, Any] | None) -> list[list[TextLine]]:
    """The page's lines grouped by block, in reading order, with the word indices of
    :func:`word_boxes` (same order), so the text and the boxes can point at each other."""
    blocks: list[list[TextLine]] = []
    word_index = line_index = 0
    for block in (result or {}).get("blocks") or []:
        lines: list[TextLine] = []
        for line in block.get("lines") or []:
            words = []
            for word in line.get("words") or []:
                words.append((word_index, word.get("text", "")))
                word_index += 1
            lines.append(TextLine(index=line_index, text=line.get("text", ""), words=words))
            line_index += 1
        if any(ln.text or ln.words for ln in lines):
            blocks.append(lines)
    return blocks


_NAME = r"(?:[A-Z][A-Za-z]*\.)*[A-Z][A-Za-z]*(?:Error|Exception|Exceeded)"
_EXCEPTION_NAME = re.compile(r"\s*\(" + _NAME + r"\)")
_TRAILING_EXCEPTION = re.compile(r":\s*" + _NAME + r"\.?$")


def plain_message(message: str) -> str:
    """An error message without a Python exception name: ``"The image is truncated or
    corrupt (OSError)."`` -> ``"The image is truncated or corrupt."``."""
    text = _EXCEPTION_NAME.sub("", message or "")
    return _TRAILING_EXCEPTION.sub(".", text).strip()


@dataclass(frozen=True, slots=True)
class KeyValue:
    """A row of the key-value table: label, value and, where a check digit or a
    confidence exists, ``valid`` (True/False) or ``confidence`` (0-100)."""

    label: str
    value: str
    valid: bool | None = None
    confidence: float | None = None


#: MRZ result keys (app/engines/mrz/icao.py) -> label and the key of their check digit.
MRZ_ROWS: tuple[tuple[str, str, str | None], ...] = (
    ("type_doc", "Document type", None),
    ("format", "Format", None),
    ("country", "Issuing country", None),
    ("surname", "Surname", None),
    ("names", "Given names", None),
    ("number", "Document number", "valid_number"),
    ("nationality", "Nationality", None),
    ("date_of_birth", "Date of birth", "valid_date_of_birth"),
    ("sex", "Sex", None),
    ("expiration_date", "Expiration date", "valid_expiration_date"),
    ("optional_data", "Optional data", "valid_personal_number"),
)


def mrz_rows(mrz: dict[str, Any] | None) -> list[KeyValue]:
    """The parsed fields of a page's ``mrz`` with their check-digit validity; empty when
    no MRZ was read."""
    if not mrz or not mrz.get("mrz_detected"):
        return []
    rows = []
    for key, label, check in MRZ_ROWS:
        value = mrz.get(key)
        if value in (None, "") and not (check and mrz.get(check) is not None):
            continue
        valid = mrz.get(check) if check else None
        rows.append(KeyValue(label, "" if value is None else str(value), valid=valid))
    if mrz.get("valid_composite") is not None:
        rows.append(KeyValue("Composite check", "whole zone", valid=mrz["valid_composite"]))
    if mrz.get("valid_score") is not None:
        rows.append(KeyValue("Check digits valid", f"{mrz['valid_score']:.0f}%"))
    return rows


def mrz_box(mrz: dict[str, Any] | None) -> dict[str, int] | None:
    """Where the machine-readable zone is on the page (``left, top, width, height``)."""
    bbox = (mrz or {}).get("bbox")
    if not mrz or not mrz.get("mrz_detected") or not bbox or len(bbox) != 4:
        return None
    left, top, right, bottom = (int(v) for v in bbox)
    if right <= left or bottom <= top:
        return None
    return {"left": left, "top": top, "width": right - left, "height": bottom - top}


def field_rows(fields: dict[str, Any] | None) -> list[KeyValue]:
    """A provider's ``fields`` (``{name: {"value", "confidence"}}`` or plain values)."""
    rows = []
    for name, item in (fields or {}).items():
        if isinstance(item, dict):
            value, conf = item.get("value"), item.get("confidence")
        else:
            value, conf = item, None
        label = str(name).replace("_", " ").strip()
        rows.append(
            KeyValue(
                label[:1].upper() + label[1:],
                "" if value is None else str(value),
                confidence=conf if isinstance(conf, int | float) else None,
            )
        )
    return rows


def page_list(numbers: list[int]) -> str:
    """``"page 2"``, ``"pages 1 and 3"``, ``"pages 1, 2 and 4"`` (empty for none)."""
    if not numbers:
        return ""
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    head = ", ".join(str(n) for n in numbers[:-1])
    return f"pages {head} and {numbers[-1]}"
