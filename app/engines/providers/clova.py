"""NAVER CLOVA OCR, General OCR V2, as an engine.

Docs: https://api.ncloud-docs.com/docs/ai-application-service-ocr (common
headers and error codes) and https://api.ncloud-docs.com/docs/ai-application-service-ocr-ocr
(General OCR request/response).

Request: ``POST {OCR_CLOVA_INVOKE_URL}/general`` (``/general`` is not appended
twice when the invoke URL already ends with it), header ``X-OCR-SECRET:
{OCR_CLOVA_SECRET}``, JSON body::

    {"version": "V2", "requestId": "<uuid4>", "timestamp": <ms since epoch>,
     "lang": "ko,ja",                     # optional; omitted for Latin scripts
     "images": [{"format": "png", "name": "page-1", "data": "<base64>"}]}

Response: ``images[]`` each with ``inferResult`` (``SUCCESS``/``FAILURE``/
``ERROR``), ``message``, optional ``convertedImageInfo`` ``{width, height,
pageIndex}`` (PDF pages, pixels) and ``fields[]`` of ``{inferText,
inferConfidence (0-1), lineBreak (bool), boundingPoly: {vertices: [{x, y}]}}``.
A field is a word; a true ``lineBreak`` ends the line. Each word keeps its
polygon (pixels) and gets the polygon's bounding box; confidences are scaled
to 0-100. CLOVA has no block level: a page is one block.

Errors (HTTP 4xx/5xx with ``{"code": "0002", "message": ...}``): ``0002``
(secret rejected) -> ``provider_auth``; ``0023``/``0025`` (request count or
rate limit) -> ``quota_exceeded``; any other code (``0011`` request body
invalid ...) -> ``provider_error`` with CLOVA's message; an image whose
``inferResult`` is not ``SUCCESS`` -> ``provider_error`` with its message.
Transport failures as in :mod:`._http`.

PDFs go to CLOVA natively (:meth:`ClovaEngine.recognize_document`), at most
:data:`MAX_PDF_PAGES` pages per call: longer PDFs are split with pypdfium2.
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

from PIL import Image

from app.engines.base import EngineOptions
from app.engines.providers import _http
from app.engines.providers._common import CloudEngine, b64, encode_image, percent
from app.errors import OcrError
from app.pipeline.schema import Block, Line, PageResult, Word, polygon_bbox

log = logging.getLogger(__name__)

ENGINE_NAME = "clova"
PROVIDER = "CLOVA OCR"
REQUIRED = ("OCR_CLOVA_INVOKE_URL", "OCR_CLOVA_SECRET")
#: Pages CLOVA accepts in one PDF call.
MAX_PDF_PAGES = 10
#: Tesseract language code -> CLOVA ``lang`` value (None: recognised without ``lang``).
LANGUAGES: dict[str, str | None] = {
    "kor": "ko",
    "jpn": "ja",
    "chi_tra": "zh-TW",
    "eng": None,
}
AUTH_CODES = frozenset({"0002"})
QUOTA_CODES = frozenset({"0023", "0025"})


def clova_lang(languages: tuple[str, ...]) -> str | None:
    """The ``lang`` value for Tesseract ``languages`` (comma-joined), or None to omit it."""
    codes: list[str] = []
    for lang in languages:
        code = LANGUAGES.get(lang)
        if code and code not in codes:
            codes.append(code)
    return ",".join(codes) or None


def parse_image(result: Mapping[str, Any], *, number: int, width: int, height: int) -> PageResult:
    """One ``images[]`` entry of a SUCCESS answer -> :class:`PageResult` (boxes in pixels)."""
    lines: list[Line] = []
    words: list[Word] = []
    for field in result.get("fields") or []:
        text = str(field.get("inferText") or "")
        vertices = (field.get("boundingPoly") or {}).get("vertices") or []
        polygon = [[int(round(v.get("x", 0))), int(round(v.get("y", 0)))] for v in vertices]
        if text:
            words.append(
                Word(
                    bbox=polygon_bbox(polygon) if polygon else [0, 0, 0, 0],
                    text=text,
                    confidence=percent(field.get("inferConfidence"), fraction=True),
                    polygon=polygon or None,
                )
            )
        if field.get("lineBreak") and words:
            lines.append(Line.from_words(words))
            words = []
    if words:
        lines.append(Line.from_words(words))
    blocks = [Block.from_lines(lines)] if lines else []
    return PageResult.from_blocks(number=number, width=width, height=height, blocks=blocks)


class ClovaEngine(CloudEngine):
    """CLOVA General OCR V2 (see the module docstring)."""

    name = ENGINE_NAME
    title = "NAVER CLOVA OCR"
    version = "V2"
    languages = tuple(LANGUAGES)
    required = REQUIRED

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        invoke = str(config.get("OCR_CLOVA_INVOKE_URL") or "").rstrip("/")
        self.url = invoke if invoke.endswith("/general") else f"{invoke}/general"
        self._secret = str(config.get("OCR_CLOVA_SECRET") or "")

    def check_options(self, options: EngineOptions) -> None:
        """Raise ``OcrError("unknown_language")`` for languages CLOVA does not read."""
        unknown = [lang for lang in options.languages if lang not in LANGUAGES]
        if unknown:
            raise OcrError(
                "unknown_language",
                f"CLOVA OCR does not support: {', '.join(unknown)}. "
                f"Supported: {'+'.join(LANGUAGES)}.",
                field="languages",
            )

    # -- one call ---------------------------------------------------------------
    def _call(self, images: list[dict[str, str]], options: EngineOptions) -> dict[str, Any]:
        """POST ``images`` and return the JSON answer; raises OcrError (module docstring)."""
        if self._missing:
            raise OcrError("engine_unavailable", f"CLOVA OCR is not configured: {self._missing}.")
        body: dict[str, Any] = {
            "version": "V2",
            "requestId": str(uuid.uuid4()),
            "timestamp": int(time.time() * 1000),
            "images": images,
        }
        lang = clova_lang(tuple(options.languages))
        if lang:
            body["lang"] = lang
        response = _http.send(
            self.session,
            "POST",
            self.url,
            provider=PROVIDER,
            timeout=(self.http.connect_timeout, min(self.http.read_timeout, options.timeout)),
            json=body,
            headers={"X-OCR-SECRET": self._secret},
        )
        if response.status_code >= 400:
            self._raise_error(response)
        data = _http.json_body(response, provider=PROVIDER)
        if not isinstance(data, dict) or not isinstance(data.get("images"), list):
            raise OcrError("provider_error", f"{PROVIDER} answered without images.")
        for result in data["images"]:
            if result.get("inferResult") != "SUCCESS":
                message = _http.scrub(str(result.get("message") or ""), [self._secret])
                raise OcrError(
                    "provider_error",
                    f"{PROVIDER} could not read the image ({result.get('inferResult')}): "
                    f"{message[: _http.MAX_MESSAGE] or 'no message'}",
                )
        return _http.scrub(data, [self._secret])

    def _raise_error(self, response: Any) -> None:
        try:
            body = response.json()
        except ValueError:
            body = None
        code = str(body.get("code") or "") if isinstance(body, dict) else ""
        if not code:
            _http.check_status(response, provider=PROVIDER, secrets=[self._secret])
        message = _http.provider_message(response, [self._secret]) or "no message"
        log.warning("%s error code %s (HTTP %s)", PROVIDER, code, response.status_code)
        if code in AUTH_CODES or response.status_code in (401, 403):
            raise OcrError("provider_auth", f"{PROVIDER} rejected the secret ({code}).")
        if code in QUOTA_CODES or response.status_code == 429:
            raise OcrError("quota_exceeded", f"{PROVIDER} limit reached ({code}): {message}")
        raise OcrError("provider_error", f"{PROVIDER} error {code}: {message}")

    # -- pages ------------------------------------------------------------------
    def recognize_page(
        self, image: Image.Image, *, page_number: int, options: EngineOptions
    ) -> PageResult:
        """OCR one page image. Raises :class:`OcrError` (module docstring)."""
        data = self._call(
            [{"format": "png", "name": f"page-{page_number}", "data": b64(encode_image(image))}],
            options,
        )
        result = data["images"][0] if data["images"] else {}
        width, height = image.size
        page = parse_image(result, number=page_number, width=width, height=height)
        page.dpi = options.dpi
        page.raw = data
        return page

    def recognize_document(
        self, data: bytes, content_type: str, *, options: EngineOptions
    ) -> list[PageResult]:
        """OCR a whole PDF natively (<= 10 pages per call); images go page by page.

        Raises ``OcrError("invalid_pdf")`` for an unreadable PDF, otherwise as
        :meth:`recognize_page`.
        """
        if content_type != "application/pdf":
            try:
                image = Image.open(io.BytesIO(data))
                image.load()
            except Exception:
                raise OcrError("invalid_image", "The image cannot be read.") from None
            return [self.recognize_page(image, page_number=1, options=options)]
        pages: list[PageResult] = []
        for first, chunk, sizes in split_pdf(data, MAX_PDF_PAGES):
            answer = self._call(
                [{"format": "pdf", "name": f"pages-{first + 1}", "data": b64(chunk)}], options
            )
            results = sorted(
                answer["images"],
                key=lambda r: (r.get("convertedImageInfo") or {}).get("pageIndex", 0),
            )
            for offset, result in enumerate(results):
                info = result.get("convertedImageInfo") or {}
                fallback = sizes[min(offset, len(sizes) - 1)]
                page = parse_image(
                    result,
                    number=first + offset + 1,
                    width=int(info.get("width") or fallback[0]),
                    height=int(info.get("height") or fallback[1]),
                )
                page.raw = {**answer, "images": [result]}
                pages.append(page)
        return pages


def split_pdf(data: bytes, size: int) -> list[tuple[int, bytes, list[tuple[int, int]]]]:
    """Split a PDF into ``(first page index, pdf bytes, [(width, height) points])`` chunks.

    Each chunk has at most ``size`` pages. Raises ``OcrError("invalid_pdf")``.
    """
    import pypdfium2 as pdfium

    try:
        src = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        raise OcrError("invalid_pdf", "The PDF cannot be read.") from None
    try:
        count = len(src)
        chunks = []
        for first in range(0, count, size):
            indices = list(range(first, min(first + size, count)))
            sizes = [tuple(int(round(v)) for v in src[i].get_size()) for i in indices]
            dst = pdfium.PdfDocument.new()
            dst.import_pages(src, pages=indices)
            buf = io.BytesIO()
            dst.save(buf)
            dst.close()
            chunks.append((first, buf.getvalue(), sizes))
        return chunks  # type: ignore[return-value]
    finally:
        src.close()


def build(config: Mapping[str, Any]) -> ClovaEngine:
    """Registry factory: a :class:`ClovaEngine` from the ``OCR_*`` settings."""
    return ClovaEngine(config)
