"""Downloads of a job: its exports, its page images, its original upload.

All are ownership-checked like the job itself (another user's job is 404).
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from app import selectors
from app.api.negotiation import DownloadNegotiation
from app.api.serializers import ErrorSerializer
from app.api.views import OcrPermission
from app.errors import OcrError
from app.files import file_response
from app.models import JobStatus
from app.pipeline import inputs
from app.pipeline.exporters import EXPORT_FORMATS, export_to

ERR = OpenApiResponse(ErrorSerializer, description="Error (stable `error.code`).")
# The types an upload is stored with (detected from its content, app/pipeline/inputs.py).
UPLOAD_MEDIA_TYPES = (
    "image/jpeg",
    "image/png",
    "image/tiff",
    "image/bmp",
    "image/gif",
    "image/webp",
    "application/pdf",
)


def download_name(filename: str, extension: str) -> str:
    """``scan.txt`` for ``scan.png``; an export never takes the upload's own name:
    the searchable PDF of ``x.pdf`` is ``x.ocr.pdf``."""
    stem = (filename or "document").rsplit(".", 1)[0] or "document"
    name = f"{stem}.{extension}"
    return f"{stem}.ocr.{extension}" if name.lower() == (filename or "").lower() else name


def export_format(request: Request) -> Any:
    """The ``EXPORT_FORMATS`` entry named by ``?format=``; ``invalid_option`` (400) else."""
    spec = EXPORT_FORMATS.get(request.query_params.get("format", ""))
    if spec is None:
        raise OcrError(
            "invalid_option",
            f"format must be one of {', '.join(EXPORT_FORMATS)}.",
            field="format",
        )
    return spec


def export_bytes(job: Any, fmt: str) -> bytes:
    """A done job's export in ``fmt`` (a key of ``EXPORT_FORMATS``), as bytes."""
    spec = EXPORT_FORMATS[fmt]
    out = io.BytesIO()
    export_to(
        selectors.job_document(job=job),
        fmt,
        out,
        page_image=selectors.job_page_images(job=job) if spec.needs_page_images else None,
    )
    return out.getvalue()


class ExportView(APIView):
    """The finished job's result as txt, json, hOCR, ALTO, TSV or a searchable PDF."""

    permission_classes = [OcrPermission]
    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        operation_id="ocr_export",
        parameters=[
            OpenApiParameter(
                "format", str, enum=list(EXPORT_FORMATS), required=True, description="Format."
            )
        ],
        responses={
            **{
                (200, spec.media_type.split(";")[0]): OpenApiResponse(
                    OpenApiTypes.OBJECT if spec.name == "json" else OpenApiTypes.BINARY,
                    description="The export as a file download (`format` decides the type).",
                )
                for spec in EXPORT_FORMATS.values()
            },
            400: ERR,
            404: ERR,
            409: ERR,
        },
        tags=["ocr"],
    )
    def get(self, request: Request, job_id: str) -> HttpResponse:
        job = selectors.job_get(user=request.user, job_id=job_id)
        spec = export_format(request)
        fmt = spec.name
        if job.status != JobStatus.DONE:
            raise OcrError(
                "not_ready", f"The job is {job.status}; exports need a done job.", http_status=409
            )
        response = HttpResponse(export_bytes(job, fmt), content_type=spec.media_type)
        name = download_name(job.filename, spec.extension)
        # RFC 6266 (RFC 5987 ``filename*`` for names a quoted string cannot carry).
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response


class PageImageView(APIView):
    """Page ``n`` as OCRed (the pixel space of its word boxes), PNG or JPEG."""

    permission_classes = [OcrPermission]
    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        operation_id="ocr_page_image",
        parameters=[
            OpenApiParameter(
                "max_width",
                {"type": "integer", "minimum": 1},
                description="Scale down to at most this width (px).",
            )
        ],
        responses={
            (200, "image/jpeg"): OpenApiResponse(
                OpenApiTypes.BINARY, description="A colour page (JPEG), without `max_width`."
            ),
            (200, "image/png"): OpenApiResponse(
                OpenApiTypes.BINARY, description="A grey page, or one scaled by `max_width`."
            ),
            400: ERR,
            404: ERR,
        },
        tags=["ocr"],
    )
    def get(self, request: Request, job_id: str, number: int) -> HttpResponse:
        max_width = request.query_params.get("max_width")
        if max_width is not None and not re.fullmatch(r"[1-9][0-9]*", max_width):
            raise OcrError(
                "invalid_option", "max_width must be a positive integer.", field="max_width"
            )
        job = selectors.job_get(user=request.user, job_id=job_id)
        image = selectors.job_page_image(job=job, number=number)
        if max_width and 0 < int(max_width) < image.width:
            w = int(max_width)
            image = image.resize((w, max(1, round(image.height * w / image.width))))
        buf = io.BytesIO()
        if image.mode == "L" or max_width:
            image.save(buf, "PNG", optimize=False)
            content_type = "image/png"
        else:
            image.convert("RGB").save(buf, "JPEG", quality=85)
            content_type = "image/jpeg"
        response = HttpResponse(buf.getvalue(), content_type=content_type)
        response["Cache-Control"] = "private, max-age=3600"
        return response


class OriginalFileView(APIView):
    """The original upload as it was received."""

    permission_classes = [OcrPermission]
    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        operation_id="ocr_file",
        responses={
            **{
                (200, media_type): OpenApiResponse(
                    OpenApiTypes.BINARY, description="The uploaded file, with its detected type."
                )
                for media_type in UPLOAD_MEDIA_TYPES
            },
            404: ERR,
        },
        tags=["ocr"],
    )
    def get(self, request: Request, job_id: str) -> Any:
        job = selectors.job_get(user=request.user, job_id=job_id)
        if not job.file:
            raise OcrError("not_found", "The job has no stored file.", http_status=404)
        try:
            return file_response(
                job.file.name,
                # older jobs kept the client's extension: serve the detected type's
                inputs.fitting_filename(job.filename or str(job.id), job.content_type),
                job.content_type,
                storage=job.file.storage,
            )
        except FileNotFoundError:
            raise OcrError("not_found", "The stored file is missing.", http_status=404) from None
