"""REST views: validate input, call a service or selector, return a serializer."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from app import selectors, services
from app.api import health as health_checks
from app.api import parsers
from app.api.filters import JobFilter, NullsLastOrderingFilter
from app.api.serializers import (
    EXAMPLE_PNG_BASE64,
    EngineSerializer,
    ErrorSerializer,
    HealthSerializer,
    JobListSerializer,
    JobSerializer,
    LogoutSerializer,
    OcrJsonSerializer,
    OcrRequestSerializer,
    OcrUploadSerializer,
    PageSerializer,
    RegisterSerializer,
)
from app.engines import registry
from app.errors import OcrError
from app.models import Job
from app.pipeline.options import JobOptions
from app.services import idempotency, webhooks

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input (stable `error.code`)."),
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    404: OpenApiResponse(ErrorSerializer, description="No such job (or not yours)."),
    413: OpenApiResponse(ErrorSerializer, description="File or image too large."),
    415: OpenApiResponse(ErrorSerializer, description="Unsupported file type."),
    429: OpenApiResponse(ErrorSerializer, description="Quota exceeded."),
}


def _pick(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: ERRORS[code] for code in codes}


class OcrPermission(permissions.BasePermission):
    """Authenticated users; anonymous callers only when ``OCR_ALLOW_ANONYMOUS`` is on."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(
            settings.OCR_ALLOW_ANONYMOUS or (request.user and request.user.is_authenticated)
        )


def _max_body_bytes() -> int:
    # base64 grows data by 4/3; leave room for the other JSON fields.
    return parsers.ocr_body_limit()


