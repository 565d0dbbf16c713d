"""computervision.com.vn document OCR ("Văn bản" / Textual) as an engine.

Docs: https://docs.computervision.com.vn/en/v2/ocr/textual (request) and
https://www.docs.computervision.com.vn/ (Basic authentication).

Request: ``POST {OCR_COMPUTERVISION_VN_BASE_URL}/api/v2/ocr/document/general
?format_type=file&get_thumb=false``, multipart body with the page as file
field ``img`` (PNG), HTTP Basic auth ``(api_key, api_secret)``. (The API also
takes ``format_type=base64`` JSON ``{"img": ...}`` and ``format_type=url``.)

Response: ``{"data": [...], "errorCode": "0", "errorMessage": "..."}`` where
``data`` has one entry per page; a page is a list of blocks (or an object with
``blocks``), a block a list of lines (or an object with ``lines``), a line a list
of texts (or an object with ``texts``/``words``), and a text is ``{"text",
"confidence" (0-1), "box": {"left", "top", "right", "bottom"}}`` (pixels; a
``[left, top, right, bottom]`` list is accepted too).

``errorCode`` (string or number): ``0`` ok; ``1`` no content -> an empty page;
``2`` URL unavailable -> ``url_unreachable``; ``3`` bad image ->
``invalid_image``; ``4`` out of requests -> ``quota_exceeded``; ``5`` bad
credentials -> ``provider_auth``; ``6`` wrong format type ->
``unsupported_format``; anything else -> ``provider_error``. HTTP errors and
transport failures as in :mod:`._http`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from PIL import Image
from requests.auth import HTTPBasicAuth

from app.engines.base import EngineOptions
from app.engines.providers import _http
from app.engines.providers._common import CloudEngine, encode_image, percent
from app.errors import OcrError
from app.pipeline.schema import Block, Line, PageResult, Word

log = logging.getLogger(__name__)

ENGINE_NAME = "computervision_vn"
PROVIDER = "computervision.com.vn"
REQUIRED = (
    "OCR_COMPUTERVISION_VN_BASE_URL",
    "OCR_COMPUTERVISION_VN_API_KEY",
    "OCR_COMPUTERVISION_VN_API_SECRET",
)
PATH = "/api/v2/ocr/document/general"
#: errorCode -> (our code, message); "0" is success and "1" an empty page.
ERROR_CODES: dict[str, tuple[str, str]] = {
    "2": ("url_unreachable", "the image URL is unavailable"),
    "3": ("invalid_image", "the image is not valid"),
    "4": ("quota_exceeded", "the account is out of requests"),
    "5": ("provider_auth", "the API key or secret was rejected"),
    "6": ("unsupported_format", "the format type is not supported"),
}


def _children(node: Any, *keys: str) -> list[Any]:
    """``node`` if it is a list, else its first list-valued key among ``keys``."""
    if isinstance(node, list):
        return node
    if isinstance(node, dict):
        for key in keys:
            if isinstance(node.get(key), list):
                return node[key]
    return []


def _box(value: Any) -> list[int]:
    if isinstance(value, dict):
        return [int(round(float(value.get(k) or 0))) for k in ("left", "top", "right", "bottom")]
    if isinstance(value, list | tuple) and len(value) == 4:
        return [int(round(float(v))) for v in value]
    return [0, 0, 0, 0]


def parse_page(page: Any, *, number: int, width: int, height: int) -> PageResult:
    """One ``data[]`` entry -> :class:`PageResult` (boxes in pixels, confidence 0-100)."""
    # With get_thumb=true a page is {"result": [blocks], "image": <base64 thumbnail>}.
    if isinstance(page, dict) and not any(k in page for k in ("result", "blocks", "block")):
        page = [page]  # a single block given as an object
    blocks: list[Block] = []
    for block in _children(page, "result", "blocks", "block"):
        lines: list[Line] = []
        for line in _children(block, "lines", "line"):
            words = [
                Word(
                    bbox=_box(item.get("box")),
                    text=str(item.get("text") or ""),
                    confidence=percent(item.get("confidence"), fraction=True),
                )
                for item in _children(line, "texts", "words", "text")
                if isinstance(item, dict) and str(item.get("text") or "").strip()
            ]
            if words:
                lines.append(Line.from_words(words))
        if lines:
            blocks.append(Block.from_lines(lines))
    return PageResult.from_blocks(number=number, width=width, height=height, blocks=blocks)


class ComputerVisionVnEngine(CloudEngine):
    """computervision.com.vn general document OCR (see the module docstring)."""

    name = ENGINE_NAME
    title = "Computer Vision Vietnam"
    version = "v2"
    languages = ("vie", "eng")
    required = REQUIRED

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.url = str(config.get("OCR_COMPUTERVISION_VN_BASE_URL") or "").rstrip("/") + PATH
        self._key = str(config.get("OCR_COMPUTERVISION_VN_API_KEY") or "")
        self._secret = str(config.get("OCR_COMPUTERVISION_VN_API_SECRET") or "")

    def check_options(self, options: EngineOptions) -> None:
        """Accept any languages: the service picks its own model (Vietnamese and Latin)."""

    def recognize_page(
        self, image: Image.Image, *, page_number: int, options: EngineOptions
    ) -> PageResult:
        """OCR one page image (sent as PNG). Raises :class:`OcrError` (module docstring)."""
        if self._missing:
            raise OcrError("engine_unavailable", f"{PROVIDER} is not configured: {self._missing}.")
        secrets = [self._key, self._secret]
        response = _http.send(
            self.session,
            "POST",
            self.url,
            provider=PROVIDER,
            timeout=(self.http.connect_timeout, min(self.http.read_timeout, options.timeout)),
            params={"format_type": "file", "get_thumb": "false"},
            files={"img": (f"page-{page_number}.png", encode_image(image), "image/png")},
            auth=HTTPBasicAuth(self._key, self._secret),
        )
        if response.status_code >= 400:
            # Its documented errorCode says more than the HTTP status (2, 3, 6 come with a 4xx).
            _raise_error_code(_error_body(response), secrets)
        _http.check_status(response, provider=PROVIDER, secrets=secrets)
        body = _http.scrub(_http.json_body(response, provider=PROVIDER), secrets)
        if not isinstance(body, dict):
            raise OcrError("provider_error", f"{PROVIDER} answered with an unexpected body.")
        code = str(body.get("errorCode", "0")).strip()
        width, height = image.size
        if code == "1":
            page = PageResult.from_blocks(number=page_number, width=width, height=height, blocks=[])
        elif code == "0":
            data = body.get("data")
            pages = data if isinstance(data, list) else [data]
            first = pages[0] if pages else []
            page = parse_page(first, number=page_number, width=width, height=height)
        else:
            _raise_error_code(body, secrets, unknown=True)
        page.dpi = options.dpi
        page.raw = body
        return page


def _error_body(response: Any) -> Any:
    """An error answer's JSON body, or None when it has none."""
    try:
        return response.json()
    except ValueError:
        return None


def _raise_error_code(body: Any, secrets: list[str], *, unknown: bool = False) -> None:
    """Raise the ``OcrError`` for ``body``'s documented ``errorCode`` (:data:`ERROR_CODES`).

    Returns without raising when ``body`` carries no documented code, unless
    ``unknown`` (then any code other than 0 and 1 is a ``provider_error``).
    """
    if not isinstance(body, dict):
        return
    code = str(body.get("errorCode", "")).strip()
    if code not in ERROR_CODES and not unknown:
        return
    ours, text = ERROR_CODES.get(code, ("provider_error", "the request failed"))
    message = str(_http.scrub(body.get("errorMessage") or "", secrets))[: _http.MAX_MESSAGE]
    log.warning("%s errorCode %s", PROVIDER, code)
    raise OcrError(
        ours, f"{PROVIDER}: {text} (errorCode {code}{': ' + message if message else ''})."
    )


def build(config: Mapping[str, Any]) -> ComputerVisionVnEngine:
    """Registry factory: a :class:`ComputerVisionVnEngine` from the ``OCR_*`` settings."""
    return ComputerVisionVnEngine(config)
