"""Upload slots: an id and a signed, single-use URL handed out before the file.

UltraOCR's two-step calls (``POST .../ocr/job/{service}`` or ``.../ocr/batch/{service}``
then a ``PUT`` of the file to the URL it answered; nuveo/ultraocr-sdk-python,
``ultraocr/functions.py``) need a job or batch id before there is a document. A slot
(:class:`app.models.UploadSlot`) records who asked, for what (``kind`` ``job`` or
``batch``, the engine options, the metadata as sent, whether the ``PUT`` body is
base64 text) and until when (``expires_at``); the compatibility API signs its id
into the upload URL. :func:`upload_slot_use` turns the ``PUT`` body into the job
(:func:`~app.services.jobs.job_create`) or batch
(:func:`~app.services.batches.batch_create`) with the slot's id as its own, once:
the slot is claimed by one conditional ``UPDATE`` (``used_at`` set where it was
null and the slot has not expired), so two concurrent uploads make one job.

A document refused by the checks every submission gets (format, size, pixels,
pages, quota) consumes the slot too; the refusal is kept in the slot's
``error_code`` and ``error_message`` so the job reads as failed instead of waiting
forever. Slots are read with ``selectors.upload_slot_get``.

A batch's one document becomes one job per page: a PDF is split into one-page PDFs
(pypdfium2), another multi-page file (TIFF) is stored once per page with that
page's ``pages`` option, a one-page file is one job; at most
``OCR_MAX_BATCH_ITEMS`` pages (``batch_create`` refuses more). Metadata that is a
list of objects, one per page, is each job's own metadata.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from app.errors import OcrError
from app.models import Batch, Job, UploadSlot
from app.pipeline import document, inputs
from app.pipeline.inputs import PDF_TYPE
from app.pipeline.options import JobOptions
from app.services.batches import batch_create
from app.services.jobs import JobRequest, check_engine_options, job_create, limits

log = logging.getLogger(__name__)

#: The key a metadata value that is not a JSON object is kept under (``Job.metadata``
#: and ``Batch.metadata`` are objects): ``[1, 2]`` is stored as ``{"_value": [1, 2]}``.
WRAPPED_KEY = "_value"
KINDS = ("job", "batch")


def metadata_object(value: Any) -> dict[str, Any]:
    """Metadata as a job's or batch's JSON object: an object as given, None as ``{}``,
    anything else (a list, a string, a number) under :data:`WRAPPED_KEY`."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    return {WRAPPED_KEY: value}


def metadata_value(stored: Any) -> Any:
    """The metadata as it was sent, from what :func:`metadata_object` stored."""
    if isinstance(stored, dict) and set(stored) == {WRAPPED_KEY}:
        return stored[WRAPPED_KEY]
    return stored


