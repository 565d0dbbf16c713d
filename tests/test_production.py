"""Quotas and throttles, retention, metrics, file downloads and JSON logs."""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from app.files import file_response
from app.logjson import JsonFormatter
from app.models import Job, JobStatus, Page
from app.retention import retention_sweep
from tests.imaging import render_text


@pytest.fixture
def png() -> bytes:
    return render_text(["Quota page"]).png()


def _job(owner, *, status=JobStatus.DONE, pages=1, days_old=0, data=b"x") -> Job:
    job = Job.objects.create(
        owner=owner,
        filename="a.png",
        content_type="image/png",
        engine="tesseract",
        status=status,
        page_count=pages,
        sha256="0" * 64,
    )
    job.file.save(str(job.id), ContentFile(data), save=True)
    if days_old:
        Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=days_old))
    return job


# --- quotas and throttles -----------------------------------------------------------
def test_the_daily_page_quota_answers_429_with_retry_after_until_midnight(
    auth_client, user, png, settings
):
    settings.OCR_DAILY_PAGE_QUOTA = 2
    _job(user, pages=1)
    _job(user, pages=1, days_old=2)  # yesterday's pages do not count
    first = auth_client.post("/api/ocr/", {"image": ContentFile(png, "a.png")})
    assert first.status_code == 202, first.content
    second = auth_client.post("/api/ocr/", {"image": ContentFile(png, "b.png")})
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "quota_exceeded"
    now = timezone.now()
    to_midnight = (now.replace(hour=23, minute=59, second=59) - now).total_seconds() + 1
    assert 0 < int(second["Retry-After"]) <= to_midnight + 1
    assert Job.objects.filter(owner=user).count() == 3  # nothing stored for the refusal


def test_staff_have_no_page_quota(db, api_client, png, settings):
    from tests.factories import UserFactory

    settings.OCR_DAILY_PAGE_QUOTA = 1
    staff = UserFactory(is_staff=True)
    api_client.force_authenticate(staff)
    for name in ("a.png", "b.png"):
        assert api_client.post("/api/ocr/", {"image": ContentFile(png, name)}).status_code == 202


def test_user_and_anonymous_throttles_answer_quota_exceeded(auth_client, api_client, monkeypatch):
    cache.clear()
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "2/minute")
    monkeypatch.setitem(AnonRateThrottle.THROTTLE_RATES, "anon", "1/minute")
    assert auth_client.get("/api/history/").status_code == 200
    assert auth_client.get("/api/history/").status_code == 200
    r = auth_client.get("/api/history/")
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "quota_exceeded"
    assert 0 < int(r["Retry-After"]) <= 60
    assert api_client.get("/api/engines/").status_code == 200
    assert api_client.get("/api/engines/").status_code == 429
    # Health probes are never throttled.
    assert api_client.get("/api/health/live/").status_code == 200
    cache.clear()


# --- retention ----------------------------------------------------------------------
def test_retention_deletes_old_jobs_with_their_files_and_keeps_recent_ones(
    user, settings, django_capture_on_commit_callbacks
):
    settings.OCR_RETENTION_DAYS = 30
    old, recent = _job(user, days_old=31), _job(user, days_old=29)
    old_name = old.file.name
    Page.objects.create(job=old, number=1, text="old")
    with django_capture_on_commit_callbacks(execute=True):
        report = retention_sweep()
    assert report.jobs_deleted == 1
    assert not Job.objects.filter(pk=old.pk).exists()
    assert not Page.objects.filter(job_id=old.pk).exists()
    assert not default_storage.exists(old_name)
    assert Job.objects.filter(pk=recent.pk).exists()
    assert default_storage.exists(recent.file.name)


def test_retention_zero_days_keeps_everything_but_removes_old_orphan_files(user, settings):
    settings.OCR_RETENTION_DAYS = 0
    settings.OCR_RETENTION_ORPHAN_GRACE_SECONDS = 3600
    ancient = _job(user, days_old=3650)
    stale = default_storage.save("uploads/2020/01/orphan", ContentFile(b"orphan"))
    fresh = default_storage.save("uploads/2020/01/fresh-orphan", ContentFile(b"fresh"))
    two_hours_ago = time.time() - 7200
    os.utime(default_storage.path(stale), (two_hours_ago, two_hours_ago))
    report = retention_sweep()
    assert report.jobs_deleted == 0
    assert report.orphans_deleted == 1
    assert Job.objects.filter(pk=ancient.pk).exists()
    assert default_storage.exists(ancient.file.name)
    assert not default_storage.exists(stale)
    assert default_storage.exists(fresh)  # may belong to a job being committed
    default_storage.delete(fresh)


