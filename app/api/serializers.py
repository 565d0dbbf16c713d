"""Request and response shapes of the REST API (no business rules here)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import QueryDict
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from app import selectors
from app.api import parsers
from app.files import control_character, filename_problem
from app.models import (
    WEBHOOK_EVENTS,
    ApiKey,
    Batch,
    Job,
    JobStatus,
    Page,
    WebhookDelivery,
    WebhookEndpoint,
)

# ---------------------------------------------------------------------------
# Errors (documentation of the shared error shape)


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable error code, e.g. `unsupported_format`.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    field = serializers.CharField(required=False, help_text="The request field at fault.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


# ---------------------------------------------------------------------------
# Submitting a job

PSM_HELP = (
    "Tesseract page segmentation mode: 1 auto+OSD, 3 fully automatic (default), 4 one column, "
    "6 one uniform block, 7 one line, 8 one word, 11 sparse text, 13 raw line."
)


class LimitedJSONField(serializers.JSONField):
    """A JSONField whose JSON text (a multipart form field) is parsed with the API's limits.

    DRF's JSONField calls ``json.loads`` itself, so ~1,000 nested brackets in a
    form field raised ``RecursionError`` (a 500); :func:`app.api.parsers.loads`
    refuses nesting deeper than ``parsers.MAX_DEPTH`` with a validation error.
    """

    def to_internal_value(self, data: Any) -> Any:
        is_text = self.binary or getattr(data, "is_json_string", False)
        if is_text and isinstance(data, str | bytes):
            try:
                return parsers.loads(data)
            except ValueError as exc:
                raise serializers.ValidationError(f"Not valid JSON: {exc}") from None
        return super().to_internal_value(data)


class MetadataField(LimitedJSONField):
    """``metadata``: a JSON object; empty (``""``, as an emptied form field sends it) is none."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and not data.strip():
            return {}
        return super().to_internal_value(data)


# (field class, what it must be, test) for JSON values; the first matching class counts.
_JSON_TYPES: tuple[tuple[type, str, Any], ...] = (
    (serializers.BooleanField, "true or false", lambda v: isinstance(v, bool)),
    (
        serializers.IntegerField,
        "an integer",
        lambda v: (
            not isinstance(v, bool)
            and (isinstance(v, int) or (isinstance(v, float) and v.is_integer()))
        ),
    ),
    (serializers.JSONField, "a JSON object", lambda v: isinstance(v, dict)),
    (serializers.ChoiceField, "a string", lambda v: isinstance(v, str)),
    (serializers.CharField, "a string", lambda v: isinstance(v, str)),
)


class JsonTypesMixin:
    """A JSON body's values must have the JSON types the schema gives (``"enabled":
    "false"`` or ``"name": 1`` are refused, not converted)."""

    _MORE_TYPES: tuple[tuple[type, str, Any], ...] = (
        (serializers.ListField, "a list", lambda v: isinstance(v, list)),
        (serializers.DateTimeField, "a date-time string", lambda v: isinstance(v, str)),
    )

    def to_internal_value(self, data: Any) -> Any:
        # A QueryDict (a form) is a dict too, but its values are all text.
        if isinstance(data, dict) and not isinstance(data, QueryDict):
            for name, value in data.items():
                field = self.fields.get(name)  # type: ignore[attr-defined]
                # null: the field's own allow_null decides
                if field is None or value is None or field.read_only:
                    continue
                for field_class, label, accepts in self._MORE_TYPES + _JSON_TYPES:
                    if isinstance(field, field_class):
                        if not accepts(value):
                            raise serializers.ValidationError({name: [f"Must be {label}."]})
                        break
        return super().to_internal_value(data)  # type: ignore[misc]


