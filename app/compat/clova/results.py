"""Our result schema as CLOVA General OCR's answer.

Shape (NAVER Cloud, "General OCR" response body,
https://api.ncloud-docs.com/docs/ai-application-service-ocr-ocr)::

    {"version": "V2", "requestId", "timestamp" (ms, of the answer),
     "images": [{"uid", "name", "inferResult": "SUCCESS", "message": "SUCCESS",
                 "validationResult": {"result": "NO_REQUESTED"},
                 "convertedImageInfo": {"width", "height", "pageIndex", "longImage"},
                 "fields": [{"valueType": "ALL", "boundingPoly": {"vertices": [4 x {x, y}]},
                             "inferText", "inferConfidence", "type": "NORMAL",
                             "lineBreak"}]}]}

- One ``images[]`` entry per page of the document, in page order, with
  ``convertedImageInfo.pageIndex`` = page number - 1 (a PDF or TIFF of n pages gives n
  entries, as CLOVA converts each page to an image; our CLOVA engine,
  app/engines/providers/clova.py, reads them so). ``uid`` is the job's id (32 hex
  digits, the same for every page of a job) and ``name`` the request's image name.
- ``width``/``height``: the page image as OCRed, in pixels (a PDF page rendered at
  ``OCR_PDF_DPI``); every vertex is in that pixel space.
- ``fields``: the page's words in reading order (blocks, lines, words); a line
  without words is one field of its text. ``lineBreak`` is true on a line's last
  field. ``boundingPoly.vertices``: the engine's 4-point polygon when it has one,
  else the word's box corners, clockwise from the top left. ``inferConfidence``: our
  0-100 confidence / 100 (1.0 when the engine gives none).
- A job that failed reads as one entry with ``inferResult`` ``FAILURE`` (the
  document could not be read: a 4xx code of ours) or ``ERROR`` (recognition failed
  on our side), our message as ``message`` and no fields, as CLOVA answers an image
  it could not read.
"""

from __future__ import annotations

import time
from typing import Any

from app.compat.clova.errors import CLOVA_ERRORS
from app.pipeline.schema import BBox, Document, Line, PageResult


def answer(*, request_id: Any, images: list[dict[str, Any]]) -> dict[str, Any]:
    """The top-level body around ``images``."""
    return {
        "version": "V2",
        "requestId": request_id,
        "timestamp": int(time.time() * 1000),
        "images": images,
    }


def page_images(document: Document, *, uid: str, name: str) -> list[dict[str, Any]]:
    """The ``images[]`` entries of a done job's ``document``, one per page."""
    return [
        {
            "uid": uid,
            "name": name,
            "inferResult": "SUCCESS",
            "message": "SUCCESS",
            "validationResult": {"result": "NO_REQUESTED"},
            "convertedImageInfo": {
                "width": int(page.width),
                "height": int(page.height),
                "pageIndex": page.number - 1,
                "longImage": False,
            },
            "fields": page_fields(page),
        }
        for page in document.pages
    ]


def failed_image(*, uid: str, name: str, code: str, message: str) -> dict[str, Any]:
    """The one ``images[]`` entry of a job that failed with our ``code``."""
    clova = CLOVA_ERRORS.get(code)
    result = "FAILURE" if clova is not None and clova.status < 500 else "ERROR"
    return {
        "uid": uid,
        "name": name,
        "inferResult": result,
        "message": message or code,
        "validationResult": {"result": "NO_REQUESTED"},
        "fields": [],
    }


def page_fields(page: PageResult) -> list[dict[str, Any]]:
    """A page's fields: its words in reading order, ``lineBreak`` ending each line."""
    fields: list[dict[str, Any]] = []
    for block in page.blocks:
        for line in block.lines:
            line_fields = [
                _field(text, bbox, polygon, confidence)
                for text, bbox, polygon, confidence in _pieces(line)
            ]
            if line_fields:
                line_fields[-1]["lineBreak"] = True
                fields.extend(line_fields)
    return fields


def _pieces(line: Line) -> list[tuple[str, BBox, Any, float | None]]:
    """``(text, bbox, polygon, confidence)`` of a line's non-empty words, or of the
    line itself when it has no words."""
    if line.words:
        return [
            (word.text.strip(), word.bbox, word.polygon, word.confidence)
            for word in line.words
            if word.text.strip()
        ]
    text = " ".join(line.text.split())
    return [(text, line.bbox, line.polygon, line.confidence)] if text else []


def _field(text: str, bbox: BBox, polygon: Any, confidence: float | None) -> dict[str, Any]:
    return {
        "valueType": "ALL",
        "boundingPoly": {"vertices": vertices(bbox, polygon)},
        "inferText": text,
        "inferConfidence": _confidence(confidence),
        "type": "NORMAL",
        "lineBreak": False,
    }


def vertices(bbox: BBox, polygon: Any = None) -> list[dict[str, float]]:
    """4 ``{"x", "y"}`` points (pixels, floats as CLOVA writes them), clockwise from the
    top left: the engine's own 4-point ``polygon`` when it has one, else ``bbox``'s
    corners (``[left, top, right, bottom]``)."""
    if polygon and len(polygon) == 4:
        points = [(p[0], p[1]) for p in polygon]
    else:
        left, top, right, bottom = bbox
        points = [(left, top), (right, top), (right, bottom), (left, bottom)]
    return [{"x": float(x), "y": float(y)} for x, y in points]


def _confidence(value: float | None) -> float:
    if value is None:
        return 1.0
    return round(min(100.0, max(0.0, float(value))) / 100.0, 4)
