"""``/api/batches/``: many documents as one unit (app/services/batches.py).

``POST`` takes multipart (the field ``image`` once per document, the options once)
or JSON (``items``: ``image_base64``/``image_url`` objects); the batch is checked
whole before anything is stored. ``GET`` shows its status, counts by status, pages
done and every job's summary (``?wait=N`` waits up to N s for its end); ``cancel``,
``DELETE`` and ``export`` (a zip of every done job's export, streamed) complete it.
"""

from __future__ import annotations

import hashlib
import time
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.http import QueryDict, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from app import selectors, services
from app.api import parsers
from app.api.filters import BatchFilter, NullsLastOrderingFilter
from app.api.negotiation import DownloadNegotiation
from app.api.serializers import (
    BatchJsonSerializer,
    BatchListSerializer,
    BatchRequestSerializer,
    BatchSerializer,
    ErrorSerializer,
)
from app.errors import OcrError
from app.files import filename_problem
from app.models import Batch, JobStatus
from app.pipeline.exporters import EXPORT_FORMATS
from app.pipeline.options import JobOptions
from app.services import batches, idempotency, webhooks

_ERR = {
    code: OpenApiResponse(ErrorSerializer, description=text)
    for code, text in {
        400: "Bad input (stable `error.code`; `field` names the item at fault).",
        401: "Not authenticated.",
        404: "No such batch (or not yours).",
        409: "`already_finished` (cancel) or `idempotency_conflict`.",
        413: "A document or the whole batch is too large.",
        415: "A document's type is not supported.",
        429: "Quota exceeded.",
    }.items()
}

_WAIT = OpenApiParameter(
    "wait",
    {"type": "integer", "minimum": 0, "maximum": 30},
    description="Seconds (0-30) to wait for the batch to end before answering.",
)


def _pick(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: _ERR[code] for code in codes}


def _wait_seconds(request: Request) -> int:
    raw = request.query_params.get("wait")
    if raw is None:
        return 0
    if not raw.isdigit() or int(raw) > 30:
        raise ValidationError({"wait": ["A whole number of seconds from 0 to 30."]})
    return min(int(raw), settings.OCR_MAX_WAIT_SECONDS)


def _answer(request: Request, batch: Batch, code: int) -> Response:
    body = BatchSerializer(batch, context={"request": request}).data
    response = Response(body, status=code)
    response["Location"] = body["url"]
    if not batch.is_finished:
        response["Retry-After"] = "2"
    return response


class BatchListView(generics.ListAPIView):
    """The caller's batches, newest first (staff: everyone's); ``POST`` makes one."""

    serializer_class = BatchListSerializer
    parser_classes = [parsers.MultiPartParser, parsers.BatchJSONParser]
    filter_backends = [DjangoFilterBackend, NullsLastOrderingFilter]
    filterset_class = BatchFilter
    ordering_fields = ["created_at", "status", "job_count"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.batches_visible_to(self.request.user)

    @extend_schema(
        operation_id="batches_list",
        summary="List your batches",
        responses={200: BatchListSerializer(many=True), **_pick(400, 401)},
        tags=["batches"],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="batches_create",
        summary="Submit many documents as one batch",
        request={
            "application/json": BatchJsonSerializer,
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "image": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": "The documents: the field once per file.",
                    },
                    "languages": {"type": "string", "example": "eng"},
                    "metadata": {"type": "string", "description": "A JSON object as text."},
                },
                "required": ["image"],
            },
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
                location=OpenApiParameter.HEADER,
                description="As on `POST /api/ocr/`: a retry with the same key and request "
                "answers the batch the first one made.",
            )
        ],
        responses={
            202: OpenApiResponse(BatchSerializer, description="Accepted: the batch and its jobs."),
            **_pick(400, 401, 409, 413, 415, 429),
        },
        tags=["batches"],
    )
    def post(self, request: Request) -> Response:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > parsers.batch_body_limit():
            raise OcrError(
                "file_too_large",
                f"The request is {length:,} bytes; a batch takes at most "
                f"{settings.OCR_MAX_BATCH_BYTES:,} bytes of documents.",
                field="items",
            )
        files = request.FILES.getlist("image") if hasattr(request.data, "getlist") else []
        fields = _form_fields(request.data) if hasattr(request.data, "getlist") else request.data
        serializer = BatchRequestSerializer(data=fields)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if files and data.get("items"):
            raise OcrError("invalid", "Send files in `image` or JSON `items`, not both.")
        if data.get("callback_url"):
            webhooks.check_callback(owner=request.user, url=data["callback_url"])
        key = request.headers.get("Idempotency-Key")
        if key is None:
            batch, replayed = _batch_create(request, data, files), False
        else:
            batch, replayed = idempotency.create_once(
                owner=request.user,
                key=idempotency.check_key(key),
                scope="batch",
                fingerprint=idempotency.fingerprint("batch", _parts(data, files)),
                prepare=lambda: _items(data, files),
                create=lambda items: _batch_store(request, data, items, files),
            )
        response = _answer(request, selectors.batch_get(user=request.user, batch_id=batch.pk), 202)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def _form_fields(data: Any) -> QueryDict:
    """The multipart body without its files (form fields keep form rules: text values,
    ``true``/``false`` booleans, each field once, checked by the serializer)."""
    fields = QueryDict(mutable=True)
    for name in data:
        if name != "image":
            fields.setlist(name, data.getlist(name))
    return fields


