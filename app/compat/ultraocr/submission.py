"""An UltraOCR request in our terms: the service's job options, the metadata, the file.

- Services (the ``{service}`` path segment): ``text`` reads the page with our default
  engine and languages (``OCR_DEFAULT_ENGINE``, ``OCR_DEFAULT_LANGUAGES``);
  ``passport`` with the local MRZ reader (engine ``mrz``). Any other name: 400
  ``{"message"}``.
- Bodies are JSON whatever the Content-Type says (the Go SDK sends none, C#
  ``text/plain; charset=utf-8``, JS ``text/plain;charset=UTF-8`` for its PUT): empty
  or ``null`` is no metadata; an object or a list is the metadata (a job's, a batch's),
  at most :data:`MAX_METADATA_BYTES` as JSON.
- ``POST .../ocr/job/send/{service}`` (single step) takes ``{"metadata", "data":
  <base64>, "facematch"?, "extra"?}`` (nuveo/ultraocr-sdk-python
  ``send_job_single_step``; its first versions sent the metadata's keys beside
  ``data`` instead, still taken). Only ``data`` is read; a selfie or extra document
  is accepted and ignored.
- Query flags (``?base64=true``, ``facematch=true``, ``extra-document=true``) are
  ``"true"`` or not set, as the SDKs send them.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, QueryDict

from app.api.parsers import loads, ocr_body_limit
from app.compat.body import read_body
from app.compat.ultraocr.errors import bad_request
from app.pipeline import inputs
from app.pipeline.options import JobOptions

SOURCE = "ultraocr"
#: service -> (engine, languages); None: the site's defaults.
SERVICES: dict[str, tuple[str | None, str | None]] = {
    "text": (None, None),
    "passport": ("mrz", "eng"),
}
#: The largest metadata, as JSON text (the limit of ``/api/ocr/``'s metadata).
MAX_METADATA_BYTES = 16_384
#: Keys of a single-step body that are not metadata.
_FILE_KEYS = ("data", "facematch", "extra", "extra-document")


def job_options(service: str) -> JobOptions:
    """The job options of ``service``; 400 for a service not served here."""
    if service not in SERVICES:
        raise bad_request(
            f"Invalid service {service[:50]!r}: this server reads {', '.join(SERVICES)}."
        )
    engine, languages = SERVICES[service]
    return JobOptions.from_request(
        {},
        engine=engine or settings.OCR_DEFAULT_ENGINE,
        languages=languages or settings.OCR_DEFAULT_LANGUAGES,
    )


def service_of(engine: str) -> str:
    """The service a job of ``engine`` was sent to (the inverse of :data:`SERVICES`)."""
    return "passport" if engine == "mrz" else "text"


def flag(query: QueryDict, name: str) -> bool:
    """A query flag the SDKs send as ``name=true``."""
    return query.get(name, "").strip().lower() == "true"


def json_body(request: HttpRequest, limit: int = MAX_METADATA_BYTES * 4) -> Any:
    """The body parsed as JSON whatever its Content-Type; None when empty. 400 when it
    is not JSON."""
    body = read_body(request, limit)
    if not body.strip():
        return None
    try:
        return loads(body)
    except ValueError as exc:
        raise bad_request(f"The body is not valid JSON: {exc}") from None


def check_metadata(value: Any, *, kind: str) -> Any:
    """Metadata as sent: None, an object (a job) or a list (a batch; an object is taken
    too), at most :data:`MAX_METADATA_BYTES`; 400 otherwise."""
    if value is None:
        return None
    if not isinstance(value, dict | list):
        raise bad_request(f"The {kind} metadata must be a JSON object or list.")
    if len(json.dumps(value)) > MAX_METADATA_BYTES:
        raise bad_request(f"The metadata is larger than {MAX_METADATA_BYTES:,} bytes as JSON.")
    return value


def single_step(request: HttpRequest) -> tuple[bytes, Any]:
    """The document and the metadata of a single-step send. Raises ``OcrError``
    (``invalid_image`` for bad base64, ``file_too_large``) or 400."""
    body = json_body(request, ocr_body_limit())
    if not isinstance(body, dict) or not isinstance(body.get("data"), str):
        raise bad_request('The body must be {"metadata": {...}, "data": "<base64 file>"}.')
    if "metadata" in body:
        metadata = body["metadata"]
    else:  # the first SDK versions sent the metadata's keys beside "data"
        metadata = {k: v for k, v in body.items() if k not in _FILE_KEYS} or None
    metadata = check_metadata(metadata, kind="job")
    return inputs.decode_base64(body["data"], field="data"), metadata
