"""computervision.com.vn's document OCR (``/api/v2/ocr/document/general``) on our jobs.

The provider answers synchronously, so the view creates a job (``source
"computervision"``) and waits for it with ``selectors.job_wait``, at most
``OCR_MAX_WAIT_SECONDS`` seconds. A job that has not finished by then keeps running
(it is in the user's history and at ``/api/ocr/<id>/``); the answer is HTTP 504 with
``errorCode`` ``"504"`` and the job's id in ``errorMessage``.

Thin views: authenticate the Basic pair (:mod:`.auth`), read the request
(:mod:`.submission`), call ``services``/``selectors``, translate the result
(:mod:`.results`); every error leaves in the provider's shape (:mod:`.errors`), never
as a bare 500. Plain Django views (no DRF, no session or CSRF: the key pair is the
only credential).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from app import selectors, services
from app.compat.computervision.auth import authenticate
from app.compat.computervision.errors import CV_SHAPE, NO_CONTENT, CvError
from app.compat.computervision.results import answer, has_content, pages_data
from app.compat.computervision.submission import submission
from app.compat.views import compat_unknown, compat_view
from app.errors import error_message
from app.models import Job, JobStatus

#: ``@cv_view(*methods)``: errors answer in the provider's shape (:data:`.errors.CV_SHAPE`).
cv_view = compat_view(CV_SHAPE)


@cv_view("GET", "POST")
def general(request: HttpRequest) -> HttpResponse:
    """``GET|POST /api/v2/ocr/document/general``: the document's text, page by page."""
    owner = authenticate(request)
    submitted = submission(request)
    job = services.job_create(owner=owner, request=submitted.job)
    job = selectors.job_wait(job=job, seconds=settings.OCR_MAX_WAIT_SECONDS)
    return JsonResponse(_answer(job, thumb=submitted.thumb))


#: Any other path under the mount: 404 in the provider's shape.
unknown = compat_unknown(CV_SHAPE)


def _answer(job: Job, *, thumb: bool) -> dict[str, Any]:
    """The answer of a job that ``job_wait`` returned (finished or not)."""
    if not job.is_finished:
        raise CvError(
            "504",
            f"The document was not read within {settings.OCR_MAX_WAIT_SECONDS} s; job "
            f"{job.id} goes on and its result will be at /api/ocr/{job.id}/.",
            status=504,
        )
    if job.status == JobStatus.FAILED:
        code = job.error_code or "internal_error"
        raise CvError.from_code(code, job.error_message or error_message(code))
    document = selectors.job_document(job=job) if job.status == JobStatus.DONE else None
    if document is None:
        raise CvError("409", f"The job was {job.status} before it finished.", status=409)
    images = selectors.job_page_images(job=job) if thumb else None
    data = pages_data(document, thumb=thumb, images=images)
    if not has_content(document):
        return answer(data, NO_CONTENT, CvError.documented(NO_CONTENT).message)
    return answer(data)
