"""Chekin OCR (machine readable zone of passports and ID cards) as an engine.

Docs: Chekin API reference, "OCR Web" (https://api.chekin.io/, source
``source/includes/_ocr_web.md`` of Chekin's slate docs), whose base URL is
``https://api.chekin.io/api/v2`` (the default of ``OCR_CHEKIN_BASE_URL``).
Chekin's newer "OCR Native Integration API v3" guide describes a different
API (``https://a.chekin.io/api/v3/ocr/picture/``, ``Authorization: JWT`` with a
one-hour token from ``/api-token-auth/``); it is not what this engine speaks.

Flow (header ``Authorization: Token {OCR_CHEKIN_TOKEN}``, JSON):

1. ``POST {OCR_CHEKIN_BASE_URL}/tools/ocr/picture/`` with ``{"picture_file":
   "data:image/jpeg;base64,..."}`` -> ``{"id": "...", "status": "NEW", ...}``.
2. Poll ``GET {base}/tools/ocr/data/{id}/`` while ``status`` is ``NEW`` (stored)
   or ``PRO`` (processing), with backoff, until ``COM`` (done) or ``ERR``
   (-> ``provider_error``), for at most ``OCR_PROVIDER_POLL_TIMEOUT`` seconds
   (-> ``timeout``).

The finished answer carries ``mrz_detected``, ``type_doc`` (``P``, ``ID``,
``IX``), ``country``, ``surname``, ``names``, ``number``, ``nationality``,
``date_of_birth`` and ``expiration_date`` (``YYYY-MM-DD``), ``sex``, the
check-digit flags ``valid_number``, ``valid_date_of_birth``,
``valid_expiration_date``, ``valid_composite`` and ``valid_score`` (0-100).
Chekin's names are already ours: they go to ``page.mrz`` unchanged (missing
ones as None). The page text is one ``"Label: value"`` line per field read;
the page confidence is ``valid_score``. No coordinates are returned.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from PIL import Image

from app.engines.base import EngineOptions
from app.engines.providers import _http
from app.engines.providers._common import CloudEngine, b64, encode_image, percent
from app.engines.providers._poll import poll
from app.errors import OcrError
from app.pipeline.schema import Block, Line, PageResult

log = logging.getLogger(__name__)

ENGINE_NAME = "chekin"
PROVIDER = "Chekin"
REQUIRED = ("OCR_CHEKIN_BASE_URL", "OCR_CHEKIN_TOKEN")
PENDING = frozenset({"NEW", "PRO"})
DONE, FAILED = "COM", "ERR"
#: Our ``page.mrz`` key -> Chekin's field name (identical today; kept as a map).
MRZ_FIELDS: dict[str, str] = {
    key: key
    for key in (
        "mrz_detected",
        "type_doc",
        "country",
        "surname",
        "names",
        "number",
        "nationality",
        "date_of_birth",
        "sex",
        "expiration_date",
        "valid_number",
        "valid_date_of_birth",
        "valid_expiration_date",
        "valid_composite",
        "valid_score",
    )
}
#: MRZ keys shown as text lines, with their labels, in reading order.
TEXT_LABELS: dict[str, str] = {
    "type_doc": "Document type",
    "country": "Issuing country",
    "surname": "Surname",
    "names": "Given names",
    "number": "Document number",
    "nationality": "Nationality",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "expiration_date": "Expiration date",
}
EMPTY_BOX = [0, 0, 0, 0]


def parse_result(answer: Mapping[str, Any], *, number: int, width: int, height: int) -> PageResult:
    """A ``COM`` answer -> :class:`PageResult` with ``mrz`` and the fields as text lines."""
    mrz = {ours: answer.get(theirs) for ours, theirs in MRZ_FIELDS.items()}
    mrz["mrz_detected"] = bool(mrz["mrz_detected"])
    confidence = percent(mrz["valid_score"], fraction=False)
    lines = [
        Line(bbox=list(EMPTY_BOX), text=f"{label}: {mrz[key]}", confidence=confidence)
        for key, label in TEXT_LABELS.items()
        if mrz.get(key) not in (None, "")
    ]
    blocks = [Block(bbox=list(EMPTY_BOX), confidence=confidence, lines=lines)] if lines else []
    page = PageResult.from_blocks(number=number, width=width, height=height, blocks=blocks, mrz=mrz)
    page.confidence = confidence if lines else None
    return page


class ChekinEngine(CloudEngine):
    """Chekin OCR (see the module docstring)."""

    name = ENGINE_NAME
    title = "Chekin OCR (MRZ)"
    version = "v2"
    languages = ()
    required = REQUIRED

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.base_url = str(config.get("OCR_CHEKIN_BASE_URL") or "").rstrip("/")
        self._token = str(config.get("OCR_CHEKIN_TOKEN") or "")

    def check_options(self, options: EngineOptions) -> None:
        """Accept any languages: an MRZ is written in the ICAO 9303 OCR-B subset."""

    def _call(self, method: str, url: str, timeout: tuple[float, float], **kwargs: Any) -> Any:
        response = _http.send(
            self.session,
            method,
            url,
            provider=PROVIDER,
            timeout=timeout,
            headers={"Authorization": f"Token {self._token}"},
            **kwargs,
        )
        _http.check_status(response, provider=PROVIDER, secrets=[self._token])
        body = _http.json_body(response, provider=PROVIDER)
        if not isinstance(body, dict):
            raise OcrError("provider_error", f"{PROVIDER} answered with an unexpected body.")
        return _http.scrub(body, [self._token])

    def recognize_page(
        self, image: Image.Image, *, page_number: int, options: EngineOptions
    ) -> PageResult:
        """Read the MRZ of one page image (sent as JPEG). Raises :class:`OcrError`."""
        if self._missing:
            raise OcrError("engine_unavailable", f"Chekin is not configured: {self._missing}.")
        timeout = (self.http.connect_timeout, min(self.http.read_timeout, options.timeout))
        picture = "data:image/jpeg;base64," + b64(encode_image(image, "JPEG"))
        created = self._call(
            "POST", f"{self.base_url}/tools/ocr/picture/", timeout, json={"picture_file": picture}
        )
        scan_id = created.get("id")
        if not scan_id:
            raise OcrError("provider_error", f"{PROVIDER} accepted the picture without an id.")
        answer = poll(
            lambda: self._call("GET", f"{self.base_url}/tools/ocr/data/{scan_id}/", timeout),
            lambda a: a.get("status") not in PENDING,
            provider=PROVIDER,
            timeout=min(self.http.poll_timeout, options.timeout),
            interval=self.http.poll_interval,
        )
        status = answer.get("status")
        if status != DONE:
            log.warning("%s scan ended with status %s", PROVIDER, status)
            raise OcrError(
                "provider_error",
                f"{PROVIDER} could not process the picture (status {status}).",
            )
        width, height = image.size
        page = parse_result(answer, number=page_number, width=width, height=height)
        page.dpi = options.dpi
        page.raw = answer
        return page


def build(config: Mapping[str, Any]) -> ChekinEngine:
    """Registry factory: a :class:`ChekinEngine` from the ``OCR_*`` settings."""
    return ChekinEngine(config)