class OcrRequestSerializer(JsonTypesMixin, serializers.Serializer):
    """``POST /api/ocr/``: exactly one of ``image``, ``image_base64``, ``image_url``."""

    image = serializers.FileField(
        required=False,
        # An empty upload is refused by the content checks, with ``invalid_image``
        # like an empty ``image_base64``, not by the field with a generic code.
        allow_empty_file=True,
        help_text="The document (multipart upload): JPEG, PNG, TIFF, BMP, GIF, WebP, PDF.",
    )
    image_base64 = serializers.CharField(
        required=False,
        trim_whitespace=True,
        help_text="The document as base64, bare or as a `data:image/png;base64,...` URI.",
    )
    image_url = serializers.URLField(
        required=False, help_text="An http(s) URL the service downloads the document from."
    )
    filename = serializers.CharField(
        required=False, max_length=255, help_text="Name to record for base64/URL input."
    )
    languages = serializers.CharField(
        required=False,
        help_text="Tesseract language codes joined by `+`, e.g. `eng+deu` (default `eng`), "
        "or `auto`: each page's language is detected and read with its pack.",
    )
    engine = serializers.CharField(required=False, help_text="Engine name (default `tesseract`).")
    psm = serializers.IntegerField(required=False, min_value=0, max_value=13, help_text=PSM_HELP)
    oem = serializers.IntegerField(
        required=False, min_value=0, max_value=3, help_text="Tesseract OCR engine mode."
    )
    pages = serializers.CharField(
        required=False, help_text="Page ranges of a multi-page document, e.g. `1-3,7`."
    )
    rotate = serializers.ChoiceField(
        choices=["auto", "off"], required=False, help_text="Automatic page orientation."
    )
    deskew = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Correct small skew angles."
    )
    clean = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Binarise and denoise first."
    )
    dpi = serializers.IntegerField(
        required=False, min_value=50, max_value=1200, help_text="Override the image resolution."
    )
    pdf_text = serializers.ChoiceField(
        choices=["ocr", "use"],
        required=False,
        help_text="`use`: take a PDF page's existing text layer instead of OCR.",
    )
    service = serializers.CharField(
        required=False, max_length=100, help_text="Provider service name (UltraOCR)."
    )
    box_threshold = serializers.FloatField(
        required=False,
        min_value=0.0,
        max_value=1.0,
        help_text="`ppocr`: the detector's text-box score threshold (0-1; default 0.5).",
    )
    unclip_ratio = serializers.FloatField(
        required=False,
        min_value=1.0,
        max_value=4.0,
        help_text="`ppocr`: how far each detected text box is grown (1-4; default 1.6).",
    )
    upscale_limit = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=4000,
        help_text="`ppocr`: a page whose shorter side is under this many pixels is "
        "scaled up to it for detection (default 736; 0: never).",
    )
    metadata = MetadataField(
        required=False, help_text="A JSON object stored with the job and returned as given."
    )
    callback_url = serializers.URLField(
        required=False,
        max_length=2000,
        help_text="A URL that gets the job's signed end event (`job.done`, `job.failed`, "
        "`job.canceled`), signed with your first enabled webhook endpoint's secret.",
    )
    wait = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=30,
        help_text="Seconds to wait for the result (0-30). Done in time: 200 with the job.",
    )

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        unknown[0]: [
                            serializers.ErrorDetail("Unknown option.", code="invalid_option")
                        ]
                    }
                )
        if isinstance(data, QueryDict):
            # A form field given twice: DRF would silently take the last value.
            repeated = sorted(k for k in data if len(data.getlist(k)) > 1)
            if repeated:
                raise serializers.ValidationError({repeated[0]: ["Given more than once."]})
            # Form booleans are `true`/`false` (what the schema says and clients send),
            # not every spelling DRF would take ("0", "off", "yes").
            for name, value in data.items():
                field = self.fields.get(name)
                if (
                    isinstance(field, serializers.BooleanField)
                    and isinstance(value, str)
                    and value.lower() not in ("true", "false", "null", "")
                ):
                    raise serializers.ValidationError({name: ["Must be true or false."]})
        # A JSON body's types are checked by JsonTypesMixin; form fields are all text.
        return super().to_internal_value(data)

    def validate_filename(self, value: str) -> str:
        problem = filename_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_image(self, value: Any) -> Any:
        # The upload's own name (the part's Content-Disposition filename), as recorded
        # when no ``filename`` is given: the same rule as ``filename``. ``client_name``
        # is that name before Django drops the characters it cannot print
        # (app.api.parsers.MultiPartParser).
        name = getattr(value, "client_name", None) or getattr(value, "name", None) or ""
        problem = filename_problem(name) if value is not None else None
        if problem:
            raise serializers.ValidationError(f"The uploaded file's name is refused: {problem}")
        return value

    def validate_metadata(self, value: Any) -> dict[str, Any]:
        if isinstance(value, str):
            try:
                value = parsers.loads(value)
            except ValueError:
                raise serializers.ValidationError("metadata must be a JSON object.") from None
        if not isinstance(value, dict):
            raise serializers.ValidationError("metadata must be a JSON object.")
        if len(json.dumps(value)) > 16_384:
            raise serializers.ValidationError("metadata is larger than 16 KB.")
        return value

    def validate_languages(self, value: str) -> str:
        codes = [c.strip() for c in value.replace(",", "+").replace(" ", "+").split("+")]
        codes = [c for c in codes if c]
        if not codes:
            raise serializers.ValidationError("Give at least one language code.")
        if "auto" in codes and len(set(codes)) > 1:
            # docs/languages-auto.md: detection picks one pack per page.
            raise serializers.ValidationError(
                "`auto` detects each page's language: give it alone, not with codes.",
                code="unknown_language",
            )
        return "+".join(dict.fromkeys(codes))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        sources = [k for k in ("image", "image_base64", "image_url") if attrs.get(k)]
        if not sources:
            raise serializers.ValidationError(
                {"image": ["Send a file in `image`, or `image_base64`, or `image_url`."]}
            )
        if len(sources) > 1:
            raise serializers.ValidationError(
                {sources[1]: ["Send only one of image, image_base64, image_url."]}
            )
        attrs.setdefault("languages", settings.OCR_DEFAULT_LANGUAGES)
        attrs.setdefault("engine", settings.OCR_DEFAULT_ENGINE)
        return attrs


