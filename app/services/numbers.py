"""Integer numbers for jobs, as compatibility APIs with integer ids show them.

Chekin's OCR API v1 numbers its scans with integers (``"id": 15``; Chekin's API
reference, "OCR Web", v1). A job's number is the id of its
:class:`~app.models.CompatNumber` row, made the first time it is asked for and kept
until the job is deleted (the row goes with it). This module is the only writer of
that table.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from app.models import CompatNumber, Job


def job_number(*, job: Job) -> int:
    """The integer number of ``job`` (get-or-create; the same number on every call).

    Two callers racing for a new job's number both get the one that was stored.
    """
    found = CompatNumber.objects.filter(job=job).values_list("id", flat=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return CompatNumber.objects.create(job=job).id
    except IntegrityError:  # made meanwhile by another request
        return CompatNumber.objects.values_list("id", flat=True).get(job=job)
