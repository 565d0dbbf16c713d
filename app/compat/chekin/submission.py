"""A Chekin "Scan a Picture" request in our terms: a :class:`~app.services.JobRequest`.

``POST /api/v{1,2}/tools/ocr/picture/`` (Chekin's API reference, "OCR Web") sends
``{"picture_file": "data:image/png;base64,..."}``: the picture as a base64 data URL
(a bare base64 string is taken too). The documented files are PNG, JPEG, PDF, TIFF
and BMP; the job's own checks (``services.job_create``: type by content, bytes,
pixels, pages, bombs) decide. The body is JSON whatever the Content-Type says: the
v2 reference's curl example sends its JSON as ``multipart/form-data`` (with no
boundary); a real multipart or urlencoded form with a ``picture_file`` field (text,
or the file itself) is read too. The job runs the local MRZ reader (``engine=mrz``)
and carries ``source="chekin"``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

from app import services
from app.api.parsers import loads, ocr_body_limit
from app.compat.body import check_length, read_body
from app.compat.chekin.errors import NON_FIELD, PICTURE_FIELD, ChekinError
from app.compat.chekin.ids import SOURCE
from app.errors import OcrError
from app.pipeline import inputs
from app.pipeline.options import JobOptions

#: Our engine that answers: the local MRZ reader (app/engines/mrz).
ENGINE = "mrz"
#: The MRZ alphabet is read with Tesseract's English model.
LANGUAGES = "eng"
#: The name the picture is stored under (its extension follows the detected type).
FILENAME = "picture"

_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def job_request(request: HttpRequest) -> services.JobRequest:
    """The request as a :class:`~app.services.JobRequest` for the MRZ engine.

    Raises ``ChekinError`` (a body that is not an object, a missing or non-text
    ``picture_file``) or ``OcrError`` (``invalid_request`` for bad JSON,
    ``file_too_large``, ``invalid_image`` for bad base64 or data URL).
    """
    options = JobOptions.from_request({}, engine=ENGINE, languages=LANGUAGES)
    data = _picture(request)
    return services.JobRequest(data=data, filename=FILENAME, options=options, source=SOURCE)


def _picture(request: HttpRequest) -> bytes:
    """The picture's bytes from a JSON body or a form."""
    limit = ocr_body_limit()
    check_length(request, limit)
    media_type = (request.content_type or "").lower()
    is_form = media_type in _FORM_TYPES and (
        media_type != "multipart/form-data" or "boundary=" in request.META.get("CONTENT_TYPE", "")
    )
    if is_form:
        return _form_picture(request)
    body = read_body(request, limit)
    try:
        data = loads(body) if body.strip() else {}
    except ValueError as exc:
        raise OcrError("invalid_request", f"JSON parse error - {exc}") from None
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ChekinError(
            400, {NON_FIELD: [f"Invalid data. Expected a dictionary, but got {kind}."]}
        )
    return _decode(data.get(PICTURE_FIELD))


def _form_picture(request: HttpRequest) -> bytes:
    """``picture_file`` of a multipart or urlencoded form: a text field or a file."""
    try:
        upload = request.FILES.get(PICTURE_FIELD)
        if upload is not None:
            if upload.size > settings.OCR_MAX_UPLOAD_BYTES:
                raise OcrError(
                    "file_too_large",
                    f"The picture is {upload.size:,} bytes; the limit is "
                    f"{settings.OCR_MAX_UPLOAD_BYTES:,} bytes.",
                )
            return upload.read()
        return _decode(request.POST.get(PICTURE_FIELD))
    except RequestDataTooBig:
        raise OcrError(
            "file_too_large", "The picture_file field is larger than a form field may be."
        ) from None
    except (MultiPartParserError, SuspiciousOperation) as exc:
        raise OcrError("invalid_request", f"Multipart form parse error - {exc}") from None


def _decode(value: Any) -> bytes:
    """The bytes of a ``picture_file`` value: a base64 data URL or bare base64."""
    if value is None or value == "":
        raise ChekinError(400, {PICTURE_FIELD: ["This field is required."]})
    if not isinstance(value, str):
        raise ChekinError(400, {PICTURE_FIELD: ["Not a valid string."]})
    return inputs.decode_base64(value, field=PICTURE_FIELD)
