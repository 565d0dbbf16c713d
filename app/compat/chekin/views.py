"""Chekin's OCR Web API (v1 and v2) on our jobs, answered by the local MRZ reader.

Thin views: authenticate the token (:mod:`.auth`), translate the request
(:mod:`.submission`), call ``services``/``selectors`` as ``app/api/`` does, translate
the answer (:mod:`.results`, ids from :mod:`.ids`); every error leaves in Chekin's
(DRF's) shape (:mod:`.errors`), never as a 500 page. Plain Django views: no session
or CSRF (the token is the only credential).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse

from app import selectors, services
from app.compat.chekin.auth import authenticate
from app.compat.chekin.errors import CHEKIN_SHAPE, not_found
from app.compat.chekin.ids import scan_id, scan_job
from app.compat.chekin.results import page_mrz, scan
from app.compat.chekin.submission import job_request
from app.compat.views import compat_unknown, compat_view
from app.files import file_response
from app.models import Job, JobStatus
from app.pipeline import inputs

#: ``@chekin_view(*methods)``: DRF's 405 for other methods, errors in Chekin's shape
#: (:data:`.errors.CHEKIN_SHAPE`), ``{"detail"}`` with 500 for an unexpected failure.
chekin_view = compat_view(CHEKIN_SHAPE)


@chekin_view("POST")
def picture(request: HttpRequest, version: str) -> HttpResponse:
    """``POST /api/v{1,2}/tools/ocr/picture/``: 201 with the new scan (status ``NEW``)."""
    owner = authenticate(request)
    job = services.job_create(owner=owner, request=job_request(request))
    return JsonResponse(_scan(request, job, version), status=201)


@chekin_view("GET", "HEAD")
def data(request: HttpRequest, version: str, raw_id: str) -> HttpResponse:
    """``GET /api/v{1,2}/tools/ocr/data/<id>/``: the scan's status and data."""
    owner = authenticate(request)
    job = scan_job(owner, version, raw_id)
    return JsonResponse(_scan(request, job, version))


@chekin_view("GET", "HEAD")
def picture_file(request: HttpRequest, version: str, raw_id: str) -> HttpResponse:
    """``GET /api/v{1,2}/tools/ocr/data/<id>/picture/``: the uploaded picture (the
    scan's ``picture_file``), for the key that made it."""
    owner = authenticate(request)
    job = scan_job(owner, version, raw_id)
    if not job.file:
        raise not_found()
    try:
        return file_response(
            job.file.name,
            inputs.fitting_filename(job.filename or str(job.id), job.content_type),
            job.content_type,
            as_attachment=False,
            storage=job.file.storage,
        )
    except FileNotFoundError:
        raise not_found() from None


#: Any other path under the mount: DRF's 404.
unknown = compat_unknown(CHEKIN_SHAPE)


def _scan(request: HttpRequest, job: Job, version: str) -> dict[str, Any]:
    """The scan object of ``job`` in API ``version``."""
    shown = scan_id(job, version)
    mrz = page_mrz(selectors.job_document(job=job)) if job.status == JobStatus.DONE else None
    url = reverse("chekin-picture-file", kwargs={"version": version, "raw_id": str(shown)})
    return scan(
        scan_id=shown,
        picture_url=request.build_absolute_uri(url),
        status=job.status,
        mrz=mrz,
        version=version,
    )
