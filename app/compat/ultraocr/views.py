"""UltraOCR v2's calls on our jobs and batches.

Thin views: authenticate the Bearer token (:mod:`.auth`), translate the request
(:mod:`.submission`), call ``services``/``selectors`` as ``app/api/`` does, translate
the answer (:mod:`.results`); every error leaves as ``{"message"}`` with a 4xx
(:mod:`.errors`). Plain Django views (no DRF): no content negotiation, no session
or CSRF (the token, or a signed URL, is the only credential). Paths and bodies are
the official SDKs' (nuveo/ultraocr-sdk-python ``ultraocr/functions.py``, -go
``ultraocr/functions.go``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse

from app import selectors, services
from app.api.parsers import ocr_body_limit
from app.compat.body import read_body
from app.compat.ultraocr import results, signed, submission
from app.compat.ultraocr.auth import Caller, authenticate, issue_token
from app.compat.ultraocr.errors import ULTRA_SHAPE, UltraError, bad_request, not_found
from app.compat.ultraocr.ids import ksuid_of, new_uuid7, uuid_of
from app.compat.views import compat_unknown, compat_view
from app.errors import OcrError
from app.models import Batch, Job

#: Jobs per page of ``GET .../ocr/job/results``.
PAGE_SIZE = 50
PAGE_SALT = "app.compat.ultraocr.page"


#: ``@ultra_view(*methods)``: errors answer ``{"message"}`` (:data:`.errors.ULTRA_SHAPE`).
ultra_view = compat_view(ULTRA_SHAPE)


# -- token and submissions ------------------------------------------------------------


@ultra_view("POST")
def token(request: HttpRequest) -> HttpResponse:
    """``POST {auth}/token``: ``{"token"}``."""
    return JsonResponse({"token": issue_token(request, submission.json_body(request))})


@ultra_view("POST")
def create(request: HttpRequest, resource: str, service: str) -> HttpResponse:
    """``POST {base}/ocr/{job|batch}/{service}``: an id and signed upload URLs."""
    caller = authenticate(request)
    options = submission.job_options(service)
    metadata = submission.check_metadata(submission.json_body(request), kind=resource)
    slot = services.upload_slot_create(
        owner=caller.owner,
        source=submission.SOURCE,
        kind=resource,
        service=service,
        options=options,
        metadata=metadata,
        base64=submission.flag(request.GET, "base64"),
        lifetime=timedelta(seconds=signed.LIFETIME_SECONDS),
        slot_id=new_uuid7(),
    )
    ksuid = ksuid_of(slot.pk, slot.created_at)
    urls = {"document": signed.upload_url(request, slot.pk, "document")}
    if resource == "job" and submission.flag(request.GET, "facematch"):
        urls["selfie"] = signed.upload_url(request, slot.pk, "selfie")
    if resource == "job" and submission.flag(request.GET, "extra-document"):
        urls["extra_document"] = signed.upload_url(request, slot.pk, "extra_document")
    return JsonResponse(
        {
            "exp": signed.LIFETIME_SECONDS * 1000,
            "id": ksuid,
            "status_url": _status_url(request, resource, ksuid),
            "urls": urls,
        }
    )


@ultra_view("POST")
def send(request: HttpRequest, service: str) -> HttpResponse:
    """``POST {base}/ocr/job/send/{service}`` (single step): ``{"id", "status_url"}``."""
    caller = authenticate(request)
    options = submission.job_options(service)
    data, metadata = submission.single_step(request)
    job = services.job_create(
        owner=caller.owner,
        request=services.JobRequest(
            data=data,
            filename="document",
            options=options,
            metadata=services.metadata_object(metadata),
            source=submission.SOURCE,
        ),
        job_id=new_uuid7(),
    )
    ksuid = ksuid_of(job.pk, job.created_at)
    return JsonResponse({"id": ksuid, "status_url": _status_url(request, "job", ksuid)})


@ultra_view("PUT")
def upload(request: HttpRequest, token: str) -> HttpResponse:
    """``PUT <signed URL>`` (no Authorization): the slot's document becomes its job or
    batch; 200 with an empty body, as S3 answers."""
    slot_id, part = signed.upload_claims(token)
    data = read_body(request, ocr_body_limit())
    if part == "document":
        services.upload_slot_use(slot_id=slot_id, data=data)
    return HttpResponse(status=200)


# -- reading jobs -----------------------------------------------------------------------


@ultra_view("GET")
def job_result(request: HttpRequest, job_id: str, batch_id: str = "") -> HttpResponse:
    """``GET {base}/ocr/job/result/{batch_id}/{job_id}`` and ``.../result/{job_id}``."""
    caller = authenticate(request)
    job, slot = _job_or_slot(caller, job_id)
    if job is None:
        return JsonResponse(results.slot_result(slot))
    return JsonResponse(results.job_result(job, selectors.job_document(job=job)))


@ultra_view("GET")
def job_info(request: HttpRequest, job_id: str) -> HttpResponse:
    """``GET {base}/ocr/job/info/{id}``."""
    caller = authenticate(request)
    job, slot = _job_or_slot(caller, job_id)
    if job is None:
        waiting = results.slot_result(slot)
        body = {
            "job_id": waiting["job_ksuid"],
            "client_id": caller.client_id,
            "company_id": caller.owner.get_username(),
            "source": "API",
            "metadata": slot.metadata or {},
            **{k: v for k, v in waiting.items() if k != "job_ksuid"},
        }
        return JsonResponse(body)
    document = selectors.job_document(job=job)
    return JsonResponse(results.job_info(job, document, client_id=caller.client_id))


@ultra_view("GET")
def job_results(request: HttpRequest) -> HttpResponse:
    """``GET {base}/ocr/job/results?startDate=&endDate=&nextPageToken=``: the jobs sent
    through this API between the two days (UTC, both included), :data:`PAGE_SIZE` a
    page. The SDKs send ``endtDate``: taken as ``endDate``."""
    caller = authenticate(request)
    query = request.GET
    start = _day(query.get("startDate"), "startDate")
    end = _day(query.get("endDate") or query.get("endtDate"), "endDate")
    offset = _page_offset(query.get("nextPageToken"))
    jobs = selectors.jobs_visible_to(caller.owner).filter(
        owner=caller.owner, source=submission.SOURCE
    )
    if start:
        jobs = jobs.filter(created_at__gte=datetime.combine(start, time.min, tzinfo=UTC))
    if end:
        jobs = jobs.filter(
            created_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
        )
    page = list(jobs.order_by("created_at", "id")[offset : offset + PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    body = [results.job_result(job, selectors.job_document(job=job)) for job in page[:PAGE_SIZE]]
    next_token = signing.dumps(offset + PAGE_SIZE, salt=PAGE_SALT) if more else ""
    return JsonResponse({"jobs": body, "nextPageToken": next_token})


# -- reading batches ----------------------------------------------------------------------


@ultra_view("GET")
def batch_status(request: HttpRequest, batch_id: str) -> HttpResponse:
    """``GET {base}/ocr/batch/status/{id}``."""
    caller = authenticate(request)
    batch, slot = _batch_or_slot(caller, batch_id)
    if batch is None:
        return JsonResponse(results.slot_result(slot))
    return JsonResponse(
        results.batch_status(
            batch,
            list(selectors.batch_jobs(batch=batch)),
            result_url=lambda b, j: request.build_absolute_uri(
                reverse("ultraocr-job-result-2", kwargs={"batch_id": b, "job_id": j})
            ),
            service=submission.service_of(batch.engine),
        )
    )


@ultra_view("GET")
def batch_info(request: HttpRequest, batch_id: str) -> HttpResponse:
    """``GET {base}/ocr/batch/info/{id}``."""
    caller = authenticate(request)
    batch, slot = _batch_or_slot(caller, batch_id)
    if batch is None:
        waiting = results.slot_result(slot)
        return JsonResponse(
            {
                "batch_id": waiting["batch_ksuid"],
                "client_id": caller.client_id,
                "company_id": caller.owner.get_username(),
                "created_at": waiting["created_at"],
                "service": waiting["service"],
                "status": waiting["status"],
                "source": "API",
                "total_jobs": 0,
                "total_processed": 0,
                **({"error": waiting["error"]} if "error" in waiting else {}),
            }
        )
    jobs = list(selectors.batch_jobs(batch=batch))
    return JsonResponse(
        results.batch_info(
            batch, jobs, client_id=caller.client_id, service=submission.service_of(batch.engine)
        )
    )


@ultra_view("GET")
def batch_result(request: HttpRequest, batch_id: str) -> HttpResponse:
    """``GET {base}/ocr/batch/result/{id}?return=request``: the jobs' results as a JSON
    array; ``?return=storage``: ``{"exp": "<ms>", "url"}`` of a file with them."""
    caller = authenticate(request)
    returned = request.GET.get("return") or "request"
    if returned not in ("request", "storage"):
        raise bad_request("return must be request or storage.")
    batch, _slot = _batch_or_slot(caller, batch_id)
    if batch is None:
        raise bad_request("The batch's document has not been uploaded yet.")
    if returned == "storage":
        url = signed.download_url(request, batch.pk, caller.owner.pk)
        return JsonResponse({"exp": str(signed.LIFETIME_SECONDS * 1000), "url": url})
    return JsonResponse(_batch_results(batch), safe=False)


@ultra_view("GET")
def download(request: HttpRequest, token: str) -> HttpResponse:
    """``GET <signed URL>`` (no Authorization): the batch results file."""
    batch_id, owner_id = signed.download_claims(token)
    owner = selectors.active_user(owner_id)
    if owner is None:
        raise not_found()
    batch = _own_batch(owner, batch_id)
    response = JsonResponse(_batch_results(batch), safe=False)
    response["Content-Disposition"] = f'attachment; filename="{batch_id}.json"'
    return response


#: Any other path: 404 ``{"message": "Not Found"}``.
unknown = compat_unknown(ULTRA_SHAPE)


# -- helpers --------------------------------------------------------------------------------


def _status_url(request: HttpRequest, resource: str, ksuid: str) -> str:
    if resource == "batch":
        path = reverse("ultraocr-batch-status", kwargs={"batch_id": ksuid})
    else:
        path = reverse("ultraocr-job-result-1", kwargs={"job_id": ksuid})
    return request.build_absolute_uri(path)


def _job_or_slot(caller: Caller, job_ksuid: str) -> tuple[Job | None, Any]:
    """The caller's job ``job_ksuid``, or its upload slot while the file has not
    arrived; 404 ``{"message"}`` for anything else (another user's too)."""
    pk = uuid_of(job_ksuid)
    try:
        return (
            selectors.compat_job_get(owner=caller.owner, job_id=pk, source=submission.SOURCE),
            None,
        )
    except OcrError:
        pass
    slot = _slot(caller, pk, "job")
    return None, slot


def _batch_or_slot(caller: Caller, batch_ksuid: str) -> tuple[Batch | None, Any]:
    pk = uuid_of(batch_ksuid)
    try:
        return _own_batch(caller.owner, pk), None
    except UltraError:
        return None, _slot(caller, pk, "batch")


def _own_batch(owner: Any, batch_id: Any) -> Batch:
    try:
        batch = selectors.batch_get(user=owner, batch_id=batch_id)
    except (OcrError, ValueError):
        raise not_found("Batch not found.") from None
    if batch.owner_id != owner.pk:
        raise not_found("Batch not found.")
    return batch


def _slot(caller: Caller, pk: uuid.UUID, kind: str) -> Any:
    try:
        slot = selectors.upload_slot_get(owner=caller.owner, slot_id=pk)
    except OcrError:
        slot = None
    if slot is None or slot.kind != kind:
        raise not_found(f"{kind.capitalize()} not found.")
    return slot


def _batch_results(batch: Batch) -> list[dict[str, Any]]:
    return [
        results.job_result(job, selectors.job_document(job=job))
        for job in selectors.batch_jobs(batch=batch)
    ]


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise bad_request(f"{name} must be a day as YYYY-MM-DD, not {value[:30]!r}.") from None


def _page_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = int(signing.loads(token, salt=PAGE_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        raise bad_request("nextPageToken is not one this server gave.") from None
    return max(0, offset)
