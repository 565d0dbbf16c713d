"""Scan ids: v1 integers, v2 32-hex strings, both naming one of our jobs.

Chekin's API reference, "OCR Web": v1 answers ``"id": 15`` and is read at
``/api/v1/tools/ocr/data/458/``; v2 answers ``"id": "64672caf4d2140e19d68b222fa0da318"``.
Here the v2 id is the job's UUID as 32 lowercase hex digits, and the v1 id the job's
number (:func:`app.services.job_number`, a ``CompatNumber`` row made when a v1 scan
is created). A scan is found only among the key owner's own jobs that came through
this API (``Job.source == "chekin"``); anything else, another user's job included,
is the 404 of a scan that does not exist.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from app import selectors, services
from app.compat.chekin.errors import not_found
from app.errors import OcrError
from app.models import Job

#: ``Job.source`` of the jobs made through this API.
SOURCE = "chekin"
VERSIONS = ("1", "2")

_HEX_ID = re.compile(r"^[0-9a-fA-F]{32}$")
_NUMBER = re.compile(r"^[1-9][0-9]{0,17}$")


def scan_id(job: Job, version: str) -> int | str:
    """The id ``job`` shows in API ``version`` (``"1"``: an integer, ``"2"``: 32 hex)."""
    if version == "1":
        return services.job_number(job=job)
    return job.id.hex


def scan_job(owner: Any, version: str, raw: str) -> Job:
    """The job of scan id ``raw`` (as written in API ``version``) if ``owner`` made it
    through this API; else ``ChekinError`` 404."""
    job_id = _job_id(version, raw)
    if job_id is None:
        raise not_found()
    try:
        return selectors.compat_job_get(owner=owner, job_id=job_id, source=SOURCE)
    except OcrError:
        raise not_found() from None


def _job_id(version: str, raw: str) -> uuid.UUID | None:
    if version == "1":
        if not _NUMBER.match(raw):
            return None
        return selectors.job_id_by_number(int(raw))
    if not _HEX_ID.match(raw):
        return None
    return uuid.UUID(hex=raw)