def upload_slot_create(
    *,
    owner: Any,
    source: str,
    kind: str,
    service: str,
    options: JobOptions,
    metadata: Any,
    base64: bool,
    lifetime: timedelta,
    slot_id: Any = None,
) -> UploadSlot:
    """Record a slot for a later upload; return it.

    ``kind``: ``job`` or ``batch``; ``options``: the job options the document will be
    read with (checked now: ``engine_unavailable``, ``unknown_language``,
    ``invalid_option``); ``metadata``: any JSON value as sent; ``base64``: the upload
    will be base64 text; ``lifetime``: how long the upload URL is good for;
    ``slot_id``: the id (a UUID) the job or batch will get, None for a random one.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown upload kind {kind!r}")
    check_engine_options(options)
    now = timezone.now()
    fields: dict[str, Any] = {"id": slot_id} if slot_id is not None else {}
    return UploadSlot.objects.create(
        **fields,
        owner=owner,
        source=source,
        kind=kind,
        service=service,
        options={
            "engine": options.engine,
            "languages": options.languages_joined,
            "options": options.stored(),
        },
        metadata=metadata,
        base64=base64,
        created_at=now,
        expires_at=now + lifetime,
    )


def upload_slot_use(*, slot_id: Any, data: bytes, filename: str = "document") -> Job | Batch:
    """Turn the upload of slot ``slot_id`` into its job or batch (id = the slot's).

    ``data``: the ``PUT`` body (base64 text when the slot says so). Raises
    ``OcrError``: ``permission_denied`` (403) for an unknown, used or expired slot;
    any submission error of the document (the slot is then used up and the refusal
    kept, see the module docstring).
    """
    now = timezone.now()
    claimed = (
        UploadSlot.objects.filter(pk=slot_id, used_at__isnull=True, expires_at__gt=now)
        .filter(Q(owner__is_active=True))
        .update(used_at=now)
    )
    slot = UploadSlot.objects.select_related("owner").filter(pk=slot_id).first()
    if not claimed or slot is None:
        if slot is None or not slot.owner.is_active:
            raise OcrError("permission_denied", "This upload URL is not valid.", http_status=403)
        if slot.used_at is not None and slot.used_at < now:
            raise OcrError(
                "permission_denied", "This upload URL was already used.", http_status=403
            )
        raise OcrError("permission_denied", "This upload URL has expired.", http_status=403)
    try:
        if slot.base64:
            data = inputs.decode_base64(data.decode("ascii", "replace"), field="document")
        return _create(slot, data, filename)
    except OcrError as exc:
        UploadSlot.objects.filter(pk=slot.pk).update(error_code=exc.code, error_message=exc.message)
        raise


def _options(slot: UploadSlot) -> JobOptions:
    stored = slot.options or {}
    return JobOptions.from_job_fields(
        engine=stored.get("engine", ""),
        languages=stored.get("languages", ""),
        options=stored.get("options") or {},
    )


def _create(slot: UploadSlot, data: bytes, filename: str) -> Job | Batch:
    options = _options(slot)
    if slot.kind == "job":
        request = JobRequest(
            data=data,
            filename=filename,
            options=options,
            metadata=metadata_object(slot.metadata),
            source=slot.source,
        )
        return job_create(owner=slot.owner, request=request, job_id=slot.id)
    items = _batch_items(data, filename, options, slot)
    return batch_create(
        owner=slot.owner,
        items=items,
        options=options,
        metadata=metadata_object(slot.metadata),
        item_field="document",
        batch_id=slot.id,
    )


def _batch_items(
    data: bytes, filename: str, options: JobOptions, slot: UploadSlot
) -> list[JobRequest]:
    """One :class:`JobRequest` per page of the batch's document (module docstring)."""
    info = document.inspect(data, limits())
    count = info.page_count
    if count > settings.OCR_MAX_BATCH_ITEMS:
        raise OcrError(
            "too_many_pages",
            f"A batch makes one job per page, at most {settings.OCR_MAX_BATCH_ITEMS}; "
            f"this document has {count} pages.",
        )
    per_page = slot.metadata if isinstance(slot.metadata, list) else None
    if per_page is not None and (
        len(per_page) != count or not all(isinstance(m, dict) for m in per_page)
    ):
        per_page = None
    if count == 1:
        pieces = [(data, options)]
    elif info.content_type == PDF_TYPE:
        pieces = [(page, options) for page in _split_pdf(data)]
    else:
        pieces = [(data, options.changed(pages=str(n))) for n in range(1, count + 1)]
    stem = filename.rsplit(".", 1)[0] or "document"
    return [
        JobRequest(
            data=piece,
            filename=f"{stem}-page-{n}" if count > 1 else filename,
            options=piece_options,
            metadata=per_page[n - 1] if per_page else {},
            source=slot.source,
        )
        for n, (piece, piece_options) in enumerate(pieces, start=1)
    ]


def _split_pdf(data: bytes) -> list[bytes]:
    """A PDF's pages as one-page PDFs. Raises ``OcrError("invalid_pdf")``."""
    import pypdfium2 as pdfium

    try:
        src = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        raise OcrError("invalid_pdf", "The PDF cannot be read.") from None
    try:
        pages = []
        for index in range(len(src)):
            dst = pdfium.PdfDocument.new()
            dst.import_pages(src, pages=[index])
            buf = io.BytesIO()
            dst.save(buf)
            dst.close()
            pages.append(buf.getvalue())
        return pages
    finally:
        src.close()
