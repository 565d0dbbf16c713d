"""Prometheus metrics, computed from the database and the broker at scrape time.

Counting from the database (not in-process counters) gives the same figures
whatever web process is scraped and however many worker hosts wrote them:

* ``onlineocr_jobs{status,engine}`` — jobs by status and engine (gauge);
* ``onlineocr_ocr_page_seconds{engine}`` — OCR seconds per page (histogram of
  ``Page.duration`` of pages done);
* ``onlineocr_queue_length{queue}`` — messages waiting in each Celery queue;
* ``onlineocr_broker_up`` — 1 when the broker answered the queue-length query.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Q, Sum
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from app.models import Job, JobStatus, Page

#: Upper bounds (seconds) of the per-page OCR time histogram.
PAGE_SECONDS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


def queue_lengths() -> dict[str, int]:
    """Messages waiting per queue (``OCR_QUEUE``, ``OCR_PROVIDER_QUEUE``); raises if the
    broker cannot be reached. A queue the broker does not know yet counts 0."""
    from onlineocr.celery import app

    out: dict[str, int] = {}
    with app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        channel = conn.default_channel
        for name in dict.fromkeys([settings.OCR_QUEUE, settings.OCR_PROVIDER_QUEUE]):
            try:
                out[name] = int(channel.queue_declare(queue=name, passive=True).message_count)
            except Exception:  # a passive declare of a queue never used fails: empty
                out[name] = 0
    return out


class OcrCollector:
    """A prometheus_client collector reading jobs, pages and queues on each scrape."""

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "onlineocr_jobs", "Jobs by status and engine.", labels=["status", "engine"]
        )
        counts = {
            (row["status"], row["engine"]): row["n"]
            for row in Job.objects.values("status", "engine").annotate(n=Count("id")).order_by()
        }
        engines = sorted({engine for _, engine in counts} | {settings.OCR_DEFAULT_ENGINE})
        for status in JobStatus.values:
            for engine in engines:
                jobs.add_metric([status, engine], counts.get((status, engine), 0))
        yield jobs

        hist = HistogramMetricFamily(
            "onlineocr_ocr_page_seconds",
            "Engine seconds per OCRed page.",
            labels=["engine"],
        )
        bucket_counts = {
            f"le{i}": Count("id", filter=Q(duration__lte=bound))
            for i, bound in enumerate(PAGE_SECONDS_BUCKETS)
        }
        rows = (
            Page.objects.filter(status=JobStatus.DONE, duration__isnull=False)
            .values("job__engine")
            .annotate(total=Count("id"), seconds=Sum("duration"), **bucket_counts)
            .order_by()
        )
        for row in rows:
            buckets = [
                (_bound(bound), row[f"le{i}"]) for i, bound in enumerate(PAGE_SECONDS_BUCKETS)
            ]
            buckets.append(("+Inf", row["total"]))
            hist.add_metric([row["job__engine"]], buckets, sum_value=row["seconds"] or 0.0)
        yield hist

        queue = GaugeMetricFamily(
            "onlineocr_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        up = GaugeMetricFamily("onlineocr_broker_up", "1 if the broker answered.")
        try:
            for name, length in queue_lengths().items():
                queue.add_metric([name], length)
            up.add_metric([], 1)
        except Exception:
            up.add_metric([], 0)
        yield queue
        yield up


def _bound(value: float) -> str:
    return "+Inf" if math.isinf(value) else repr(float(value))


def render_metrics() -> bytes:
    """The metrics in Prometheus' text exposition format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OcrCollector())
    return generate_latest(registry)
