"""Routes of UltraOCR v2, mounted at ``/compat/ultraocr/``: clients set both
``base_url`` and ``auth_base_url`` to ``http://<host>/compat/ultraocr/v2``.

The SDKs build every URL as ``f"{base_url}/ocr/..."`` with no trailing slash (a base
URL given with one sends ``v2//ocr/...``), so each route takes any number of slashes
after ``v2`` and an optional trailing one. The fixed segments (``send``, ``result``,
``info``, ``results``, ``status``) come before ``{service}``. Anything else answers
UltraOCR's 404 ``{"message"}``, so CommonMiddleware never redirects a path.
"""

from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, re_path

from app.compat.ultraocr import views

_JOB = r"(?P<job_id>[0-9A-Za-z]+)"
_BATCH = r"(?P<batch_id>[0-9A-Za-z]+)"
_SERVICE = r"(?P<service>[A-Za-z0-9_-]+)"
_SIGNED = r"(?P<token>[^/]+)"  # a signed URL's token


def _v2(path: str, view: Callable[..., Any], name: str) -> URLPattern:
    """The route of ``path`` (a regular expression) after ``v2`` and any number of
    slashes, with an optional trailing slash."""
    return re_path(r"^v2/+" + path + r"/?$", view, name=name)


urlpatterns = [
    _v2(r"token", views.token, "ultraocr-token"),
    _v2(r"ocr/job/send/" + _SERVICE, views.send, "ultraocr-send"),
    _v2(r"ocr/job/result/" + _BATCH + "/" + _JOB, views.job_result, "ultraocr-job-result-2"),
    _v2(r"ocr/job/result/" + _JOB, views.job_result, "ultraocr-job-result-1"),
    _v2(r"ocr/job/info/" + _JOB, views.job_info, "ultraocr-job-info"),
    _v2(r"ocr/job/results", views.job_results, "ultraocr-job-results"),
    _v2(r"ocr/batch/status/" + _BATCH, views.batch_status, "ultraocr-batch-status"),
    _v2(r"ocr/batch/info/" + _BATCH, views.batch_info, "ultraocr-batch-info"),
    _v2(r"ocr/batch/result/" + _BATCH, views.batch_result, "ultraocr-batch-result"),
    _v2(r"ocr/(?P<resource>job|batch)/" + _SERVICE, views.create, "ultraocr-create"),
    _v2(r"upload/" + _SIGNED, views.upload, "ultraocr-upload"),
    _v2(r"download/" + _SIGNED, views.download, "ultraocr-download"),
    # Every path resolves, so CommonMiddleware never redirects one with a slash added.
    re_path(r"", views.unknown, name="ultraocr-unknown"),
]