# A 96x40 1-bit PNG reading "OCR": the JSON request example, valid as it is.
EXAMPLE_PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAGAAAAAoAQAAAAAp6MKUAAAAmklEQVR42s2QsQ3CQBAE5w8Lngh3ACXQAS6LwIEDF/Y"
    "lUMLTwQdIGMv2EjxgB+Sw2dztnVbrxCzjN2CM/moZHmpuPWoAoyNcPrZ0jqEjBcCIbVqt8XnjjPb76+DuMxh46CqgeA1"
    "LLW5ctk3QgTJU2gKxWdjKnEATNe8Eh7oce4oIoMQpuDjsJRme6giWADQ5DZs47SS5fyh+1hPDSzf4YBPokwAAAABJRU5E"
    "rkJggg=="
)

# Valid values of the optional fields, shown in the schema so that Swagger UI's
# "Try it out" sends a request that works as it comes (not "string" everywhere).
OCR_OPTION_EXAMPLES: dict[str, Any] = {
    "filename": "scan.png",
    "languages": "eng",
    "engine": "tesseract",
    "psm": 3,
    "oem": 3,
    "pages": "1",
    "rotate": "auto",
    "deskew": False,
    "clean": False,
    "dpi": 300,
    "pdf_text": "ocr",
    "wait": 5,
}


class OcrUploadSerializer(OcrRequestSerializer):
    """``POST /api/ocr/`` as ``multipart/form-data`` (documentation: the file in ``image``)."""

    image = serializers.FileField(
        help_text="The document: JPEG, PNG, TIFF, BMP, GIF, WebP or PDF (decided by content)."
    )
    image_base64 = None
    image_url = None
    metadata = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="A JSON object as text, stored with the job and returned as given (empty: none).",
    )

    class Meta:
        # An empty ``filename`` keeps the chosen file's own name.
        field_examples = {
            **OCR_OPTION_EXAMPLES,
            # Empty: the chosen file's own name; no UltraOCR ``service`` and no PP-OCR
            # options (the default engine accepts none).
            "filename": "",
            "service": "",
            "box_threshold": "",
            "unclip_ratio": "",
            "upscale_limit": "",
            # Empty: no callback (one needs a webhook endpoint of yours to sign it).
            "callback_url": "",
            "metadata": '{"ref": "invoice-42"}',
        }
        form_fields = True


class OcrJsonSerializer(OcrRequestSerializer):
    """``POST /api/ocr/`` as ``application/json`` (documentation: ``image_base64`` or
    ``image_url``, exactly one)."""

    image = None
    metadata = serializers.DictField(
        required=False, help_text="A JSON object stored with the job and returned as given."
    )

    class Meta:
        field_examples = {
            **OCR_OPTION_EXAMPLES,
            "image_base64": EXAMPLE_PNG_BASE64,
            "metadata": {"ref": "invoice-42"},
        }