def _items(data: dict[str, Any], files: list[Any]) -> list[tuple[bytes, str, dict[str, Any]]]:
    """``(bytes, file name, metadata)`` of each document: the uploads in order, or the
    JSON items (base64 decoded, URLs downloaded through the SSRF guard)."""
    from app.pipeline.inputs import decode_base64

    if files:
        out = []
        for index, upload in enumerate(files):
            name = getattr(upload, "client_name", None) or upload.name or "upload"
            problem = filename_problem(name)
            if problem:
                raise OcrError("invalid", f"Item {index + 1}: {problem}", field=f"image[{index}]")
            out.append((upload.read(), name, {}))
        return out
    out = []
    for index, item in enumerate(data.get("items") or []):
        try:
            if item.get("image_base64"):
                content, name = decode_base64(item["image_base64"]), "image"
            else:
                content, name = services.fetch_document(url=item["image_url"])
        except OcrError as exc:
            raise OcrError(
                exc.code,
                f"Item {index + 1}: {exc.message}",
                field=f"items[{index}]",
                http_status=exc.http_status,
            ) from None
        out.append((content, item.get("filename") or name, item.get("metadata") or {}))
    return out


def _parts(data: dict[str, Any], files: list[Any]) -> dict[str, Any]:
    """What an ``Idempotency-Key`` fingerprints: the options, the batch's metadata and
    callback, and each document (an upload's bytes, or the JSON item as sent)."""
    documents: list[Any] = []
    for upload in files:
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        documents.append([upload.name, digest.hexdigest()])
    documents += [dict(item) for item in data.get("items") or []]
    options = {name: value for name, value in data.items() if name != "items"}
    return {**options, "documents": documents}


def _batch_create(request: Request, data: dict[str, Any], files: list[Any]) -> Batch:
    return _batch_store(request, data, _items(data, files), files)


def _batch_store(
    request: Request,
    data: dict[str, Any],
    items: list[tuple[bytes, str, dict[str, Any]]],
    files: list[Any],
) -> Batch:
    options = JobOptions.from_request(data, engine=data["engine"], languages=data["languages"])
    requests = [
        services.JobRequest(data=content, filename=name, options=options, metadata=metadata)
        for content, name, metadata in items
    ]
    return batches.batch_create(
        owner=request.user,
        items=requests,
        options=options,
        metadata=data.get("metadata") or {},
        callback_url=data.get("callback_url") or "",
        item_field="image" if files else "items",
    )


