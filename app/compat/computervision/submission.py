"""A document OCR request in our terms: a :class:`~app.services.JobRequest` and
whether the answer carries page images.

The three request styles of https://docs.computervision.com.vn/en/v2/ocr/textual
(query parameters ``format_type`` and ``get_thumb``; the document in ``img``):

- ``format_type=url``: ``GET ?img=<URL of an image or PDF>``, downloaded through
  ``services.fetch_document`` (our guarded client: private addresses, size, time);
- ``format_type=file``: ``POST`` multipart/form-data, the file in field ``img``;
- ``format_type=base64``: ``POST`` application/json ``{"img": "<base64>"}`` (the
  docs' example wraps it in lines with ``base64.encodebytes``; white space is ignored).

The docs' URL example puts the image URL into the query unencoded (``"...?img=%s&
format_type=url" % image_url``), so a URL with its own ``&`` arrives split into
several parameters: :func:`url_param` joins them back. ``format_type`` missing is
read from what was sent; one the service does not know, or one that does not match
what was sent, is ``errorCode`` 6. Pages are read in Vietnamese and English
(:func:`languages`), as the provider's model does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

from app import services
from app.api.parsers import loads, ocr_body_limit
from app.compat.body import check_length, read_body
from app.compat.computervision.errors import (
    BAD_FORMAT_TYPE,
    BAD_IMAGE,
    URL_UNAVAILABLE,
    CvError,
)
from app.engines import registry
from app.errors import OcrError
from app.pipeline import inputs
from app.pipeline.options import JobOptions

#: ``Job.source`` of the jobs made here.
SOURCE = "computervision"
FORMAT_TYPES = ("url", "file", "base64")
#: The request field holding the document (query, multipart field, JSON key).
FIELD = "img"
#: Languages read when the engine has them (the provider reads Vietnamese documents).
LANGUAGES = ("vie", "eng")
#: ``get_thumb`` values taken as true (any other value, or none, is false).
TRUE_VALUES = ("true", "1", "yes", "on")
#: Query parameters besides ``img`` (they end a ``img`` URL split at its ``&``).
OTHER_PARAMS = ("format_type", "get_thumb")
#: Room for the multipart framing around the file, in bytes.
MULTIPART_MARGIN = 64 * 1024


@dataclass(frozen=True, slots=True)
class Submission:
    """A checked request: the job to create and ``thumb`` (``get_thumb=true``: each
    page of the answer carries its image)."""

    job: services.JobRequest
    thumb: bool


def submission(request: HttpRequest) -> Submission:
    """The request as a job and its answer options. Raises ``CvError`` or ``OcrError``."""
    kind = format_type(request)
    data, filename = document(request, kind)
    options = JobOptions.from_request({}, engine=settings.OCR_DEFAULT_ENGINE, languages=languages())
    job = services.JobRequest(data=data, filename=filename, options=options, source=SOURCE)
    return Submission(job=job, thumb=get_thumb(request.GET))


def get_thumb(query: Any) -> bool:
    """``get_thumb``: ``true`` (any case), ``1``, ``yes`` or ``on``; false otherwise."""
    return str(query.get("get_thumb") or "").strip().lower() in TRUE_VALUES


def languages() -> str:
    """``vie+eng`` as far as the default engine has them; else ``OCR_DEFAULT_LANGUAGES``."""
    try:
        known = registry.get_engine(settings.OCR_DEFAULT_ENGINE).info().languages
    except OcrError:
        return settings.OCR_DEFAULT_LANGUAGES
    chosen = [lang for lang in LANGUAGES if lang in known]
    return "+".join(chosen) if chosen else settings.OCR_DEFAULT_LANGUAGES


def format_type(request: HttpRequest) -> str:
    """The request's ``format_type``, or the one its body and query show when it has
    none. ``errorCode`` 6 for a value not in :data:`FORMAT_TYPES`."""
    declared = (request.GET.get("format_type") or "").strip().lower()
    if declared in FORMAT_TYPES:
        return declared
    if declared:
        raise CvError.documented(
            BAD_FORMAT_TYPE,
            f"format_type {declared!r} is not one of {', '.join(FORMAT_TYPES)}.",
        )
    media_type = (request.content_type or "").lower()
    if request.method == "POST" and media_type == "multipart/form-data":
        return "file"
    if request.method == "POST" and media_type == "application/json":
        return "base64"
    return "url"


def document(request: HttpRequest, kind: str) -> tuple[bytes, str]:
    """The document's bytes and a file name, read the way ``kind`` says."""
    if kind == "url":
        return fetch(request)
    if kind == "file":
        return upload(request)
    return base64_body(request)