class JobRerunSerializer(OcrRequestSerializer):
    """Other options for running a finished job again (the job page's "Run again").

    The submission's option fields with the submission's checks; no document, no
    metadata. A field left out keeps the job's value; ``psm`` or ``pages`` given
    empty (null) removes that option.
    """

    image = None
    image_base64 = None
    image_url = None
    filename = None
    metadata = None
    callback_url = None
    wait = None
    psm = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=13, help_text=PSM_HELP
    )
    pages = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="Page ranges of a multi-page document, e.g. `1-3,7` (empty: all pages).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return attrs


# ---------------------------------------------------------------------------
# Jobs


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


@extend_schema_field({"type": "object", "additionalProperties": {}})
class JsonObjectField(serializers.JSONField):
    """A stored JSON object (the job's ``options``, ``metadata``), declared as an object."""


class JobLinkMixin:
    """A job's absolute status ``url`` and its ``error`` (``{"code", "message"}`` or null)."""

    def get_url(self, job: Job) -> str:
        path = reverse("api-ocr-detail", args=[job.id])
        request = self.context.get("request")  # type: ignore[attr-defined]
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, job: Job) -> dict[str, str] | None:
        if not job.error_code:
            return None
        return {"code": job.error_code, "message": job.error_message}


class JobListSerializer(JobLinkMixin, serializers.ModelSerializer):
    """A job as listed in history (no result)."""

    url = serializers.SerializerMethodField(help_text="Status URL of the job.")
    options = JsonObjectField(
        read_only=True, help_text="The OCR options the job was created with (psm, pages, ...)."
    )
    metadata = JsonObjectField(read_only=True, help_text="The caller's metadata, as given.")
    languages = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    batch = serializers.UUIDField(
        source="batch_id", read_only=True, allow_null=True, help_text="The job's batch, if any."
    )
    source = serializers.CharField(
        read_only=True,
        help_text='The API the job came through: "" for this one, "azure" for the Azure '
        "Document Intelligence-compatible one (`/compat/azure/`).",
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "url",
            "status",
            "batch",
            "source",
            "filename",
            "content_type",
            "size",
            "sha256",
            "engine",
            "languages",
            "options",
            "metadata",
            "page_count",
            "pages_done",
            "owner",
            "created_at",
            "started_at",
            "finished_at",
            "duration",
            "error",
        ]
        read_only_fields = fields

    def get_languages(self, job: Job) -> list[str]:
        return job.language_list

    def get_owner(self, job: Job) -> str | None:
        return job.owner.get_username() if job.owner_id else None


# The Document of the result schema (docs/result-schema.md); null until the job is done.
JOB_RESULT_SCHEMA = {"type": "object", "additionalProperties": {}, "nullable": True}


class JobSerializer(JobListSerializer):
    """A job with its text and result (docs/result-schema.md) once done."""

    text = serializers.CharField(read_only=True)
    result = serializers.SerializerMethodField(
        help_text="Document: engine, engine_version, languages, pages[] (blocks, lines, words "
        "with bbox [left, top, right, bottom] px and confidence 0-100), text."
    )

    class Meta(JobListSerializer.Meta):
        fields = [*JobListSerializer.Meta.fields, "text", "result"]
        read_only_fields = fields

    @extend_schema_field(JOB_RESULT_SCHEMA)
    def get_result(self, job: Job) -> dict[str, Any] | None:
        doc = selectors.job_document(job=job)
        return doc.to_dict() if doc else None


class PageSerializer(serializers.ModelSerializer):
    """One page's result: the schema Page plus status and timing."""

    result = serializers.JSONField(read_only=True)
    error = serializers.SerializerMethodField()

    class Meta:
        model = Page
        fields = [
            "number",
            "status",
            "width",
            "height",
            "dpi",
            "rotation",
            "skew",
            "confidence",
            "text",
            "duration",
            "error",
            "result",
        ]
        read_only_fields = fields

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, page: Page) -> dict[str, str] | None:
        if not page.error_code:
            return None
        return {"code": page.error_code, "message": page.error_message}


# ---------------------------------------------------------------------------
# Accounts


