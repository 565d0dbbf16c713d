"""UltraOCR (Nuveo) v2 as an engine: key-value extraction from Brazilian documents.

Docs: https://docs.nuveo.ai/ocr/v2/ (shapes checked against the official SDK,
https://github.com/nuveo/ultraocr-sdk-python, ``ultraocr/functions.py``).

Flow (all JSON; every call but the upload carries ``Authorization: Bearer``):

1. Token: ``POST {OCR_ULTRAOCR_AUTH_BASE_URL}/token`` with ``{"ClientID",
   "ClientSecret", "ExpiresIn": minutes 1-1440}`` -> ``{"token": ...}``.
   The token is cached and renewed :data:`REFRESH_MARGIN` seconds before it
   expires, and once more when a call answers 401 (expired mid-poll).
2. Send, when the JSON body is at most ``OCR_ULTRAOCR_SINGLE_STEP_MAX_BYTES``
   (default 6 MB, UltraOCR's limit): ``POST {base}/ocr/job/send/{service}`` with
   ``{"data": "<base64 JPEG>"}`` -> ``{"id", "status_url"}``. Larger files:
   ``POST {base}/ocr/job/{service}`` -> ``{"id", "status_url", "urls":
   {"document": signed_url}}``, then ``PUT`` the file bytes to the signed URL
   (no Authorization header).
3. Poll ``GET {base}/ocr/job/result/{id}/{id}`` (a job outside a batch repeats
   its id) while ``status`` is ``waiting``/``processing``/``validating``, with
   backoff, until ``done`` or ``error``, for at most ``OCR_PROVIDER_POLL_TIMEOUT``
   seconds (-> ``timeout``).

The ``service`` (document type: ``idtypification``, ``cnh``, ``rg`` ...) is
``options.extra["service"]`` or ``OCR_ULTRAOCR_SERVICE``.

Result: ``{"status": "done", "result": {"Time": "7.45", "Document": [{"Page": 1,
"Data": {"DocumentType": {"conf": 99, "value": "CNH"}}}]}}``. Each ``Data`` entry
becomes ``page.fields[name] = {"value", "confidence"}`` (``conf`` is already
0-100) and a text line ``"Name: value"``; UltraOCR gives no coordinates, so
lines have an empty box and no words. ``result.Text`` (services that return
plain text) is kept as extra lines; ``Quantity``/``Time`` stay in ``page.raw``.

Errors: status ``error`` -> ``provider_error`` with UltraOCR's message; token
refused (401/403) -> ``provider_auth``; others as in :mod:`._http`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from PIL import Image

from app.engines.base import EngineOptions
from app.engines.providers import _http
from app.engines.providers._common import CloudEngine, b64, encode_image, percent
from app.engines.providers._poll import poll
from app.errors import OcrError
from app.pipeline.schema import Block, Line, PageResult, mean_confidence

log = logging.getLogger(__name__)

ENGINE_NAME = "ultraocr"
PROVIDER = "UltraOCR"
REQUIRED = (
    "OCR_ULTRAOCR_BASE_URL",
    "OCR_ULTRAOCR_AUTH_BASE_URL",
    "OCR_ULTRAOCR_CLIENT_ID",
    "OCR_ULTRAOCR_CLIENT_SECRET",
)
#: UltraOCR's single-step body limit (bytes, base64 and metadata included).
SINGLE_STEP_MAX_BYTES = 6 * 1000 * 1000
#: Seconds before expiry at which a cached token is renewed.
REFRESH_MARGIN = 60.0
DONE, ERROR = "done", "error"
EMPTY_BOX = [0, 0, 0, 0]


class TokenCache:
    """A Bearer token, fetched by ``fetch() -> (token, lifetime seconds)``, thread-safe."""

    def __init__(self, fetch: Callable[[], tuple[str, float]], *, margin: float = REFRESH_MARGIN):
        self._fetch = fetch
        self._margin = margin
        self._lock = threading.Lock()
        self._token = ""
        self._expires = 0.0

    def get(self) -> str:
        """A token valid for at least ``margin`` more seconds (fetched if needed)."""
        with self._lock:
            if not self._token or time.monotonic() >= self._expires:
                token, lifetime = self._fetch()
                self._token = token
                self._expires = time.monotonic() + max(lifetime - self._margin, lifetime / 2)
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (if still current) so the next :meth:`get` fetches anew."""
        with self._lock:
            if self._token == token:
                self._token = ""


