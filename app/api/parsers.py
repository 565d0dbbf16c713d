"""JSON request parsing with hard limits: body size, nesting depth, an object at the top.

DRF's own ``JSONParser`` has no nesting limit (Python's ``json`` raises
``RecursionError`` at ~1,000 levels, which surfaced as a 500) and reads
``request.body``, which Django caps at ``DATA_UPLOAD_MAX_MEMORY_SIZE``
(2.5 MB) for every view alike. :class:`JSONParser` here reads the request
stream once, up to a byte cap chosen per parser, refuses JSON nested deeper
than :data:`MAX_DEPTH` before building any object, and (by default) a body
that is not a JSON object. Every API endpoint gets it from
``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``; ``POST /api/ocr/`` uses
:class:`OcrJSONParser`, whose cap fits a base64 document of
``OCR_MAX_UPLOAD_BYTES``.

JSON carried as text inside a form field (``metadata`` in a multipart
upload) goes through :func:`loads`, the same limits minus the size cap.

:class:`MultiPartParser` is DRF's, except that each upload keeps the name
its part declared (``client_name``) before Django silently drops the
characters it cannot print, so that a name with CR/LF is refused like the
``filename`` field (``app.files.filename_problem``), not quietly changed.
"""

from __future__ import annotations

import html
import re
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import TooManyFilesSent
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from django.utils.encoding import force_str
from rest_framework import renderers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, DataAndFiles
from rest_framework.parsers import MultiPartParser as DRFMultiPartParser
from rest_framework.settings import api_settings
from rest_framework.utils import json

from app.errors import OcrError

#: Deepest nesting of arrays/objects accepted anywhere (the top-level object is level 1).
MAX_DEPTH = 64

#: Extra bytes allowed in a ``POST /api/ocr/`` JSON body beyond the base64 text itself
#: (the other fields: options, filename, up to 16 KB of metadata, the data-URI prefix).
OCR_BODY_MARGIN = 64 * 1024

#: Most ``[``/``{`` (and, apart, ``]``/``}``) characters a JSON text may hold, inside
#: strings included: bounds the objects a body can make (27 MB of ``[],`` would be
#: ~600 MB of lists) and the depth scan. A legitimate body has a few hundred.
MAX_BRACKETS = 100_000