class RegisterSerializer(serializers.Serializer):
    """``POST /api/register/``; the password is checked by Django's validators."""

    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})

    def validate_username(self, value: str) -> str:
        user_model = get_user_model()
        username_field = user_model._meta.get_field(user_model.USERNAME_FIELD)
        for validator in username_field.validators:
            try:
                validator(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(list(exc.messages)) from None
        if user_model.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("This username is taken.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user_model = get_user_model()
        candidate = user_model(username=attrs["username"], email=attrs.get("email", ""))
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(help_text="The refresh token to blacklist.")


# ---------------------------------------------------------------------------
# Engines and health


class EngineSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=["local", "cloud"])
    available = serializers.BooleanField()
    version = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField())
    default = serializers.BooleanField()
    reason = serializers.CharField(required=False, help_text="Why unavailable (staff only).")


class HealthCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField()
    seconds = serializers.FloatField()


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "fail"])
    checks = serializers.DictField(
        child=HealthCheckSerializer(),
        required=False,
        help_text="Each check by name; only for staff users and the metrics token.",
    )


# ---------------------------------------------------------------------------
# API keys


class ApiKeySerializer(JsonTypesMixin, serializers.ModelSerializer):
    """An API key as its owner sees it: never the key itself, which only the answer to
    ``POST /api/keys/`` carries (:class:`ApiKeyCreatedSerializer`)."""

    id = serializers.UUIDField(source="uid", read_only=True)
    name = serializers.CharField(max_length=50, trim_whitespace=True)
    prefix = serializers.CharField(
        read_only=True, help_text="The key's first 8 characters, to tell keys apart."
    )
    created_at = serializers.DateTimeField(source="created", read_only=True)
    expires_at = serializers.DateTimeField(
        source="expiry_date",
        required=False,
        allow_null=True,
        default=None,
        help_text="When the key stops working (ISO 8601, in the future); null: never.",
    )
    last_used_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Last request made with it (to the minute)."
    )
    expired = serializers.BooleanField(source="has_expired", read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "expired"]

    def validate_name(self, value: str) -> str:
        char = control_character(value)
        if char is not None:
            raise serializers.ValidationError(
                f"A key name cannot contain control characters ({char!r})."
            )
        return value


