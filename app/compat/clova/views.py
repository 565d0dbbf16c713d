"""NAVER CLOVA OCR General (V2) on our jobs: ``POST {invoke_url}/general``.

Thin views: authenticate ``X-OCR-SECRET`` (:mod:`.auth`), read the call
(:mod:`.submission`), create the job through ``services.job_create`` (``source
"clova"``) and, CLOVA being synchronous, wait for it with ``selectors.job_wait`` for
at most ``OCR_MAX_WAIT_SECONDS``; answer CLOVA's body (:mod:`.results`). Every error
leaves in CLOVA's shape (:mod:`.errors`), never as an unhandled 500.

A job that has not finished within ``OCR_MAX_WAIT_SECONDS`` answers 500 ``0501`` (OCR
service error) whose message names the job: it goes on, and its result appears in
the key owner's history and at ``/api/ocr/<job id>/`` (the ``traceId`` is the job id).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from app import selectors, services
from app.compat.clova.auth import authenticate
from app.compat.clova.errors import CLOVA_SHAPE, ClovaError, json_response
from app.compat.clova.results import answer, failed_image, page_images
from app.compat.clova.submission import read_call
from app.compat.views import compat_unknown, compat_view
from app.models import Job, JobStatus

#: ``@clova_view``: a POST-only view (405 ``0001`` otherwise) whose errors answer in
#: CLOVA's shape (:data:`.errors.CLOVA_SHAPE`).
clova_view = compat_view(CLOVA_SHAPE)("POST")


@clova_view
def general(request: HttpRequest) -> HttpResponse:
    """``POST .../general``: the document's text, word by word, once its job is done."""
    owner = authenticate(request)
    call = read_call(request)
    job = services.job_create(owner=owner, request=call.job_request())
    job = selectors.job_wait(job=job, seconds=settings.OCR_MAX_WAIT_SECONDS)
    if not job.is_finished:
        return _unfinished(request, job)
    uid = job.id.hex
    document = selectors.job_document(job=job) if job.status == JobStatus.DONE else None
    if document is not None:
        images = page_images(document, uid=uid, name=call.image_name)
    else:
        code = job.error_code or ("canceled" if job.status == JobStatus.CANCELED else "")
        message = job.error_message or f"The job ended {job.status} without a result."
        images = [failed_image(uid=uid, name=call.image_name, code=code, message=message)]
    return json_response(answer(request_id=call.request_id, images=images))


#: Any other path under the mount: 404 ``0001`` (URL is invalid).
unknown = compat_unknown(CLOVA_SHAPE)


def _unfinished(request: HttpRequest, job: Job) -> HttpResponse:
    error = ClovaError(
        500,
        "0501",
        f"Recognition did not finish within {settings.OCR_MAX_WAIT_SECONDS} s. "
        f"Job {job.id} goes on: its result will be at /api/ocr/{job.id}/.",
    )
    body = error.body(request.path)
    body["traceId"] = job.id.hex
    return json_response(body, status=error.status)
