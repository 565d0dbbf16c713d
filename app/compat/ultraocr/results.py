"""Our jobs, batches and result schema in UltraOCR's shapes.

Shapes (nuveo/ultraocr-sdk-go ``ultraocr/schemas.go``, -csharp ``responses/*.cs``,
-python ``functions.py`` docstrings): a job result ``{"job_ksuid", "created_at",
"service", "status", "error"?, "process_time"?, "filename"?, "client_data"?,
"result": {"Time": "<seconds>", "Document": [{"Page", "Data"}], "Quantity"}}``;
a batch status ``{"batch_ksuid", "created_at", "service", "status", "error"?,
"jobs": [{"job_ksuid", "created_at", "result_url", "status", "error"?}]}``; job
info ``{"job_id", "client_id", "company_id", "created_at", "finished_at"?,
"service", "status", "source", "metadata"?, "client_data"?, "result"?,
"error"?}``; batch info ``{"batch_id", "client_id", "company_id", "created_at",
"service", "status", "source", "total_jobs", "total_processed"}``. Times are
``2022-06-22T20:58:09Z``; ``error`` is always a string (the typed SDKs declare it so).

Statuses: an upload not arrived yet is ``waiting``; our ``pending`` and
``processing`` are ``processing``; ``done`` is ``done``; ``failed`` and
``canceled`` are ``error`` (a batch with any failed job too).

``Data`` of a page (UltraOCR's fields are ``{"conf": 0-100, "value"}``; ours keep
that form, confidences being our 0-100 ones, null where the engine gives none):

- ``text``: ``Text`` (the page text, lines joined by ``\\n``) and ``Lines``, whose
  value is a list of ``{"text", "conf", "bbox", "words": [{"text", "conf",
  "bbox"}]}``, ``bbox`` ``[left, top, right, bottom]`` in pixels of the page image
  as read (its size is the entry's ``Width``/``Height`` beside ``Page``).
- ``passport``: ``MrzDetected``; when found, ``DocumentType``, ``Country``,
  ``Surname``, ``GivenNames``, ``DocumentNumber`` (with ``valid``: its check
  digit), ``Nationality``, ``BirthDate`` and ``ExpirationDate`` (``YYYY-MM-DD``,
  with ``valid``), ``Sex``, ``OptionalData``, ``MrzFormat``, ``Mrz`` (the lines),
  ``CompositeValid``, ``ValidScore`` (0-100); ``conf`` is the MRZ lines' mean
  confidence. Without an MRZ, ``Text`` and ``Lines`` as for ``text``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.compat.ultraocr.ids import ksuid_of
from app.compat.ultraocr.submission import service_of
from app.models import Batch, Job, JobStatus, UploadSlot
from app.pipeline.schema import Document, PageResult
from app.services import metadata_value

#: Our job and batch statuses -> UltraOCR's.
STATUSES = {
    JobStatus.PENDING: "processing",
    JobStatus.PROCESSING: "processing",
    JobStatus.DONE: "done",
    JobStatus.FAILED: "error",
    JobStatus.CANCELED: "error",
}
#: ICAO result keys (app/engines/mrz/icao.py) -> UltraOCR-style field names.
_MRZ_FIELDS = (
    ("type_doc", "DocumentType", None),
    ("country", "Country", None),
    ("surname", "Surname", None),
    ("names", "GivenNames", None),
    ("number", "DocumentNumber", "valid_number"),
    ("nationality", "Nationality", None),
    ("date_of_birth", "BirthDate", "valid_date_of_birth"),
    ("sex", "Sex", None),
    ("expiration_date", "ExpirationDate", "valid_expiration_date"),
    ("optional_data", "OptionalData", None),
    ("format", "MrzFormat", None),
    ("raw", "Mrz", None),
)


def iso(moment: datetime | None) -> str:
    """``2022-06-22T20:58:09Z`` ('' for None)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def _conf(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def text_data(page: PageResult) -> dict[str, Any]:
    """``Data`` of a page read as text: ``Text`` and ``Lines`` (module docstring)."""
    lines = [
        {
            "text": line.text,
            "conf": _conf(line.confidence),
            "bbox": list(line.bbox),
            "words": [
                {"text": w.text, "conf": _conf(w.confidence), "bbox": list(w.bbox)}
                for w in line.words
            ],
        }
        for block in page.blocks
        for line in block.lines
    ]
    conf = _conf(page.confidence)
    return {"Text": {"conf": conf, "value": page.text}, "Lines": {"conf": conf, "value": lines}}


def passport_data(page: PageResult) -> dict[str, Any]:
    """``Data`` of a page read by the MRZ reader (module docstring)."""
    mrz = page.mrz or {}
    conf = _conf(page.confidence)
    if not mrz.get("mrz_detected"):
        return {"MrzDetected": {"conf": conf, "value": False}, **text_data(page)}
    data: dict[str, Any] = {"MrzDetected": {"conf": conf, "value": True}}
    for key, name, validity in _MRZ_FIELDS:
        field: dict[str, Any] = {"conf": conf, "value": mrz.get(key)}
        if validity:
            field["valid"] = mrz.get(validity)
        data[name] = field
    data["CompositeValid"] = {"conf": conf, "value": mrz.get("valid_composite")}
    data["ValidScore"] = {"conf": conf, "value": mrz.get("valid_score")}
    return data


def result_of(job: Job, document: Document | None) -> dict[str, Any]:
    """``{"Time", "Document", "Quantity"}`` of a job (``Document`` empty until done)."""
    pages = document.pages if document is not None else []
    service = service_of(job.engine)
    entries = [
        {
            "Page": page.number,
            "Width": page.width,
            "Height": page.height,
            "Data": passport_data(page) if service == "passport" else text_data(page),
        }
        for page in pages
    ]
    return {"Time": f"{job.duration or 0.0:.2f}", "Document": entries, "Quantity": len(entries)}


def _error(job: Job) -> str:
    if job.status == JobStatus.CANCELED:
        return "The job was canceled."
    return job.error_message or job.error_code or "The job failed."


def job_result(job: Job, document: Document | None) -> dict[str, Any]:
    """``GET .../ocr/job/result/...`` of one of our jobs."""
    status = STATUSES.get(job.status, "processing")
    body: dict[str, Any] = {
        "job_ksuid": ksuid_of(job.pk, job.created_at),
        "created_at": iso(job.created_at),
        "service": service_of(job.engine),
        "status": status,
        "filename": job.filename,
        "client_data": metadata_value(job.metadata) or {},
        "result": result_of(job, document),
    }
    if job.duration is not None:
        body["process_time"] = f"{job.duration:.2f}"
    if status == "error":
        body["error"] = _error(job)
    return body


def slot_state(slot: UploadSlot) -> tuple[str, str]:
    """``(status, error)`` of an upload slot whose job or batch does not exist: its
    upload refused or expired (``error``), else not arrived yet (``waiting``)."""
    if slot.error_code:
        return "error", f"The document was refused: {slot.error_message}"
    if slot.used_at is None and slot.expires_at <= datetime.now(UTC):
        return "error", "The document was not uploaded before its upload URL expired."
    return "waiting", ""


def slot_result(slot: UploadSlot) -> dict[str, Any]:
    """A job result (or batch status) of a slot with no job or batch yet."""
    status, error = slot_state(slot)
    key = "job_ksuid" if slot.kind == "job" else "batch_ksuid"
    body: dict[str, Any] = {
        key: ksuid_of(slot.pk, slot.created_at),
        "created_at": iso(slot.created_at),
        "service": slot.service,
        "status": status,
    }
    if slot.kind == "job":
        body["client_data"] = slot.metadata or {}
        body["result"] = {"Time": "0.00", "Document": [], "Quantity": 0}
    else:
        body["jobs"] = []
    if error:
        body["error"] = error
    return body


def job_info(job: Job, document: Document | None, *, client_id: str) -> dict[str, Any]:
    """``GET .../ocr/job/info/{id}``: the job result's facts and who sent it."""
    result = job_result(job, document)
    info: dict[str, Any] = {
        "job_id": result["job_ksuid"],
        "client_id": client_id,
        "company_id": job.owner.get_username() if job.owner else "",
        "created_at": result["created_at"],
        "service": result["service"],
        "status": result["status"],
        "source": "API",
        "metadata": metadata_value(job.metadata) or {},
        "client_data": result["client_data"],
        "result": result["result"],
    }
    if job.finished_at:
        info["finished_at"] = iso(job.finished_at)
    if "error" in result:
        info["error"] = result["error"]
    return info


def batch_status_of(batch: Batch) -> str:
    """UltraOCR's status of a batch: ``error`` when any job failed or it was
    canceled, else as :data:`STATUSES`."""
    return STATUSES.get(batch.status, "processing")


def batch_status(batch: Batch, jobs: list[Job], *, result_url: Any, service: str) -> dict[str, Any]:
    """``GET .../ocr/batch/status/{id}``; ``result_url(batch_ksuid, job_ksuid)`` gives
    each job's result URL."""
    batch_ksuid = ksuid_of(batch.pk, batch.created_at)
    status = batch_status_of(batch)
    entries = []
    for job in jobs:
        job_ksuid = ksuid_of(job.pk, job.created_at)
        entry: dict[str, Any] = {
            "job_ksuid": job_ksuid,
            "created_at": iso(job.created_at),
            "result_url": result_url(batch_ksuid, job_ksuid),
            "status": STATUSES.get(job.status, "processing"),
        }
        if entry["status"] == "error":
            entry["error"] = _error(job)
        entries.append(entry)
    body: dict[str, Any] = {
        "batch_ksuid": batch_ksuid,
        "created_at": iso(batch.created_at),
        "service": service,
        "status": status,
        "jobs": entries,
    }
    if status == "error":
        failed = sum(1 for job in jobs if job.status != JobStatus.DONE)
        body["error"] = f"{failed} of the batch's {len(jobs)} jobs did not finish."
    return body


def batch_info(batch: Batch, jobs: list[Job], *, client_id: str, service: str) -> dict[str, Any]:
    """``GET .../ocr/batch/info/{id}``."""
    status = batch_status_of(batch)
    info: dict[str, Any] = {
        "batch_id": ksuid_of(batch.pk, batch.created_at),
        "client_id": client_id,
        "company_id": batch.owner.get_username(),
        "created_at": iso(batch.created_at),
        "service": service,
        "status": status,
        "source": "API",
        "total_jobs": len(jobs),
        "total_processed": sum(1 for job in jobs if job.is_finished),
    }
    if status == "error":
        info["error"] = "Not every job of the batch finished."
    return info