class ApiKeyCreatedSerializer(ApiKeySerializer):
    """The answer to ``POST /api/keys/``: the key's fields and, this once, the key."""

    key = serializers.CharField(
        read_only=True,
        help_text="The API key. Shown only here: store it now. Send it as "
        "`Authorization: Api-Key <key>` or `X-API-Key: <key>`.",
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


# ---------------------------------------------------------------------------
# Batches


class BatchItemSerializer(serializers.Serializer):
    """One document of a JSON batch: ``image_base64`` or ``image_url`` (exactly one),
    an optional ``filename`` and ``metadata`` (the job's own)."""

    image_base64 = serializers.CharField(
        required=False, trim_whitespace=True, help_text="The document as base64."
    )
    image_url = serializers.URLField(required=False, help_text="An http(s) URL to download.")
    filename = serializers.CharField(required=False, max_length=255)
    metadata = MetadataField(required=False, help_text="A JSON object stored with this job.")

    _TYPES = {"image_base64": str, "image_url": str, "filename": str, "metadata": dict}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Must be a JSON object."]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({unknown[0]: ["Unknown field."]})
        for name, kind in self._TYPES.items():
            if name in data and data[name] is not None and not isinstance(data[name], kind):
                label = "an object" if kind is dict else "a string"
                raise serializers.ValidationError({name: [f"Must be {label}."]})
        return super().to_internal_value(data)

    def validate_filename(self, value: str) -> str:
        problem = filename_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        sources = [k for k in ("image_base64", "image_url") if attrs.get(k)]
        if len(sources) != 1:
            raise serializers.ValidationError(
                {"image_base64": ["Give exactly one of image_base64 and image_url."]}
            )
        return attrs


class BatchRequestSerializer(OcrRequestSerializer):
    """``POST /api/batches/``: the documents and the options they share.

    JSON: ``items`` (1 to ``OCR_MAX_BATCH_ITEMS`` objects); multipart: the field
    ``image`` once per document (the view takes the files; this checks the rest).
    ``metadata`` is the batch's own; each JSON item may carry its own.
    """

    image = None
    image_base64 = None
    image_url = None
    filename = None
    wait = None
    items = BatchItemSerializer(many=True, required=False, help_text="The documents (JSON).")
    callback_url = serializers.URLField(
        required=False,
        max_length=2000,
        help_text="A URL that gets the signed `batch.done` webhook (see `/api/webhooks/`).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("languages", settings.OCR_DEFAULT_LANGUAGES)
        attrs.setdefault("engine", settings.OCR_DEFAULT_ENGINE)
        return attrs


class BatchJsonSerializer(BatchRequestSerializer):
    """``POST /api/batches/`` as ``application/json`` (documentation): ``items`` required."""

    items = BatchItemSerializer(
        many=True,
        min_length=1,
        max_length=settings.OCR_MAX_BATCH_ITEMS,
        help_text="The documents: each `image_base64` or `image_url`, optional `filename` "
        "and `metadata`.",
    )


class BatchJobSerializer(JobLinkMixin, serializers.ModelSerializer):
    """A job as its batch lists it (no text, no result)."""

    url = serializers.SerializerMethodField(help_text="Status URL of the job.")
    error = serializers.SerializerMethodField()
    metadata = JsonObjectField(read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "url",
            "status",
            "filename",
            "page_count",
            "pages_done",
            "metadata",
            "error",
        ]
        read_only_fields = fields


class BatchCountsSerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    processing = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    canceled = serializers.IntegerField()


class BatchListSerializer(serializers.ModelSerializer):
    """A batch as listed: status, counts of its jobs by status, pages done of total."""

    url = serializers.SerializerMethodField(help_text="Status URL of the batch.")
    callback_url = serializers.SerializerMethodField(
        help_text="Where `batch.done` is sent, or null."
    )
    counts = serializers.SerializerMethodField()
    page_count = serializers.IntegerField(source="n_pages", read_only=True)
    pages_done = serializers.IntegerField(source="n_pages_done", read_only=True)
    languages = serializers.SerializerMethodField()
    options = JsonObjectField(read_only=True)
    metadata = JsonObjectField(read_only=True)

    class Meta:
        model = Batch
        fields = [
            "id",
            "url",
            "status",
            "job_count",
            "counts",
            "page_count",
            "pages_done",
            "engine",
            "languages",
            "options",
            "metadata",
            "callback_url",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_url(self, batch: Batch) -> str:
        path = reverse("api-batch-detail", args=[batch.id])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_callback_url(self, batch: Batch) -> str | None:
        return batch.callback_url or None

    @extend_schema_field(BatchCountsSerializer)
    def get_counts(self, batch: Batch) -> dict[str, int]:
        return {status: getattr(batch, f"n_{status}", 0) for status in JobStatus.values}

    def get_languages(self, batch: Batch) -> list[str]:
        return [code for code in batch.languages.split("+") if code]


class BatchSerializer(BatchListSerializer):
    """A batch with every job's summary, in submission order."""

    jobs = serializers.SerializerMethodField()

    class Meta(BatchListSerializer.Meta):
        fields = [*BatchListSerializer.Meta.fields, "jobs"]
        read_only_fields = fields

    @extend_schema_field(BatchJobSerializer(many=True))
    def get_jobs(self, batch: Batch) -> list[dict[str, Any]]:
        return BatchJobSerializer(
            selectors.batch_jobs(batch=batch), many=True, context=self.context
        ).data


# ---------------------------------------------------------------------------
# Webhooks


class WebhookEndpointSerializer(JsonTypesMixin, serializers.ModelSerializer):
    """A webhook endpoint as its owner sees it (the secret only when it is made)."""

    id = serializers.UUIDField(source="uid", read_only=True)
    url = serializers.URLField(max_length=2000, help_text="Where the signed messages go.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(WEBHOOK_EVENTS)),
        required=False,
        allow_empty=False,
        min_length=1,
        help_text="Event types to send (default: all).",
    )
    enabled = serializers.BooleanField(required=False, default=True)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "enabled", "created_at"]
        read_only_fields = ["id", "created_at"]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The answer to ``POST /api/webhooks/``: the endpoint and, this once, its secret."""

    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret (`whsec_...`, Standard Webhooks). Shown only here.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookEndpointSerializer.Meta.read_only_fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One message and its attempts: the endpoint's delivery log."""

    payload = JsonObjectField(read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "message_id",
            "event",
            "url",
            "status",
            "attempts",
            "last_status_code",
            "last_latency_ms",
            "last_response",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "payload",
        ]
        read_only_fields = fields
