"""The Celery application. Configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery

import onlineocr.broker  # noqa: F401  (atomic filesystem:// messages, see the module)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onlineocr.settings")
# Tesseract's OpenMP threads slow down parallel jobs: one OCR per core instead.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

app = Celery("onlineocr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
