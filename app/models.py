"""Jobs, their pages, batches of jobs, API keys, idempotency keys and webhooks.

A :class:`Job` is one submitted document; each page of it is a :class:`Page`
row written as soon as that page is done, so progress and per-page results are
cheap to read (docs/architecture.md, "The life of a job"). Business rules live
in ``services.py``; these classes only describe the data.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey


def upload_path(job: Job, filename: str) -> str:
    """Storage path of an upload: ``uploads/YYYY/MM/<job id>`` (no user-chosen name)."""
    return f"uploads/{timezone.now():%Y/%m}/{job.id}"


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


FINISHED_STATUSES = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELED)


class Batch(models.Model):
    """Many documents submitted as one unit (``POST /api/batches/``), each a :class:`Job`.

    ``status``: ``pending`` until one of its jobs starts, ``processing``, then ``done``
    when every job has ended and none failed, ``failed`` when every job has ended and
    at least one failed, ``canceled`` when the batch was canceled. ``job_count`` is
    fixed at submission; ``options`` are the jobs' shared options as stored;
    ``callback_url`` receives the ``batch.done`` webhook (``services.webhooks``).
    Its jobs are sent to the queue at most ``OCR_BATCH_WINDOW`` at a time
    (``services.batches``), so a batch never floods the queue ahead of other users.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ocr_batches"
    )
    status = models.CharField(
        max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    job_count = models.PositiveIntegerField(default=0)
    engine = models.CharField(max_length=50, blank=True, default="")
    languages = models.CharField(max_length=200, blank=True, default="")
    options = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    callback_url = models.URLField(max_length=2000, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return f"batch {self.id} ({self.job_count} jobs, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class Job(models.Model):
    """One OCR job: the stored upload, the options, the progress and the result.

    ``size`` is in bytes; ``duration`` in seconds (started -> finished);
    ``result`` holds the document-level part of the schema (engine,
    engine_version, languages, fields, mrz); the pages live in :class:`Page`.
    ``attempts`` counts deliveries to a worker, bounding redelivery after a
    crash (``OCR_MAX_ATTEMPTS``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="ocr_jobs",
    )
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    #: When a batch's job was sent to the queue (None: waiting for the batch's window).
    queued_at = models.DateTimeField(null=True, blank=True)
    #: Where this job's end is sent as a signed webhook (``services.webhooks``).
    callback_url = models.URLField(max_length=2000, blank=True, default="")
    #: The API the job came through: "" for our own (``/api/``, the pages, the
    #: command), else a compatibility API's name (``app/compat/``: "azure", ...).
    source = models.CharField(max_length=20, blank=True, default="", db_index=True)
    filename = models.CharField(max_length=255, blank=True)
    file = models.FileField(upload_to=upload_path, max_length=255, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    engine = models.CharField(max_length=50, db_index=True)
    languages = models.CharField(max_length=200, default="eng")
    options = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    page_count = models.PositiveIntegerField(default=0)
    pages_done = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    text = models.TextField(blank=True, default="")
    error_code = models.CharField(max_length=50, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="seconds")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["batch", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.filename or self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def language_list(self) -> list[str]:
        return [lang for lang in self.languages.split("+") if lang]


class Page(models.Model):
    """One page of a job, written when it finishes.

    ``width``/``height`` in pixels of the image as OCRed; ``rotation`` in
    degrees (0/90/180/270) and ``skew`` in degrees, both applied before OCR;
    ``duration`` in seconds of work on the page: decoding (or rendering) its
    image, preprocessing and the engine. ``result`` is the schema's Page;
    ``raw_response`` a cloud provider's raw answer, kept for audit only.
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.DONE)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    dpi = models.PositiveIntegerField(null=True, blank=True)
    rotation = models.PositiveSmallIntegerField(default=0)
    skew = models.FloatField(default=0.0)
    confidence = models.FloatField(null=True, blank=True)
    text = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    raw_response = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=50, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    duration = models.FloatField(null=True, blank=True, help_text="seconds")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="unique_page_per_job")
        ]

    def __str__(self) -> str:
        return f"{self.job_id} p{self.number}"


