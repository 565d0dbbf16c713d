"""Downloads of a job: its exports, its page images, its original upload.

All are ownership-checked like the job itself (another user's job is 404).
"""

from __future__ import annotations

import io
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from app import selectors
from app.api.serializers import ErrorSerializer
from app.api.views import OcrPermission
from app.errors import OcrError
from app.files import file_response
from app.models import JobStatus
from app.pipeline.exporters import EXPORT_FORMATS, export_to

ERR = OpenApiResponse(ErrorSerializer, description="Error (stable `error.code`).")


def _download_name(filename: str, extension: str) -> str:
    stem = (filename or "document").rsplit(".", 1)[0] or "document"
    return f"{stem}.{extension}"


class ExportView(APIView):
    """The finished job's result as txt, json, hOCR, ALTO, TSV or a searchable PDF."""

    permission_classes = [OcrPermission]

    @extend_schema(
        operation_id="ocr_export",
        parameters=[
            OpenApiParameter(
                "format", str, enum=list(EXPORT_FORMATS), required=True, description="Format."
            )
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The export as a file download."
            ),
            400: ERR,
            404: ERR,
            409: ERR,
        },
        tags=["ocr"],
    )
    def get(self, request: Request, job_id: str) -> HttpResponse:
        job = selectors.job_get(user=request.user, job_id=job_id)
        fmt = request.query_params.get("format", "")
        spec = EXPORT_FORMATS.get(fmt)
        if spec is None:
            raise OcrError(
                "invalid_option",
                f"format must be one of {', '.join(EXPORT_FORMATS)}.",
                field="format",
            )
        if job.status != JobStatus.DONE:
            raise OcrError(
                "not_ready", f"The job is {job.status}; exports need a done job.", http_status=409
            )
        document = selectors.job_document(job=job)
        out = io.BytesIO()
        export_to(
            document,
            fmt,
            out,
            page_image=selectors.job_page_images(job=job) if spec.needs_page_images else None,
        )
        response = HttpResponse(out.getvalue(), content_type=spec.media_type)
        name = _download_name(job.filename, spec.extension)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class PageImageView(APIView):
    """Page ``n`` as OCRed (the pixel space of its word boxes), PNG or JPEG."""

    permission_classes = [OcrPermission]

    @extend_schema(
        operation_id="ocr_page_image",
        parameters=[
            OpenApiParameter("max_width", int, description="Scale down to at most this width.")
        ],
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The image."),
            404: ERR,
        },
        tags=["ocr"],
    )
    def get(self, request: Request, job_id: str, number: int) -> HttpResponse:
        job = selectors.job_get(user=request.user, job_id=job_id)
        image = selectors.job_page_image(job=job, number=number)
        max_width = request.query_params.get("max_width")
        if max_width and max_width.isdigit() and 0 < int(max_width) < image.width:
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

    @extend_schema(
        operation_id="ocr_file",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The uploaded file."
            ),
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
                job.filename or str(job.id),
                job.content_type,
                storage=job.file.storage,
            )
        except FileNotFoundError:
            raise OcrError("not_found", "The stored file is missing.", http_status=404) from None
