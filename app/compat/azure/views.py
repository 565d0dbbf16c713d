"""Azure Document Intelligence's Analyze Document (``prebuilt-read``) on our jobs.

Thin views: authenticate the key (:mod:`.auth`), translate the request
(:mod:`.submission`), call ``services``/``selectors`` as ``app/api/`` does, translate
the answer (:mod:`.results`); every error leaves in Azure's shape (:mod:`.errors`).
Plain Django views (no DRF): no content negotiation, no session or CSRF (the key is
the only credential).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse

from app import selectors, services
from app.api.downloads import export_bytes
from app.compat.azure.auth import authenticate
from app.compat.azure.errors import AZURE_SHAPE, invalid_argument, not_found
from app.compat.azure.results import STATUSES, analyze_result, operation
from app.compat.azure.submission import (
    SOURCE,
    ResultOptions,
    check_api_version,
    check_model,
    job_request,
    result_options,
)
from app.compat.views import compat_unknown, compat_view
from app.errors import OcrError
from app.models import Job, JobStatus
from app.pipeline.inputs import PDF_TYPE

#: The route prefix of the current API (the older Form Recognizer one has no PDF output).
DOCUMENT_INTELLIGENCE = "documentintelligence"


#: ``@azure_view(*methods)``: errors answer in Azure's shape (:data:`.errors.AZURE_SHAPE`).
azure_view = compat_view(AZURE_SHAPE)


@azure_view("POST")
def analyze(request: HttpRequest, prefix: str, model_id: str) -> HttpResponse:
    """``POST .../documentModels/prebuilt-read:analyze``: 202 with ``Operation-Location``."""
    owner = authenticate(request)
    api_version = check_api_version(prefix, request.GET)
    check_model(model_id)
    options = result_options(request.GET)
    if options.pdf and prefix != DOCUMENT_INTELLIGENCE:
        raise invalid_argument(f"output is not part of api-version {api_version}.")
    try:
        job = services.job_create(owner=owner, request=job_request(request))
    except OcrError as exc:
        locale = request.GET.get("locale")
        if exc.code != "unknown_language" or not locale:
            raise
        raise invalid_argument(f"The locale {locale!r} is not read here: {exc.message}") from None
    response = HttpResponse(status=202)
    response["Operation-Location"] = _operation_location(
        request, prefix, model_id, options.result_id(job.id), api_version
    )
    response["Retry-After"] = "1"
    return response


@azure_view("GET", "DELETE")
def result(request: HttpRequest, prefix: str, model_id: str, result_id: str) -> HttpResponse:
    """``GET .../analyzeResults/{id}``: the operation; ``DELETE``: 204, the job deleted."""
    owner = authenticate(request)
    api_version = check_api_version(prefix, request.GET)
    check_model(model_id)
    job_id, options = ResultOptions.parse(result_id)
    job = _job(owner, job_id, result_id)
    if request.method == "DELETE":
        services.job_delete(job=job)
        return HttpResponse(status=204)
    analyzed = None
    if job.status == JobStatus.DONE:
        document = selectors.job_document(job=job)
        if document is not None:
            analyzed = analyze_result(
                document,
                options=options,
                api_version=api_version,
                is_pdf=job.content_type == PDF_TYPE,
                with_content_format=prefix == DOCUMENT_INTELLIGENCE,
            )
    response = JsonResponse(
        operation(
            status=job.status,
            created_at=job.created_at,
            updated_at=job.finished_at or job.started_at or job.created_at,
            error_code=job.error_code,
            error_message=job.error_message,
            result=analyzed,
        )
    )
    if not job.is_finished:
        response["Retry-After"] = "1"
    return response


@azure_view("GET")
def result_pdf(request: HttpRequest, model_id: str, result_id: str) -> HttpResponse:
    """``GET .../analyzeResults/{id}/pdf``: the searchable PDF of an analysis made with
    ``output=pdf`` (404 otherwise, as Azure answers)."""
    owner = authenticate(request)
    check_api_version(DOCUMENT_INTELLIGENCE, request.GET)
    check_model(model_id)
    job_id, options = ResultOptions.parse(result_id)
    job = _job(owner, job_id, result_id)
    if not options.pdf:
        raise not_found("This analysis was not asked for a PDF (output=pdf).")
    if job.status != JobStatus.DONE:
        raise OcrError(
            "not_ready",
            f"The analysis is {STATUSES.get(job.status, job.status)}; its PDF is ready "
            "once it has succeeded.",
            http_status=409,
        )
    return HttpResponse(export_bytes(job, "pdf"), content_type="application/pdf")


#: Any other path: the gateway's 404.
unknown = compat_unknown(AZURE_SHAPE)


def _job(owner: Any, job_id: str, result_id: str) -> Job:
    try:
        return selectors.compat_job_get(owner=owner, job_id=job_id, source=SOURCE)
    except OcrError:
        raise not_found(f"The analyze result {result_id!r} was not found.") from None


def _operation_location(
    request: HttpRequest, prefix: str, model_id: str, result_id: str, api_version: str
) -> str:
    """The absolute URL of the analyze result.

    azure-ai-documentintelligence 1.0 reads the result id out of it with the pattern
    ``<scheme>://<host>/documentintelligence/.../<id>`` (``poller.details``), so a path
    under a prefix (``/compat/azure/...``) is written as ``/<prefix>/../compat/azure/...``:
    the same resource once the dot segment is resolved, which every HTTP client does
    before sending (RFC 3986, section 5.2.4).
    """
    path = reverse(
        "azure-analyze-result",
        kwargs={"prefix": prefix, "model_id": model_id, "result_id": result_id},
    )
    if not path.startswith(f"/{prefix}/"):
        path = f"/{prefix}/..{path}"
    return f"{request.scheme}://{request.get_host()}{path}?api-version={api_version}"