def test_deleting_a_job_through_the_api_deletes_its_file(
    auth_client, user, django_capture_on_commit_callbacks
):
    job = _job(user)
    name = job.file.name
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(f"/api/ocr/{job.id}/").status_code == 204
    assert not default_storage.exists(name)


def test_the_retention_task_is_scheduled_by_beat(settings):
    from app import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["retention-sweep"]
    assert entry["task"] == tasks.retention_sweep.name


# --- metrics ------------------------------------------------------------------------
@pytest.mark.django_db
def test_metrics_count_jobs_page_seconds_and_queues_for_allowed_clients(user, settings):
    settings.OCR_METRICS_ALLOW = ["127.0.0.1/32"]
    job = _job(user)
    _job(user, status=JobStatus.FAILED)
    Page.objects.create(job=job, number=1, duration=0.7)
    Page.objects.create(job=job, number=2, duration=3.0)
    r = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/plain")
    text = r.content.decode()
    assert 'onlineocr_jobs{engine="tesseract",status="done"} 1.0' in text
    assert 'onlineocr_jobs{engine="tesseract",status="failed"} 1.0' in text
    assert 'onlineocr_ocr_page_seconds_bucket{engine="tesseract",le="1.0"} 1.0' in text
    assert 'onlineocr_ocr_page_seconds_bucket{engine="tesseract",le="5.0"} 2.0' in text
    assert 'onlineocr_ocr_page_seconds_sum{engine="tesseract"} 3.7' in text
    assert f'onlineocr_queue_length{{queue="{settings.OCR_QUEUE}"}}' in text


@pytest.mark.django_db
def test_metrics_need_the_token_or_an_allowed_address(settings):
    settings.OCR_METRICS_ALLOW = ["10.0.0.0/8"]
    settings.OCR_METRICS_TOKEN = "s3cret"
    stranger = Client(REMOTE_ADDR="192.0.2.7")
    assert stranger.get("/metrics").status_code == 403
    assert stranger.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert stranger.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    # Behind one proxy the client is the address the proxy appended, not REMOTE_ADDR.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxied = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, 192.0.2.7")
    assert proxied.get("/metrics").status_code == 403


# --- file downloads -----------------------------------------------------------------
def test_file_response_hands_local_files_to_nginx_with_x_accel_redirect(settings):
    settings.OCR_X_ACCEL_REDIRECT = True
    r = file_response("uploads/2026/01/abc def", "scan 1.png", "image/png")
    assert r["X-Accel-Redirect"] == "/protected-media/uploads/2026/01/abc%20def"
    assert r["Content-Type"] == "image/png"
    assert 'filename="scan 1.png"' in r["Content-Disposition"]
    assert r.content == b""


def test_file_response_streams_without_nginx(settings):
    settings.OCR_X_ACCEL_REDIRECT = False
    name = default_storage.save("uploads/2026/01/stream-me", ContentFile(b"PNGDATA"))
    try:
        r = file_response(name, "a.png", "image/png")
        assert b"".join(r.streaming_content) == b"PNGDATA"
        assert "X-Accel-Redirect" not in r
    finally:
        default_storage.delete(name)


# --- JSON logs ----------------------------------------------------------------------
def test_json_formatter_writes_one_object_per_record_with_extras_and_exceptions():
    formatter = JsonFormatter()
    record = logging.makeLogRecord(
        {
            "name": "app.x",
            "levelname": "ERROR",
            "msg": "job %s failed",
            "args": ("j1",),
            "job_id": "j1",
        }
    )
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    out = json.loads(formatter.format(record))
    assert out["message"] == "job j1 failed"
    assert out["level"] == "ERROR"
    assert out["job_id"] == "j1"
    assert "ValueError: boom" in out["exception"]