# After escapes are removed, a JSON string is a quote, no quote, a quote.
_STRINGS = re.compile(r'"[^"]*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def check_depth(text: str, max_depth: int = MAX_DEPTH, max_brackets: int = MAX_BRACKETS) -> None:
    """Raise ``ValueError`` if the JSON ``text`` nests arrays/objects deeper than
    ``max_depth``, or holds more than ``max_brackets`` opening (or closing) brackets.

    Runs before parsing, so a hostile document never builds deep or many objects,
    nor reaches Python's recursion limit. Linear in ``len(text)``, in C string
    operations (escapes, then strings removed, RFC 8259 section 7) except a loop
    over at most ``2 * max_brackets`` brackets. Invalid JSON may pass; the parser
    refuses it.
    """
    opened = text.count("[") + text.count("{")
    if opened <= max_depth:
        return
    if opened > max_brackets or text.count("]") + text.count("}") > max_brackets:
        raise ValueError(f"JSON holds more than {max_brackets:,} arrays or objects.")
    bare = text.replace("\\\\", "").replace('\\"', "")
    depth = 0
    for char in _NOT_BRACKETS.sub("", _STRINGS.sub("", bare)):
        if char in "[{":
            depth += 1
            if depth > max_depth:
                raise ValueError(f"JSON is nested deeper than {max_depth} levels.")
        else:
            depth -= 1


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, strict: bool = True) -> Any:
    """Parse JSON text (RFC 8259) with a nesting limit.

    ``bytes`` are decoded as UTF-8 (RFC 8259 section 8.1). ``strict`` refuses
    ``NaN`` and ``Infinity`` (not JSON). Raises ``ValueError`` with a message for
    people on bad syntax, bad encoding, nesting deeper than ``max_depth``, or more
    than :data:`MAX_BRACKETS` brackets (:func:`check_depth`).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"JSON must be UTF-8: {exc}") from None
    check_depth(text, max_depth)
    try:
        return json.loads(text, parse_constant=json.strict_constant if strict else None)
    except RecursionError:  # not reached after check_depth; a last guard
        raise ValueError("JSON is nested too deeply.") from None


def ocr_body_limit() -> int:
    """The largest ``POST /api/ocr/`` JSON body in bytes.

    The base64 text of an ``OCR_MAX_UPLOAD_BYTES`` document (4 characters per
    3 bytes, RFC 4648, unwrapped) plus :data:`OCR_BODY_MARGIN`.
    """
    return -(-settings.OCR_MAX_UPLOAD_BYTES // 3) * 4 + OCR_BODY_MARGIN


class JSONParser(BaseParser):
    """``application/json`` with a body size cap, a nesting limit and an object at the top.

    Reads the request stream once (never ``request.body``), at most
    :meth:`max_body_bytes` bytes: a longer body (by ``Content-Length`` or by
    what is read) raises ``OcrError("file_too_large")`` (413). Bad JSON,
    nesting deeper than :attr:`max_depth`, more than :data:`MAX_BRACKETS`
    arrays/objects, or a top-level value that is not an
    object when :attr:`require_object` is set raise DRF's ``ParseError`` (400,
    ``invalid_request``). NaN/Infinity are refused when ``STRICT_JSON`` is on
    (DRF's default).
    """

    media_type = "application/json"
    renderer_class = renderers.JSONRenderer
    strict = api_settings.STRICT_JSON
    max_depth = MAX_DEPTH
    #: Every JSON endpoint of this API takes an object (RFC 8259 allows any value).
    require_object = True
    #: ``field`` named by the 413 error, if any.
    size_field: str | None = None

    def max_body_bytes(self) -> int | None:
        """The body cap in bytes: Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (None: no cap)."""
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:
        parser_context = parser_context or {}
        limit = self.max_body_bytes()
        request = parser_context.get("request")
        if limit is not None and request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                self._too_large(declared, limit)
        raw = self._read(stream, limit)
        encoding = parser_context.get("encoding") or settings.DEFAULT_CHARSET
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        del raw
        try:
            data = loads(text, max_depth=self.max_depth, strict=self.strict)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if self.require_object and not isinstance(data, dict):
            raise ParseError(f"The JSON body must be an object, not {_json_kind(data)}.")
        return data

    def _read(self, stream: IO[bytes] | None, limit: int | None) -> bytes:
        if stream is None:
            return b""
        if limit is None:
            return stream.read()
        # One read normally returns it all; loop in case a server's stream reads short.
        parts: list[bytes] = []
        total = 0
        while True:
            chunk = stream.read(limit + 1 - total)
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
            if total > limit:
                self._too_large(total, limit, at_least=True)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _too_large(self, size: int, limit: int, *, at_least: bool = False) -> None:
        told = f"more than {limit:,}" if at_least else f"{size:,}"
        raise OcrError(
            "file_too_large",
            f"The request body is {told} bytes; the limit is {limit:,} bytes.",
            field=self.size_field,
        )


class OcrJSONParser(JSONParser):
    """The JSON parser of ``POST /api/ocr/``: the cap is :func:`ocr_body_limit`."""

    size_field = "image_base64"

    def max_body_bytes(self) -> int | None:
        """:func:`ocr_body_limit` bytes (base64 of ``OCR_MAX_UPLOAD_BYTES`` plus a margin)."""
        return ocr_body_limit()


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number"


class _NameKeepingMultiPartParser(DjangoMultiPartParser):
    """Django's multipart parser; each upload also gets ``client_name``, its declared name.

    ``client_name`` is the part's ``filename`` (RFC 7578 section 4.2, ``filename*``
    decoded) with HTML entities resolved and any path removed, as Django does,
    but without Django's silent removal of unprintable characters.
    """

    _client_name: str | None = None

    def sanitize_file_name(self, file_name: str) -> str | None:
        base = html.unescape(file_name).rsplit("/")[-1].rsplit("\\")[-1]
        self._client_name = base
        return super().sanitize_file_name(file_name)

    def handle_file_complete(self, old_field_name: str, counters: list[int]) -> None:
        field = force_str(old_field_name, self._encoding, errors="replace")
        count = len(self._files.getlist(field))
        super().handle_file_complete(old_field_name, counters)
        files = self._files.getlist(field)
        if len(files) > count:
            files[-1].client_name = self._client_name


class MultiPartParser(DRFMultiPartParser):
    """``multipart/form-data`` as DRF parses it; uploads carry ``client_name`` (see above).

    Raises ``ParseError`` (400, ``invalid_request``) on a malformed body.
    """

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> DataAndFiles:
        parser_context = parser_context or {}
        request = parser_context["request"]
        encoding = parser_context.get("encoding") or settings.DEFAULT_CHARSET
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            parser = _NameKeepingMultiPartParser(meta, stream, request.upload_handlers, encoding)
            data, files = parser.parse()
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from None
        except TooManyFilesSent:
            raise ParseError(
                f"A request holds at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files."
            ) from None
        return DataAndFiles(data, files)


def batch_body_limit() -> int:
    """The body cap of ``POST /api/batches/`` (bytes): ``OCR_MAX_BATCH_BYTES`` as base64
    (4/3) plus 1 MiB for the options, names and metadata of up to
    ``OCR_MAX_BATCH_ITEMS`` items."""
    return settings.OCR_MAX_BATCH_BYTES * 4 // 3 + 1024 * 1024


class BatchJSONParser(JSONParser):
    """The JSON parser of ``POST /api/batches/``: the cap is :func:`batch_body_limit`."""

    def max_body_bytes(self) -> int | None:
        """:func:`batch_body_limit` bytes."""
        return batch_body_limit()