class OcrCreateView(APIView):
    """Submit a document for OCR."""

    permission_classes = [OcrPermission]
    parser_classes = [parsers.MultiPartParser, FormParser, parsers.OcrJSONParser]

    @extend_schema(
        operation_id="ocr_create",
        # JSON first: Swagger UI's "Try it out" opens on it, and its example (a small
        # PNG in base64) runs as it comes; multipart needs a file chosen.
        request={
            "application/json": OcrJsonSerializer,
            "multipart/form-data": OcrUploadSerializer,
        },
        parameters=[
            OpenApiParameter(
                "wait",
                {"type": "integer", "minimum": 0, "maximum": 30},
                description="Seconds (0-30) to wait for the result before answering.",
                # The body's ``wait`` wins when both are given.
                examples=[OpenApiExample("no waiting", value=0)],
            ),
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
                location=OpenApiParameter.HEADER,
                description="A key of your choice (1-255 printable ASCII characters): the "
                "same key with the same request within 24 h answers the job the first "
                "request made (header `Idempotent-Replayed: true`) instead of making "
                "another; with another request, 409 `idempotency_conflict`. Needs an "
                "authenticated request.",
            ),
        ],
        examples=[
            OpenApiExample(
                "base64 PNG",
                value={
                    "image_base64": EXAMPLE_PNG_BASE64,
                    "languages": "eng",
                    "metadata": {"ref": "invoice-42"},
                    "wait": 5,
                },
                request_only=True,
                media_type="application/json",
            ),
        ],
        responses={
            200: OpenApiResponse(JobSerializer, description="Finished within `wait` seconds."),
            202: OpenApiResponse(
                JobSerializer,
                description="Accepted; poll the status URL (the `Location` header; "
                "`Retry-After` says when, in seconds).",
            ),
            **_pick(400, 401, 413, 415, 429),
            409: OpenApiResponse(
                ErrorSerializer,
                description="`idempotency_conflict`: the Idempotency-Key was used with "
                "another request.",
            ),
        },
        tags=["ocr"],
    )
    def post(self, request: Request) -> Response:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > _max_body_bytes():
            raise OcrError(
                "file_too_large",
                f"The request is {length:,} bytes; the upload limit is "
                f"{settings.OCR_MAX_UPLOAD_BYTES:,} bytes.",
                field="image",
            )
        # request.data is used as parsed: copying a QueryDict deep-copies its uploads,
        # and an upload spooled to a temporary file cannot be copied (a 500).
        serializer = OcrRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wait = serializer.validated_data.get("wait")
        if "wait" in request.query_params:
            # ``?wait=`` is checked by the body field's own rules (0-30 s), even when
            # the body's ``wait`` wins: an invalid parameter is never silently ignored.
            try:
                query_wait = serializer.fields["wait"].run_validation(request.query_params["wait"])
            except ValidationError as exc:
                raise ValidationError({"wait": exc.detail}) from None
            wait = query_wait if wait is None else wait
        data = serializer.validated_data
        if data.get("callback_url"):
            webhooks.check_callback(owner=request.user, url=data["callback_url"])
        key = request.headers.get("Idempotency-Key")
        replayed = False
        if key is None:
            job = services.job_create(owner=request.user, request=self._job_request(data))
        else:
            job, replayed = self._job_once(request, key, data)
        if wait:
            job = selectors.job_wait(job=job, seconds=min(wait, settings.OCR_MAX_WAIT_SECONDS))
        # 200 only for a job that ended within ``wait``; otherwise 202 (accepted), also
        # for a replayed Idempotency-Key whose job has ended since: the same answer.
        code = status.HTTP_200_OK if wait and job.is_finished else status.HTTP_202_ACCEPTED
        body = JobSerializer(job, context={"request": request}).data
        response = Response(body, status=code)
        response["Location"] = body["url"]
        if not job.is_finished:
            response["Retry-After"] = "1"
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def _job_once(self, request: Request, key: str, data: dict[str, Any]) -> tuple[Job, bool]:
        """The job of an ``Idempotency-Key`` (``services.idempotency``): the one the
        first request with it made, or a new one. Only for a signed-in caller."""
        if not request.user.is_authenticated:
            raise OcrError(
                "invalid",
                "An Idempotency-Key needs an authenticated request (a JWT or an API key).",
                field="Idempotency-Key",
            )
        key = idempotency.check_key(key)
        document: Any = data.get("image_base64") or data.get("image_url")
        if data.get("image"):
            upload = data["image"]
            digest = hashlib.sha256()
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            document = digest.hexdigest()
        parts = {
            name: value
            for name, value in data.items()
            if name not in ("image", "image_base64", "image_url", "wait")
        }
        return idempotency.create_once(
            owner=request.user,
            key=key,
            scope="ocr",
            fingerprint=idempotency.fingerprint("ocr", {**parts, "document": document}),
            prepare=lambda: self._job_request(data),
            create=lambda job_request: services.job_create(owner=request.user, request=job_request),
        )

    @staticmethod
    def _job_request(data: dict[str, Any]) -> services.JobRequest:
        if data.get("image"):
            upload = data["image"]
            if upload.size > settings.OCR_MAX_UPLOAD_BYTES:
                raise OcrError(
                    "file_too_large",
                    f"The file is {upload.size:,} bytes; the limit is "
                    f"{settings.OCR_MAX_UPLOAD_BYTES:,}.",
                    field="image",
                )
            content, filename = upload.read(), upload.name
        elif data.get("image_base64"):
            from app.pipeline.inputs import decode_base64

            content = decode_base64(data["image_base64"])
            filename = data.get("filename") or "image"
        else:
            content, filename = services.fetch_document(url=data["image_url"])
        return services.JobRequest(
            data=content,
            filename=data.get("filename") or filename,
            options=JobOptions.from_request(
                data, engine=data["engine"], languages=data["languages"]
            ),
            metadata=data.get("metadata") or {},
            callback_url=data.get("callback_url") or "",
        )


class OcrDetailView(APIView):
    """A job's status and result; DELETE removes it and its stored file."""

    permission_classes = [OcrPermission]

    @extend_schema(
        operation_id="ocr_retrieve",
        responses={200: JobSerializer, **_pick(401, 404)},
        tags=["ocr"],
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id)
        response = Response(JobSerializer(job, context={"request": request}).data)
        if not job.is_finished:
            response["Retry-After"] = "1"  # when it is worth polling again (seconds)
        return response

    @extend_schema(
        operation_id="ocr_destroy",
        responses={204: None, **_pick(401, 404)},
        tags=["ocr"],
    )
    def delete(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id)
        services.job_delete(job=job)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OcrCancelView(APIView):
    """Cancel an unfinished job (``services.job_cancel``)."""

    permission_classes = [OcrPermission]

    @extend_schema(
        operation_id="ocr_cancel",
        request=None,
        responses={
            200: OpenApiResponse(
                JobSerializer,
                description="Canceled: a pending job never runs; a running one stops at its "
                "next page boundary. Pages already done stay readable.",
            ),
            **_pick(401, 404),
            409: OpenApiResponse(
                ErrorSerializer, description="`already_finished`: the job had already ended."
            ),
        },
        tags=["ocr"],
    )
    def post(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id)
        job = services.job_cancel(job=job)
        return Response(JobSerializer(job, context={"request": request}).data)


