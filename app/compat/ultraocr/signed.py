"""Signed URLs that need no Authorization header: uploads and batch result files.

UltraOCR hands out S3 presigned URLs (nuveo/ultraocr-sdk-python ``generate_signed_url``
and ``get_batch_result_storage``: ``{"exp": "60000", "url"|"urls": ...}``, ``exp``
the lifetime in milliseconds). Here the URL carries its own signature made with the
site's secret (``django.core.signing``, timestamped): ``{base}/upload/<signature>``
for a ``PUT`` of a slot's document (or its selfie or extra document, accepted and
not read), ``{base}/download/<signature>`` for a ``GET`` of a batch's results. Both
expire after :data:`LIFETIME_SECONDS`; an upload slot is also single-use
(:mod:`app.services.uploads`).
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.http import HttpRequest
from django.urls import reverse

from app.errors import OcrError

#: How long a signed URL works, in seconds (UltraOCR's are shorter: 60 s).
LIFETIME_SECONDS = 300
UPLOAD_SALT = "app.compat.ultraocr.upload"
DOWNLOAD_SALT = "app.compat.ultraocr.download"
#: The parts of a job that have an upload URL (``urls`` keys of UltraOCR's answer).
PARTS = ("document", "selfie", "extra_document")


def upload_url(request: HttpRequest, slot_id: Any, part: str) -> str:
    """The absolute URL a client ``PUT``s ``part`` of slot ``slot_id`` to."""
    token = signing.dumps({"s": str(slot_id), "p": part}, salt=UPLOAD_SALT)
    return request.build_absolute_uri(reverse("ultraocr-upload", kwargs={"token": token}))


def upload_claims(token: str) -> tuple[str, str]:
    """``(slot id, part)`` of an upload URL's signature; ``permission_denied`` (403)
    when forged or older than :data:`LIFETIME_SECONDS`."""
    try:
        claims = signing.loads(token, salt=UPLOAD_SALT, max_age=LIFETIME_SECONDS)
        slot_id, part = str(claims["s"]), str(claims["p"])
    except signing.SignatureExpired:
        raise OcrError("permission_denied", "This upload URL has expired.") from None
    except (signing.BadSignature, KeyError, TypeError):
        raise OcrError("permission_denied", "This upload URL is not valid.") from None
    if part not in PARTS:
        raise OcrError("permission_denied", "This upload URL is not valid.")
    return slot_id, part


def download_url(request: HttpRequest, batch_id: Any, owner_id: Any) -> str:
    """The absolute URL of a JSON file with the results of ``owner_id``'s batch."""
    token = signing.dumps({"b": str(batch_id), "o": owner_id}, salt=DOWNLOAD_SALT)
    return request.build_absolute_uri(reverse("ultraocr-download", kwargs={"token": token}))


def download_claims(token: str) -> tuple[str, Any]:
    """``(batch id, owner id)`` of a download URL's signature; ``permission_denied``."""
    try:
        claims = signing.loads(token, salt=DOWNLOAD_SALT, max_age=LIFETIME_SECONDS)
        return str(claims["b"]), claims["o"]
    except signing.SignatureExpired:
        raise OcrError("permission_denied", "This download URL has expired.") from None
    except (signing.BadSignature, KeyError, TypeError):
        raise OcrError("permission_denied", "This download URL is not valid.") from None
