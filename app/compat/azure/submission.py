"""An Analyze Document request in our terms: a :class:`~app.services.JobRequest`, and
the options that shape its answer, carried in the result id.

``POST .../documentModels/prebuilt-read:analyze?api-version=...`` takes the document
as JSON (``{"base64Source": "..."}`` or ``{"urlSource": "https://..."}``, downloaded
through ``services.fetch_document``, our guarded client) or as the raw bytes with the
file's own Content-Type. Query parameters: ``pages`` (our ``pages`` option), ``locale``
(a BCP 47 tag mapped to Tesseract languages; one we cannot map reads in our default
languages), ``stringIndexType``, ``outputContentFormat``, ``output`` (``pdf``) and
``features`` (only ``ocrHighResolution``, which changes nothing here).

The answer's options (``stringIndexType``, ``outputContentFormat``, ``output=pdf``)
must outlive the request, and a job stores only our own options. Rather than store
anything, :class:`ResultOptions` writes them into the result id: ``<job id>`` for
the defaults, else ``<job id>-<flag>...`` with flags ``md`` (markdown), ``cp``
(unicodeCodePoint), ``u16`` (utf16CodeUnit) and ``pdf``, in that order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from app import services
from app.api.parsers import loads, ocr_body_limit
from app.compat.azure.errors import AzureError, invalid_argument, not_found
from app.compat.azure.text import INDEX_TYPES
from app.compat.body import read_body
from app.errors import OcrError
from app.pipeline import inputs
from app.pipeline.options import JobOptions

#: ``Job.source`` of the jobs made here.
SOURCE = "azure"

#: The one model served.
MODEL_ID = "prebuilt-read"

#: API versions per route prefix; the first is the one the current SDK speaks.
API_VERSIONS = {
    "documentintelligence": (
        "2024-11-30",
        "2024-07-31-preview",
        "2024-02-29-preview",
        "2023-10-31-preview",
    ),
    "formrecognizer": ("2023-07-31", "2022-08-31"),
}

CONTENT_FORMATS = ("text", "markdown")
#: ``features`` that change nothing in our answer (we always read at full resolution).
HARMLESS_FEATURES = ("ocrHighResolution",)

#: Media types taken as the document itself (besides JSON).
_RAW_TYPES = ("application/octet-stream", "application/pdf")

# A BCP 47 tag as Azure takes it: ``en``, ``en-US``, ``zh-Hans``, ``sr-Latn-RS``.
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
#: Primary language subtags -> Tesseract's codes (the obvious ones).
_LANGUAGES = {
    "af": "afr", "ar": "ara", "bg": "bul", "bn": "ben", "ca": "cat", "cs": "ces",
    "cy": "cym", "da": "dan", "de": "deu", "el": "ell", "en": "eng", "es": "spa",
    "et": "est", "eu": "eus", "fa": "fas", "fi": "fin", "fr": "fra", "ga": "gle",
    "gl": "glg", "he": "heb", "hi": "hin", "hr": "hrv", "hu": "hun", "id": "ind",
    "is": "isl", "it": "ita", "ja": "jpn", "ko": "kor", "lt": "lit", "lv": "lav",
    "ms": "msa", "mt": "mlt", "nb": "nor", "nl": "nld", "nn": "nor", "no": "nor",
    "pl": "pol", "pt": "por", "ro": "ron", "ru": "rus", "sk": "slk", "sl": "slv",
    "sq": "sqi", "sr": "srp", "sv": "swe", "sw": "swa", "ta": "tam", "th": "tha",
    "tr": "tur", "uk": "ukr", "ur": "urd", "vi": "vie",
}  # fmt: skip
_TRADITIONAL_CHINESE = ("hant", "tw", "hk", "mo")

# <job uuid> then the flags, e.g. 2f1c...-md-pdf
_RESULT_ID = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})((?:-[a-z0-9]+)*)$"
)
_INDEX_FLAGS = {"unicodeCodePoint": "cp", "utf16CodeUnit": "u16"}


@dataclass(frozen=True, slots=True)
class ResultOptions:
    """What the answer of an analysis looks like: ``content_format`` (``text`` or
    ``markdown``), ``index_type`` (a ``stringIndexType``) and ``pdf`` (``output=pdf``:
    the searchable PDF may be fetched)."""

    content_format: str = "text"
    index_type: str = INDEX_TYPES[0]
    pdf: bool = False

    def flags(self) -> list[str]:
        flags = ["md"] if self.content_format == "markdown" else []
        if self.index_type in _INDEX_FLAGS:
            flags.append(_INDEX_FLAGS[self.index_type])
        return [*flags, "pdf"] if self.pdf else flags

    def result_id(self, job_id: Any) -> str:
        """The result id of job ``job_id`` answered with these options."""
        return "-".join([str(job_id), *self.flags()])

    @classmethod
    def parse(cls, result_id: str) -> tuple[str, ResultOptions]:
        """``(job id, options)`` of a result id made by :meth:`result_id`; a 404
        ``NotFound`` (``OperationNotFound``) for anything else."""
        match = _RESULT_ID.match(result_id.lower())
        flags = match.group(2).split("-")[1:] if match else []
        by_flag = {flag: name for name, flag in _INDEX_FLAGS.items()}
        options = cls(
            content_format="markdown" if "md" in flags else "text",
            index_type=next((by_flag[f] for f in flags if f in by_flag), INDEX_TYPES[0]),
            pdf="pdf" in flags,
        )
        if match is None or flags != options.flags():
            raise not_found(f"The analyze result {result_id!r} was not found.")
        return match.group(1), options


def check_api_version(prefix: str, query: Any) -> str:
    """The request's ``api-version`` if this route speaks it; else 400 ``InvalidArgument``."""
    version = query.get("api-version")
    known = API_VERSIONS[prefix]
    if not version:
        raise invalid_argument(
            f"The parameter api-version is required; this endpoint speaks {', '.join(known)}.",
            inner="ParameterMissing",
        )
    if version not in known:
        raise invalid_argument(
            f"The api-version {version!r} is not supported here; use one of {', '.join(known)}."
        )
    return version