def url_param(query_string: str) -> str:
    """``img`` from a raw query string, with the parts of an unencoded URL's own query
    that arrived as parameters of ours joined back (``img=https://h/a.png?x=1&y=2&
    format_type=url`` -> ``https://h/a.png?x=1&y=2``). A value sent encoded
    (``https%3A%2F%2F...``) is decoded; one sent raw is kept as it is (its own
    percent-escapes, e.g. a signature, stay intact)."""
    parts: list[str] = []
    inside = False
    for piece in query_string.split("&"):
        key = unquote_plus(piece.partition("=")[0])
        if key == FIELD and not parts:
            inside = True
            parts.append(piece.partition("=")[2])
        elif key in OTHER_PARAMS:
            inside = False
        elif inside:
            parts.append(piece)
    value = "&".join(parts).strip()
    return value if "://" in value else unquote_plus(value)


def fetch(request: HttpRequest) -> tuple[bytes, str]:
    """``format_type=url``: download ``img``; every failure is ``errorCode`` 2."""
    url = url_param(request.META.get("QUERY_STRING", ""))
    if not url:
        if request.method == "POST" and request.content_type in (
            "multipart/form-data",
            "application/json",
        ):
            raise CvError.documented(
                BAD_FORMAT_TYPE,
                "format_type=url takes the document's URL as the query parameter img, "
                "not a body; send format_type=file or format_type=base64 for a body.",
            )
        raise CvError.documented(URL_UNAVAILABLE, "No URL was given in the query parameter img.")
    try:
        return services.fetch_document(url=url)
    except OcrError as exc:
        raise CvError.documented(URL_UNAVAILABLE, exc.message) from None


def upload(request: HttpRequest) -> tuple[bytes, str]:
    """``format_type=file``: the file of multipart field ``img``."""
    if request.method != "POST" or request.content_type != "multipart/form-data":
        raise CvError.documented(
            BAD_FORMAT_TYPE,
            "format_type=file takes a POST of multipart/form-data with the file in field img.",
        )
    limit = settings.OCR_MAX_UPLOAD_BYTES
    check_length(request, limit + MULTIPART_MARGIN)
    try:
        file = request.FILES.get(FIELD)
        text = request.POST.get(FIELD)
    except (MultiPartParserError, SuspiciousOperation) as exc:
        raise CvError.documented(
            BAD_IMAGE, f"The multipart body could not be read: {exc}"
        ) from None
    if file is None:
        if text:
            raise CvError.documented(
                BAD_FORMAT_TYPE,
                "Field img is text, not a file; send its base64 with format_type=base64 "
                "or its URL with format_type=url.",
            )
        raise CvError.documented(BAD_IMAGE, "No file was sent in the multipart field img.")
    if file.size > limit:
        raise OcrError(
            "file_too_large", f"The file is {file.size:,} bytes; the limit is {limit:,} bytes."
        )
    return file.read(), file.name or "document"


def base64_body(request: HttpRequest) -> tuple[bytes, str]:
    """``format_type=base64``: ``{"img": "<base64>"}`` (the body read as JSON whatever
    its Content-Type, except a multipart form)."""
    if request.method != "POST" or request.content_type == "multipart/form-data":
        raise CvError.documented(
            BAD_FORMAT_TYPE,
            'format_type=base64 takes a POST with the JSON body {"img": "<base64>"}.',
        )
    body = read_body(request, ocr_body_limit())
    try:
        data = loads(body) if body.strip() else None
    except ValueError as exc:
        raise CvError.documented(BAD_IMAGE, f"The body is not valid JSON: {exc}") from None
    value = data.get(FIELD) if isinstance(data, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise CvError.documented(
            BAD_IMAGE, 'The body must be a JSON object {"img": "<base64 of an image or PDF>"}.'
        )
    if value.strip().lower().startswith(("http://", "https://")):
        raise CvError.documented(
            BAD_FORMAT_TYPE, "img is a URL; send it with format_type=url as a query parameter."
        )
    return inputs.decode_base64(value, field=FIELD), "document"
