"""A CLOVA General OCR call in our terms: the message checked, the document read, and a
:class:`~app.services.JobRequest` made of them.

``POST {invoke_url}/general`` (NAVER Cloud, "General OCR":
https://api.ncloud-docs.com/docs/ai-application-service-ocr-ocr) takes either

- ``application/json``: ``{"version": "V2", "requestId", "timestamp" (ms), "lang"?,
  "images": [{"format", "name", "data" (base64) | "url"}], "enableTableDetection"?}``;
  a ``url`` is downloaded through ``services.fetch_document`` (our guarded client:
  private addresses, size and time limits); or
- ``multipart/form-data``: a ``message`` part holding the same JSON without
  ``data``/``url``, and the document as the ``file`` part.

One image per call (the docs' constraint). ``format`` is one of :data:`FORMATS`; the
document's real type is detected from its bytes, as on ``/api/ocr/``. ``lang`` is a
comma-separated list of CLOVA's language values (:data:`LANGUAGES`); English is read
with every language, as a CLOVA domain reads Latin text whatever its language. No
``lang``: our default languages (``OCR_DEFAULT_LANGUAGES``). Only ``version: "V2"`` is
served (``V1`` answers ``0021``), and table detection is off (``enableTableDetection:
true`` answers ``0028``, as a domain whose table extractor is off does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

from app import services
from app.api.parsers import loads, ocr_body_limit
from app.compat.body import check_length, read_body
from app.compat.clova.errors import ClovaError, body_invalid
from app.errors import OcrError
from app.files import filename_problem
from app.pipeline import inputs
from app.pipeline.options import JobOptions

#: The protocol version served.
VERSION = "V2"
#: ``images[].format`` values CLOVA General OCR takes (``tif`` as a spelling of ``tiff``).
FORMATS = ("jpg", "jpeg", "png", "pdf", "tif", "tiff")
#: CLOVA ``lang`` values -> Tesseract languages (``en`` is not CLOVA's, but harmless).
LANGUAGES = {"ko": "kor", "ja": "jpn", "zh-TW": "chi_tra", "en": "eng"}
#: Read with every ``lang``.
ALWAYS = "eng"
#: Bytes a multipart body may hold besides the file (the message, the part headers).
MULTIPART_MARGIN = 64 * 1024


@dataclass(frozen=True, slots=True)
class GeneralCall:
    """A checked call: ``request_id`` and ``image_name`` echoed in the answer,
    ``languages`` (Tesseract's, ``kor+eng``), the document's bytes and a file name."""

    request_id: Any
    image_name: str
    languages: str
    data: bytes
    filename: str

    def job_request(self) -> services.JobRequest:
        """The job to make of this call (``source="clova"``)."""
        options = JobOptions.from_request(
            {}, engine=settings.OCR_DEFAULT_ENGINE, languages=self.languages
        )
        return services.JobRequest(
            data=self.data, filename=self.filename, options=options, source="clova"
        )


def read_call(request: HttpRequest) -> GeneralCall:
    """The call in ``request`` (JSON or multipart), checked. Raises ``ClovaError``
    (``0011``, ``0021``, ``0028``) or ``OcrError`` (the document: ``file_too_large``,
    ``invalid_image``, ``url_forbidden``, ...)."""
    media_type = (request.content_type or "").lower()
    if media_type == "application/json":
        message = _json(read_body(request, ocr_body_limit()), "The body")
        image = check_message(message)
        data, filename = _json_document(image)
    elif media_type == "multipart/form-data":
        message, upload = _multipart(request)
        image = check_message(message)
        data, filename = upload.read(), upload.name or ""
    else:
        raise body_invalid(
            f"Content-Type {media_type or '(none)'!r} is not taken: send application/json "
            "or multipart/form-data (message and file)."
        )
    name = image["name"]
    if filename_problem(filename) or not filename:
        filename = "upload"
    return GeneralCall(
        request_id=message.get("requestId"),
        image_name=name,
        languages=languages_for(message.get("lang")),
        data=data,
        filename=filename,
    )


def check_message(message: Any) -> dict[str, Any]:
    """The one image of a request message, once the message is checked (400 ``0011``,
    ``0021`` for another version, ``0028`` for table detection)."""
    if not isinstance(message, dict):
        raise body_invalid("The message must be a JSON object.")
    version = message.get("version")
    if not isinstance(version, str) or not version:
        raise body_invalid('version is required ("V2").')
    if version != VERSION:
        raise ClovaError(400, "0021", f"Only version {VERSION} is served here, not {version!r}.")
    if "requestId" in message and not isinstance(message["requestId"], str):
        raise body_invalid("requestId must be a string.")
    timestamp = message.get("timestamp")
    if timestamp is not None and (isinstance(timestamp, bool) or not isinstance(timestamp, int)):
        raise body_invalid("timestamp must be an integer (milliseconds).")
    if message.get("lang") is not None and not isinstance(message["lang"], str):
        raise body_invalid('lang must be a string such as "ko" or "ko,ja".')
    if str(message.get("enableTableDetection", "false")).lower() not in ("false", "none"):
        raise ClovaError(400, "0028", "Tables are not extracted here.")
    images = message.get("images")
    if not isinstance(images, list) or len(images) != 1:
        raise body_invalid("images must be an array of exactly one image.")
    image = images[0]
    if not isinstance(image, dict):
        raise body_invalid("images[0] must be an object.")
    fmt = image.get("format")
    if not isinstance(fmt, str) or fmt.lower() not in FORMATS:
        raise body_invalid(f"images[0].format must be one of {', '.join(FORMATS)}.")
    if not isinstance(image.get("name"), str):
        raise body_invalid("images[0].name is required (a string).")
    return image


def languages_for(lang: str | None) -> str:
    """Tesseract languages (``kor+eng``) for CLOVA's ``lang`` (``"ko"``, ``"ko,ja"``);
    ``OCR_DEFAULT_LANGUAGES`` without one. 400 ``0011`` for a value CLOVA does not
    have; a language that is not installed is refused by ``job_create``
    (``unknown_language``, also ``0011``)."""
    if lang is None or not lang.strip():
        return settings.OCR_DEFAULT_LANGUAGES
    codes: list[str] = []
    for value in (part.strip() for part in lang.split(",")):
        code = LANGUAGES.get(value)
        if code is None:
            raise body_invalid(
                f"lang {value!r} is not read here; use {', '.join(LANGUAGES)} (comma-separated)."
            )
        if code not in codes:
            codes.append(code)
    if ALWAYS not in codes:
        codes.append(ALWAYS)
    return "+".join(codes)


def _json_document(image: dict[str, Any]) -> tuple[bytes, str]:
    """The document of a JSON call: ``data`` decoded, or ``url`` downloaded."""
    sources = [name for name in ("data", "url") if image.get(name) is not None]
    if len(sources) != 1 or not isinstance(image[sources[0]], str):
        raise body_invalid("Give exactly one of images[0].data (base64) and images[0].url.")
    if sources[0] == "data":
        data = inputs.decode_base64(image["data"], field="images[0].data")
        return data, f"{image['name']}.{image['format'].lower()}"
    return services.fetch_document(url=image["url"])


def _multipart(request: HttpRequest) -> tuple[Any, Any]:
    """``(message, file)`` of a multipart call. ``message`` may come as a form field or
    as a part with a file name of its own (some clients send it so)."""
    limit = settings.OCR_MAX_UPLOAD_BYTES + MULTIPART_MARGIN
    check_length(request, limit)
    try:
        fields, files = request.POST, request.FILES
    except (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent, SuspiciousOperation):
        raise body_invalid("The multipart body could not be read.") from None
    if "message" in fields:
        text: str | bytes = fields["message"]
    elif "message" in files:
        text = files["message"].read(MULTIPART_MARGIN)
    else:
        raise body_invalid("The message part is missing.")
    upload = files.get("file")
    if upload is None:
        raise body_invalid("The file part is missing.")
    if upload.size > settings.OCR_MAX_UPLOAD_BYTES:
        raise OcrError(
            "file_too_large",
            f"The file is {upload.size:,} bytes; the limit is "
            f"{settings.OCR_MAX_UPLOAD_BYTES:,} bytes.",
        )
    return _json(text, "The message"), upload


def _json(text: str | bytes, what: str) -> Any:
    try:
        return loads(text) if text.strip() else None
    except ValueError as exc:
        raise body_invalid(f"{what} is not valid JSON: {exc}") from None