def parse_result(job: Mapping[str, Any], *, number: int, width: int, height: int) -> PageResult:
    """A ``done`` job answer -> :class:`PageResult` with ``fields`` and one line per field."""
    result = job.get("result") or {}
    fields: dict[str, Any] = {}
    for document in result.get("Document") or []:
        for name, item in (document.get("Data") or {}).items():
            if isinstance(item, dict) and ("value" in item or "conf" in item):
                value, conf = item.get("value"), item.get("conf")
            else:
                value, conf = item, None
            key = name
            suffix = 2
            while key in fields:
                key = f"{name}_{suffix}"
                suffix += 1
            fields[key] = {"value": value, "confidence": percent(conf, fraction=False)}
    lines = [
        Line(bbox=list(EMPTY_BOX), text=f"{name}: {_text(f['value'])}", confidence=f["confidence"])
        for name, f in fields.items()
    ]
    extra = result.get("Text")
    if isinstance(extra, str) and extra.strip():
        lines += [Line(bbox=list(EMPTY_BOX), text=t) for t in extra.splitlines() if t.strip()]
    confidence = mean_confidence(ln.confidence for ln in lines)
    blocks = [Block(bbox=list(EMPTY_BOX), confidence=confidence, lines=lines)] if lines else []
    page = PageResult.from_blocks(
        number=number, width=width, height=height, blocks=blocks, fields=fields or None
    )
    page.confidence = confidence
    return page


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def job_error(job: Mapping[str, Any]) -> str:
    """UltraOCR's message for a job in status ``error`` ('' if none)."""
    for key in ("error", "message", "result"):
        value = job.get(key)
        if isinstance(value, dict):
            value = value.get("message") or value.get("error")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