class OcrPagesView(APIView):
    """Per-page results, available as soon as each page is done."""

    permission_classes = [OcrPermission]

    @extend_schema(
        operation_id="ocr_pages_list",
        responses={200: PageSerializer(many=True), **_pick(401, 404)},
        tags=["ocr"],
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id)
        return Response(PageSerializer(selectors.job_pages(job=job), many=True).data)


class OcrPageDetailView(APIView):
    """One page's result (1-based page number)."""

    permission_classes = [OcrPermission]

    @extend_schema(
        operation_id="ocr_pages_retrieve",
        responses={200: PageSerializer, **_pick(401, 404)},
        tags=["ocr"],
    )
    def get(self, request: Request, job_id: str, number: int) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id)
        page = selectors.job_page_get(job=job, number=number)
        return Response(PageSerializer(page).data)


@extend_schema(
    tags=["ocr"],
    responses={
        200: JobListSerializer(many=True),
        **_pick(400, 401),
        404: OpenApiResponse(ErrorSerializer, description="No such `page` of results."),
    },
)
class HistoryView(generics.ListAPIView):
    """The caller's jobs, newest first (staff: everyone's).

    ``search`` looks in the original file name and the recognised text.
    """

    serializer_class = JobListSerializer
    filter_backends = [DjangoFilterBackend, SearchFilter, NullsLastOrderingFilter]
    filterset_class = JobFilter
    search_fields = ["filename", "text"]
    ordering_fields = ["created_at", "filename", "status", "duration"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.jobs_visible_to(self.request.user)


class EnginesView(APIView):
    """Engines with availability, version and installed languages."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(responses={200: EngineSerializer(many=True)}, tags=["engines"])
    def get(self, request: Request) -> Response:
        staff = bool(request.user and request.user.is_staff)
        out = []
        for info in registry.all_engine_info():
            item = {
                "name": info.name,
                "title": info.title,
                "kind": info.kind,
                "available": info.available,
                "version": info.version,
                "languages": list(info.languages),
                "default": info.name == settings.OCR_DEFAULT_ENGINE,
            }
            if staff and info.reason:
                item["reason"] = info.reason
            out.append(item)
        return Response(out)


class HealthView(APIView):
    """Readiness (database, broker, Tesseract, workers, disk): 200 when all pass, else 503.

    Liveness (``/api/health/live/`` or ``?live=1``) checks only that the process answers.
    Everyone gets the status; the checks' details only staff users and the bearer of
    the metrics token (``health.may_see_details``): they name paths, hosts and versions.
    """

    permission_classes = [permissions.AllowAny]
    # A bad credential only hides the details: it never turns the status into a 401.
    authentication_classes = health_checks.AUTHENTICATION_CLASSES
    throttle_classes: list[Any] = []
    live = False

    @extend_schema(
        responses={200: HealthSerializer, 503: HealthSerializer},
        tags=["health"],
        auth=health_checks.OPENAPI_AUTH,
        description=(
            "`status` for everyone; `checks` only for staff users and for "
            "`Authorization: Bearer <OCR_METRICS_TOKEN>`."
        ),
    )
    def get(self, request: Request) -> Response:
        if self.live or request.query_params.get("live"):
            return Response({"status": "ok"})
        body: dict[str, Any]
        if health_checks.may_see_details(request):
            checks = health_checks.run_checks()
            ok = all(c["ok"] for c in checks.values())
            body = {"status": "ok" if ok else "fail", "checks": checks}
        else:
            ok = health_checks.public_ok()
            body = {"status": "ok" if ok else "fail"}
        return Response(
            body, status=status.HTTP_200_OK if ok else status.HTTP_503_SERVICE_UNAVAILABLE
        )


class RegisterView(APIView):
    """Create an account; the response never contains the password."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        request=RegisterSerializer,
        responses={201: RegisterSerializer, **_pick(400)},
        tags=["accounts"],
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = get_user_model().objects.create_user(
            username=data["username"], email=data.get("email", ""), password=data["password"]
        )
        return Response(RegisterSerializer(user).data, status=status.HTTP_201_CREATED)


class LogoutView(APIView):
    """Blacklist a refresh token so it can no longer be used."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        request=LogoutSerializer,
        responses={204: None, **_pick(400, 401)},
        tags=["accounts"],
    )
    def post(self, request: Request) -> Response:
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            RefreshToken(serializer.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise OcrError("token_not_valid", str(exc), field="refresh", http_status=401) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