class PageTaskState(models.TextChoices):
    PENDING = "pending", "Pending"
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PageTask(models.Model):
    """The work on one page of a job, as the page fan-out tracks it.

    Made for every page to read when a job starts (``pending``); ``queued`` when
    its Celery task is sent (at most ``OCR_PAGE_WINDOW`` of a job at a time),
    ``processing`` while a worker reads it, ``done`` once its :class:`Page` row is
    stored, ``failed`` when it could not be read. ``attempts`` counts deliveries
    to a worker (bounded by ``OCR_MAX_ATTEMPTS``: a page whose worker died that
    often fails with ``engine_crash``); ``worker`` is the Celery node name that
    last took it; times are when it was last taken and when it ended.
    (docs/architecture.md, "Page fan-out").
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="page_tasks")
    number = models.PositiveIntegerField()
    state = models.CharField(
        max_length=20, choices=PageTaskState.choices, default=PageTaskState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="unique_page_task_per_job")
        ]
        indexes = [models.Index(fields=["job", "state", "number"])]

    def __str__(self) -> str:
        return f"{self.job_id} p{self.number} ({self.state})"


class ApiKey(AbstractAPIKey):
    """A user's API key: a long-lived credential for scripts and other services.

    The key itself (``<prefix>.<secret>``, 8 + 32 random characters) is shown once,
    when it is made; only its SHA-512 hash is stored (djangorestframework-api-key's
    ``AbstractAPIKey``: ``prefix``, ``hashed_key``, ``name``, ``created``,
    ``expiry_date``, ``revoked``, revocation final). ``uid`` is the key's public id
    in the API (``/api/keys/{uid}/``); ``last_used_at`` is updated at most once a
    minute (``services.keys``). A request authenticated with it acts as ``owner``:
    the same jobs, throttles and quotas as the owner's JWT.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"
        indexes = [models.Index(fields=["owner", "revoked", "created"])]


class IdempotencyKey(models.Model):
    """An ``Idempotency-Key`` a user sent with a ``POST`` that made something (a job or
    a batch).

    The same key from the same user within ``OCR_IDEMPOTENCY_SECONDS`` answers the job
    or batch the first request made instead of making another (``services.idempotency``).
    ``fingerprint`` is the SHA-256 of the request (``scope``, document, options,
    metadata, name): the same key with another request is a conflict. The unique
    constraint on (owner, key) makes concurrent duplicates create exactly one job.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=20)
    fingerprint = models.CharField(max_length=64)
    job = models.ForeignKey(
        Job, on_delete=models.CASCADE, null=True, blank=True, related_name="idempotency_keys"
    )
    batch = models.ForeignKey(
        Batch, on_delete=models.CASCADE, null=True, blank=True, related_name="idempotency_keys"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="unique_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.owner_id}: {self.key}"


#: Events a webhook endpoint may subscribe to (docs/webhooks.md).
WEBHOOK_EVENTS = ("job.done", "job.failed", "job.canceled", "batch.done")


def _all_events() -> list[str]:
    return list(WEBHOOK_EVENTS)


class WebhookEndpoint(models.Model):
    """A user's webhook endpoint: a URL that gets signed event messages.

    ``secret`` is the Standard Webhooks signing secret (``whsec_`` + base64 of 24
    random bytes), shown to the user once; ``events`` the subscribed event types
    (:data:`WEBHOOK_EVENTS`). A request's ``callback_url`` is signed with the user's
    first enabled endpoint's secret (``services.webhooks``).
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=_all_events)
    secret = models.CharField(max_length=100, editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event message to one URL, with its attempts (the delivery log).

    ``message_id`` is the Standard Webhooks ``webhook-id`` (the same on every
    attempt, so a receiver can drop duplicates); ``payload`` the JSON sent;
    ``attempts`` counts tries; ``last_*`` describe the latest (HTTP status or None,
    latency in milliseconds, the first 500 characters of the answer or the error);
    ``next_attempt_at`` is when the next try is due while ``pending``.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    url = models.URLField(max_length=2000)
    event = models.CharField(max_length=40)
    message_id = models.CharField(max_length=60, unique=True)
    payload = models.JSONField()
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["endpoint", "-created_at"])]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} -> {self.url} ({self.status})"


class UploadSlot(models.Model):
    """A signed, single-use upload URL handed out before its file arrives.

    UltraOCR's two-step calls (``POST .../ocr/job/{service}`` then a ``PUT`` of the
    file to a signed URL, docs/compat.md) need a job id before there is a job:
    ``id`` is the id the job (``kind="job"``) or batch (``kind="batch"``) gets when
    the file arrives. ``source`` is the compatibility API's name (``Job.source``),
    ``service`` its service name, ``options`` the job request's options as sent,
    ``metadata`` what the client sent along (any JSON: object, list or null),
    ``base64`` whether the ``PUT`` body is base64 text. The slot is used once
    (``used_at``) and refused after ``expires_at``. When the uploaded document was
    refused (format, size, pixels, pages, quota), ``error_code`` and ``error_message``
    say why (docs/errors.md), so the job it was for reads as failed, not as waiting.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="upload_slots"
    )
    source = models.CharField(max_length=20)
    kind = models.CharField(max_length=10, default="job")
    service = models.CharField(max_length=50, blank=True, default="")
    options = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(null=True, blank=True)
    base64 = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=50, blank=True, default="")
    error_message = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.id}"


class CompatNumber(models.Model):
    """An integer id that a compatibility API shows for one of our jobs.

    Chekin's v1 OCR API numbers its results with integers (docs/compat.md); ``id``
    is that number for ``job``. Deleted with the job.
    """

    id = models.BigAutoField(primary_key=True)
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="compat_number")

    def __str__(self) -> str:
        return f"{self.id} -> {self.job_id}"