class UltraOcrEngine(CloudEngine):
    """UltraOCR v2 (see the module docstring)."""

    name = ENGINE_NAME
    title = "UltraOCR (Nuveo)"
    #: ``service``: the UltraOCR service (document type) to run, e.g. ``cnh``.
    accepted_options = frozenset({"service"})
    version = "v2"
    languages = ("por",)
    required = REQUIRED

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.base_url = str(config.get("OCR_ULTRAOCR_BASE_URL") or "").rstrip("/")
        self.auth_url = str(config.get("OCR_ULTRAOCR_AUTH_BASE_URL") or "").rstrip("/")
        self._client_id = str(config.get("OCR_ULTRAOCR_CLIENT_ID") or "")
        self._client_secret = str(config.get("OCR_ULTRAOCR_CLIENT_SECRET") or "")
        self.service = str(config.get("OCR_ULTRAOCR_SERVICE") or "idtypification")
        minutes = int(config.get("OCR_ULTRAOCR_TOKEN_MINUTES") or 60)
        self.token_minutes = max(1, min(1440, minutes))
        self.single_step_max = int(
            config.get("OCR_ULTRAOCR_SINGLE_STEP_MAX_BYTES") or SINGLE_STEP_MAX_BYTES
        )
        self.tokens = TokenCache(self._fetch_token)

    @property
    def _secrets(self) -> list[str]:
        return [self._client_id, self._client_secret]

    def check_options(self, options: EngineOptions) -> None:
        """Accept any languages (UltraOCR picks the model by service); check ``service``."""
        service = options.extra.get("service", self.service)
        if not isinstance(service, str) or not service.replace("-", "").replace("_", "").isalnum():
            raise OcrError(
                "invalid_option", "service must be an UltraOCR service name.", field="service"
            )

    # -- HTTP -------------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, float]:
        response = _http.send(
            self.session,
            "POST",
            f"{self.auth_url}/token",
            provider=PROVIDER,
            timeout=self.http.timeout,
            json={
                "ClientID": self._client_id,
                "ClientSecret": self._client_secret,
                "ExpiresIn": self.token_minutes,
            },
        )
        _http.check_status(response, provider=PROVIDER, secrets=self._secrets)
        token = (_http.json_body(response, provider=PROVIDER) or {}).get("token")
        if not isinstance(token, str) or not token:
            raise OcrError("provider_error", f"{PROVIDER} answered the token request without one.")
        return token, self.token_minutes * 60.0

    def _api(self, method: str, url: str, *, timeout: tuple[float, float], **kwargs: Any) -> Any:
        """An authorised call; on 401 renews the token once and tries again."""
        for attempt in (1, 2):
            token = self.tokens.get()
            response = _http.send(
                self.session,
                method,
                url,
                provider=PROVIDER,
                timeout=timeout,
                headers={"Authorization": f"Bearer {token}"},
                **kwargs,
            )
            if response.status_code == 401 and attempt == 1:
                log.info("%s token refused; renewing it once", PROVIDER)
                self.tokens.invalidate(token)
                continue
            _http.check_status(response, provider=PROVIDER, secrets=self._secrets)
            return _http.scrub(_http.json_body(response, provider=PROVIDER), self._secrets)
        raise AssertionError("unreachable")  # pragma: no cover

    def _submit(self, data: bytes, service: str, timeout: tuple[float, float]) -> str:
        """Send the file (single step or signed upload); return the job id."""
        body = {"data": b64(data)}
        if len(json.dumps(body)) <= self.single_step_max:
            answer = self._api(
                "POST", f"{self.base_url}/ocr/job/send/{service}", timeout=timeout, json=body
            )
        else:
            answer = self._api(
                "POST", f"{self.base_url}/ocr/job/{service}", timeout=timeout, json={}
            )
            url = ((answer or {}).get("urls") or {}).get("document")
            if not url:
                raise OcrError("provider_error", f"{PROVIDER} gave no upload URL.")
            upload = _http.send(
                self.session, "PUT", url, provider=PROVIDER, timeout=timeout, data=data
            )
            _http.check_status(upload, provider=PROVIDER, secrets=self._secrets)
        job_id = (answer or {}).get("id")
        if not isinstance(job_id, str) or not job_id:
            raise OcrError("provider_error", f"{PROVIDER} accepted the job without an id.")
        return job_id

    # -- recognition --------------------------------------------------------------
    def recognize_page(
        self, image: Image.Image, *, page_number: int, options: EngineOptions
    ) -> PageResult:
        """OCR one page image (sent as JPEG). Raises :class:`OcrError` (module docstring)."""
        if self._missing:
            raise OcrError("engine_unavailable", f"UltraOCR is not configured: {self._missing}.")
        self.check_options(options)
        service = str(options.extra.get("service") or self.service)
        timeout = (self.http.connect_timeout, min(self.http.read_timeout, options.timeout))
        job_id = self._submit(encode_image(image, "JPEG"), service, timeout)
        result_url = f"{self.base_url}/ocr/job/result/{job_id}/{job_id}"
        job = poll(
            lambda: self._api("GET", result_url, timeout=timeout),
            lambda j: isinstance(j, dict) and j.get("status") in (DONE, ERROR),
            provider=PROVIDER,
            timeout=min(self.http.poll_timeout, options.timeout),
            interval=self.http.poll_interval,
        )
        if job.get("status") == ERROR:
            message = _http.scrub(job_error(job), self._secrets)[: _http.MAX_MESSAGE]
            raise OcrError(
                "provider_error", f"{PROVIDER} failed the job: {message or 'no message'}"
            )
        width, height = image.size
        page = parse_result(job, number=page_number, width=width, height=height)
        page.dpi = options.dpi
        page.raw = job
        return page


def build(config: Mapping[str, Any]) -> UltraOcrEngine:
    """Registry factory: an :class:`UltraOcrEngine` from the ``OCR_*`` settings."""
    return UltraOcrEngine(config)
