"""Our job and its MRZ result as Chekin's scan object.

The object (Chekin's API reference, "OCR Web", "Get Scan status & Data"): ``id``,
``picture_file`` (a URL of the picture), ``mrz_detected``, ``status``, ``type_doc``,
``country``, ``date_of_birth``, ``expiration_date``, ``names``, ``surname``,
``nationality``, ``number``, ``sex``, ``valid_composite``, ``valid_date_of_birth``,
``valid_expiration_date``, ``valid_number``, ``valid_score``. Until a machine
readable zone is read the fields are null, the ``valid_*`` flags false and
``valid_score`` null, as in the reference's answer to the upload.

- ``status``: our ``pending`` -> ``NEW``, ``processing`` -> ``PRO``, ``done`` ->
  ``COM``, ``failed``/``canceled`` -> ``ERR``. A picture read to the end without an
  MRZ is ``COM`` with ``mrz_detected: false`` (the processing completed; ``ERR`` is
  "Error during image processing").
- Dates: v2 ``YYYY-MM-DD`` ("The format of the fields related to the date is:
  YYYY-MM-DD"); v1 as its example gives them, the MRZ's ``YYMMDD`` (``"400515"``).
- ``type_doc``: ``P`` (passports), ``ID`` (identity cards: document codes ``I``,
  ``A``, ``C``), ``IX`` (residence permits: the code ``IX``); a visa keeps its code
  (``V``), which Chekin does not list.
- ``valid_*``: the ICAO check digits (app/engines/mrz/icao.py); a layout without a
  composite check digit (visas) reads ``valid_composite: false``. ``valid_score``:
  the percentage of the layout's check digits that hold (0-100).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.pipeline.schema import Document

#: Our job statuses -> Chekin's.
STATUSES = {
    "pending": "NEW",
    "processing": "PRO",
    "done": "COM",
    "failed": "ERR",
    "canceled": "ERR",
}
#: Fields copied from our MRZ result (app/engines/mrz/icao.py) as they are.
TEXT_FIELDS = ("country", "names", "surname", "nationality", "number", "sex")
DATE_FIELDS = ("date_of_birth", "expiration_date")
FLAGS = ("valid_composite", "valid_date_of_birth", "valid_expiration_date", "valid_number")
#: Document codes (the first characters of the MRZ) of identity cards.
_CARD_CODES = ("I", "A", "C")


def scan(
    *,
    scan_id: int | str,
    picture_url: str,
    status: str,
    mrz: dict[str, Any] | None,
    version: str,
) -> dict[str, Any]:
    """The scan object of a job in ``status`` (ours) whose MRZ result is ``mrz`` (None
    while not done), with dates written for API ``version`` (``"1"`` or ``"2"``)."""
    body: dict[str, Any] = {  # in the reference's order
        "id": scan_id,
        "picture_file": picture_url,
        "mrz_detected": False,
        "status": STATUSES.get(status, "PRO"),
        "type_doc": None,
        "country": None,
        "date_of_birth": None,
        "expiration_date": None,
        "names": None,
        "surname": None,
        "nationality": None,
        "number": None,
        "sex": None,
        **{name: False for name in FLAGS},
        "valid_score": None,
    }
    if status != "done" or not mrz or not mrz.get("mrz_detected"):
        return body
    body["mrz_detected"] = True
    body["type_doc"] = type_doc(mrz)
    for name in TEXT_FIELDS:
        body[name] = mrz.get(name) or None
    for name in DATE_FIELDS:
        body[name] = date(mrz.get(name), version)
    for name in FLAGS:
        body[name] = bool(mrz.get(name))
    score = mrz.get("valid_score")
    body["valid_score"] = int(score) if isinstance(score, int | float) else None
    return body


def page_mrz(document: Document | None) -> dict[str, Any] | None:
    """The MRZ result of the first page where one was read, else the document's."""
    if document is None:
        return None
    for page in document.pages:
        if page.mrz and page.mrz.get("mrz_detected"):
            return page.mrz
    return document.mrz


def type_doc(mrz: dict[str, Any]) -> str | None:
    """Chekin's ``type_doc`` from the MRZ's document code (``P<`` -> ``P``, ``I<`` ->
    ``ID``, ``IX`` -> ``IX``)."""
    raw = mrz.get("raw") or []
    code = (raw[0][:2] if raw else mrz.get("type_doc") or "").replace("<", "")
    if not code:
        return None
    if code == "IX":
        return "IX"
    if code[0] == "P":
        return "P"
    if code[0] in _CARD_CODES:
        return "ID"
    return code


def date(iso: str | None, version: str) -> str | None:
    """An ISO date as API ``version`` writes it: ``YYYY-MM-DD`` (v2) or ``YYMMDD`` (v1)."""
    if not iso:
        return None
    if version == "2":
        return iso
    try:
        return dt.date.fromisoformat(iso).strftime("%y%m%d")
    except ValueError:
        return None