def check_model(model_id: str) -> None:
    """404 ``NotFound`` (``ModelNotFound``) for any model but :data:`MODEL_ID`."""
    if model_id != MODEL_ID:
        raise not_found(
            f"The model {model_id!r} was not found; this service serves {MODEL_ID} only.",
            inner="ModelNotFound",
        )


def result_options(query: Any) -> ResultOptions:
    """The answer's options from the analyze request's query (400 ``InvalidArgument``
    for a value Azure does not take or we cannot honour)."""
    content_format = query.get("outputContentFormat") or "text"
    if content_format not in CONTENT_FORMATS:
        raise invalid_argument(
            f"outputContentFormat must be one of {', '.join(CONTENT_FORMATS)}, "
            f"not {content_format!r}."
        )
    index_type = query.get("stringIndexType") or INDEX_TYPES[0]
    if index_type not in INDEX_TYPES:
        raise invalid_argument(
            f"stringIndexType must be one of {', '.join(INDEX_TYPES)}, not {index_type!r}."
        )
    outputs = _list(query, "output")
    unknown = [value for value in outputs if value != "pdf"]
    if unknown:
        raise invalid_argument(
            f"output {unknown[0]!r} is not available for {MODEL_ID} here; only pdf is."
        )
    features = [value for value in _list(query, "features") if value not in HARMLESS_FEATURES]
    if features:
        raise invalid_argument(
            f"The feature {features[0]!r} is not available here "
            f"(only {', '.join(HARMLESS_FEATURES)} is taken)."
        )
    if _list(query, "queryFields"):
        raise invalid_argument("queryFields is not available here.")
    return ResultOptions(content_format=content_format, index_type=index_type, pdf="pdf" in outputs)


def _list(query: Any, name: str) -> list[str]:
    """A comma-separated (or repeated) query parameter's values."""
    return [part.strip() for value in query.getlist(name) for part in value.split(",") if part]


def languages_for(locale: str | None) -> str:
    """Tesseract languages (``eng+deu``) for an Azure ``locale``: the obvious code of its
    language (``en``, ``en-US`` -> ``eng``; ``zh-Hans`` -> ``chi_sim``); our default
    languages (``OCR_DEFAULT_LANGUAGES``) when there is none or we know no code for it.
    400 ``InvalidArgument`` for a value that is not a language tag."""
    if not locale:
        return settings.OCR_DEFAULT_LANGUAGES
    if not _LOCALE.match(locale):
        raise invalid_argument(f"The locale {locale!r} is not a language tag such as en-US.")
    primary, *rest = locale.lower().split("-")
    if primary == "zh":
        return "chi_tra" if any(tag in _TRADITIONAL_CHINESE for tag in rest) else "chi_sim"
    return _LANGUAGES.get(primary, settings.OCR_DEFAULT_LANGUAGES)


def job_request(request: HttpRequest) -> services.JobRequest:
    """The analyze request as a :class:`~app.services.JobRequest` (the document read
    from the body, the options from the query). Raises ``AzureError`` or ``OcrError``."""
    query = request.GET
    options = JobOptions.from_request(
        {"pages": query.get("pages") or None},
        engine=settings.OCR_DEFAULT_ENGINE,
        languages=languages_for(query.get("locale")),
    )
    data, filename = _document(request)
    return services.JobRequest(data=data, filename=filename, options=options, source=SOURCE)


def _document(request: HttpRequest) -> tuple[bytes, str]:
    """The document's bytes and a file name, from a JSON or a raw body."""
    media_type = (request.content_type or "").lower()
    if media_type == "application/json":
        body = read_body(request, ocr_body_limit())
        try:
            data = loads(body) if body.strip() else None
        except ValueError as exc:
            raise OcrError("invalid_request", f"The body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise OcrError(
                "invalid_request",
                'The body must be a JSON object: {"base64Source": "..."} or '
                '{"urlSource": "https://..."}.',
            )
        sources = [name for name in ("base64Source", "urlSource") if data.get(name) is not None]
        if len(sources) != 1 or not isinstance(data[sources[0]], str):
            raise OcrError(
                "invalid_request",
                "Give exactly one of base64Source (a base64 string) and urlSource (a URL).",
            )
        if sources[0] == "base64Source":
            return inputs.decode_base64(data["base64Source"], field="base64Source"), "document"
        return services.fetch_document(url=data["urlSource"])
    if media_type in _RAW_TYPES or media_type.startswith("image/"):
        return read_body(request, settings.OCR_MAX_UPLOAD_BYTES), "document"
    raise AzureError(
        415,
        "UnsupportedMediaType",
        f"Content-Type {media_type or '(none)'!r} is not taken: send application/json "
        '({"base64Source"} or {"urlSource"}), or the file itself as application/pdf, '
        "image/* or application/octet-stream.",
    )