class BatchDetailView(APIView):
    """A batch: status, counts, pages and its jobs; ``DELETE`` removes it with its jobs."""

    @extend_schema(
        operation_id="batches_retrieve",
        summary="Show a batch",
        parameters=[_WAIT],
        responses={200: BatchSerializer, **_pick(400, 401, 404)},
        tags=["batches"],
    )
    def get(self, request: Request, batch_id: str) -> Response:
        batch = selectors.batch_get(user=request.user, batch_id=batch_id)
        seconds = _wait_seconds(request)
        deadline = time.monotonic() + seconds
        delay = 0.05
        while not batch.is_finished and time.monotonic() < deadline:
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 1.5, 0.5)
            batch = selectors.batch_get(user=request.user, batch_id=batch_id)
        return _answer(request, batch, 200)

    @extend_schema(
        operation_id="batches_destroy",
        summary="Delete a batch with its jobs and files",
        responses={204: None, **_pick(401, 404)},
        tags=["batches"],
    )
    def delete(self, request: Request, batch_id: str) -> Response:
        batches.batch_delete(batch=selectors.batch_get(user=request.user, batch_id=batch_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BatchCancelView(APIView):
    """Cancel an unfinished batch: its unfinished jobs are canceled, done ones kept."""

    @extend_schema(
        operation_id="batches_cancel",
        summary="Cancel a batch",
        request=None,
        responses={200: BatchSerializer, **_pick(401, 404, 409)},
        tags=["batches"],
    )
    def post(self, request: Request, batch_id: str) -> Response:
        batch = selectors.batch_get(user=request.user, batch_id=batch_id)
        batches.batch_cancel(batch=batch)
        return _answer(request, selectors.batch_get(user=request.user, batch_id=batch_id), 200)


class BatchExportView(APIView):
    """Every done job's export in one zip, streamed (never held whole in memory)."""

    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        operation_id="batches_export",
        summary="Download a batch's results as a zip",
        parameters=[
            OpenApiParameter(
                "format", str, enum=list(EXPORT_FORMATS), required=True, description="Format."
            )
        ],
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="A zip: one file per done job, named after its upload.",
            ),
            **_pick(400, 401, 404),
        },
        tags=["batches"],
    )
    def get(self, request: Request, batch_id: str) -> StreamingHttpResponse:
        from app.api.downloads import export_format

        batch = selectors.batch_get(user=request.user, batch_id=batch_id)
        spec = export_format(request)
        fmt = spec.name
        jobs = selectors.batch_jobs(batch=batch).filter(status=JobStatus.DONE)
        response = StreamingHttpResponse(
            _zip_stream(_entries(jobs, fmt, spec.extension)), content_type="application/zip"
        )
        response["Content-Disposition"] = content_disposition_header(
            True, f"batch-{batch.pk}-{fmt}.zip"
        )
        return response


def _entries(jobs: Iterable[Any], fmt: str, extension: str) -> Iterator[tuple[str, bytes]]:
    """``(name in the zip, export bytes)`` per job: the name a single download of it has
    (:func:`app.api.downloads.download_name`: the upload's name with the format's
    extension, ``x.ocr.pdf`` for the PDF of ``x.pdf``), de-duplicated (``a.txt``,
    ``a (2).txt``); one export in memory at a time."""
    from app.api.downloads import download_name, export_bytes

    seen: set[str] = set()
    for job in jobs:
        first = download_name(job.filename, extension)
        stem = first[: -len(extension) - 1]
        name, n = first, 1
        while name.lower() in seen:
            n += 1
            name = f"{stem} ({n}).{extension}"
        seen.add(name.lower())
        yield name, export_bytes(job, fmt)


class _Chunks:
    """An unseekable sink for :class:`zipfile.ZipFile`: what it writes is taken away
    in :meth:`drain` (zipfile then writes data descriptors, PKWARE APPNOTE 4.3.9)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out


def _zip_stream(entries: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
    """A zip of ``entries`` (deflated), yielded as it is written."""
    sink = _Chunks()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
            yield sink.drain()
    yield sink.drain()
