"""Chekin OCR scan records as its API answers them (``GET /api/v3/tools/ocr/data/{id}/``,
docs/compat.md "Chekin OCR"): shared by the provider's tests, which play Chekin's server,
and the drop-in's, which check what onlineocr answers in its place.

- :data:`NEW_SCAN`: a scan just made (status ``NEW``), nothing read yet. Callers set
  ``id`` and ``picture_file``.
- :data:`ERIKSSON_READ`: what a finished (``COM``) scan of the ICAO Doc 9303 part 4 TD3
  specimen holds (Anna Maria Eriksson, L898902C3), every check digit valid.
"""

from __future__ import annotations

from typing import Any

NEW_SCAN: dict[str, Any] = {
    "id": None,
    "picture_file": None,
    "mrz_detected": False,
    "status": "NEW",
    "type_doc": None,
    "country": None,
    "date_of_birth": None,
    "expiration_date": None,
    "names": None,
    "surname": None,
    "nationality": None,
    "number": None,
    "sex": None,
    "valid_composite": False,
    "valid_date_of_birth": False,
    "valid_expiration_date": False,
    "valid_number": False,
    "valid_score": None,
}

ERIKSSON_READ: dict[str, Any] = {
    "mrz_detected": True,
    "status": "COM",
    "type_doc": "P",
    "country": "UTO",
    "date_of_birth": "1974-08-12",
    "expiration_date": "2012-04-15",
    "names": "ANNA MARIA",
    "surname": "ERIKSSON",
    "nationality": "UTO",
    "number": "L898902C3",
    "sex": "F",
    "valid_composite": True,
    "valid_date_of_birth": True,
    "valid_expiration_date": True,
    "valid_number": True,
    "valid_score": 100,
}
