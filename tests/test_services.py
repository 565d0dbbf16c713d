"""``services.job_run`` in the test process: claims, resumed deliveries, statements per job."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from app import services
from app.models import Job, Page
from app.pipeline.schema import PAGE_SEPARATOR
from tests.imaging import render_text
from tests.pipeline.helpers import render_text_page

pytestmark = pytest.mark.django_db


def _tiff(images: list[Image.Image]) -> bytes:
    buf = io.BytesIO()
    first, *rest = images
    first.save(buf, "TIFF", save_all=True, append_images=rest, dpi=(150, 150))
    return buf.getvalue()


def _job(user, data: bytes, filename: str = "doc.tif", **options) -> Job:
    """A stored pending job; its task is not sent (the test transaction never commits)."""
    return services.job_create(
        owner=user,
        request=services.JobRequest(
            data=data, filename=filename, engine="tesseract", languages=("eng",), options=options
        ),
    )


def _two_pages() -> bytes:
    return _tiff([render_text_page([f"This is page number {n}."], size=(900, 300)) for n in (1, 2)])


def _sql(ctx: CaptureQueriesContext) -> list[str]:
    """The statements run, without the savepoints the test transaction turns atomic() into."""
    skip = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].upper().startswith(skip)]


def test_a_first_delivery_reads_no_pages_back(user):
    job = _job(user, _two_pages())
    with CaptureQueriesContext(connection) as ctx:
        services.job_run(job_id=str(job.pk))  # as the task gets it
    job.refresh_from_db()
    assert job.status == "done", (job.error_code, job.error_message)
    texts = job.text.split(PAGE_SEPARATOR)
    assert [("page number 1" in texts[0]), ("page number 2" in texts[1])] == [True, True]
    assert job.pages_done == job.page_count == 2 and job.attempts == 1
    assert job.result["engine"] == "tesseract" and job.result["engine_version"]
    assert job.started_at and job.finished_at and job.duration >= 0
    sql = _sql(ctx)
    # The claim (one UPDATE ... RETURNING), then per page its row and the job's update
    # (pages_done, or for the last page the finish): nothing reads the pages back.
    assert len(sql) == 5, sql
    assert not [s for s in sql if s.startswith("SELECT") and '"ocr_page"' in s], sql


def test_a_resumed_delivery_keeps_the_pages_stored_by_an_earlier_one(user):
    job = _job(user, _two_pages(), pages="1-2")
    # An earlier delivery stored page 1, then its worker process died.
    assert services._job_claim(job.pk).attempts == 1
    Page.objects.create(
        job=job,
        number=1,
        text="Stored by the earlier delivery",
        result={"number": 1, "fields": {"name": "earlier"}},
    )
    Job.objects.filter(pk=job.pk).update(pages_done=1)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done", (job.error_code, job.error_message)
    assert job.attempts == 2
    first, second = job.text.split(PAGE_SEPARATOR)
    assert first == "Stored by the earlier delivery"  # not OCRed again
    assert "page number 2" in second
    assert job.result["fields"] == {"name": "earlier"}
    assert job.pages_done == 2
    assert list(job.pages.order_by("number").values_list("number", "status")) == [
        (1, "done"),
        (2, "done"),
    ]


def test_a_delivery_after_every_page_was_stored_only_finishes(user):
    job = _job(user, render_text(["Never read"]).png(), filename="p.png")
    services._job_claim(job.pk)
    Page.objects.create(job=job, number=1, text="Already there", result={"number": 1})
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.text == "Already there" and job.pages_done == 1


def test_a_claim_counts_deliveries_and_sets_started_at_once(user):
    job = _job(user, render_text().png(), filename="p.png")
    first = services._job_claim(job.pk)
    assert first.attempts == 1 and first.status == "processing" and first.started_at
    second = services._job_claim(job.pk)
    assert second.attempts == 2 and second.started_at == first.started_at
    job.refresh_from_db()
    assert (job.attempts, job.status, job.started_at) == (2, "processing", first.started_at)


def test_finished_jobs_are_not_run_and_crashing_ones_stop(user, settings):
    done = _job(user, render_text().png(), filename="p.png")
    Job.objects.filter(pk=done.pk).update(status="done", text="kept")
    services.job_run(job_id=done.pk)
    done.refresh_from_db()
    assert (done.status, done.text, done.attempts) == ("done", "kept", 0)

    crashing = _job(user, render_text().png(), filename="p.png")
    Job.objects.filter(pk=crashing.pk).update(attempts=settings.OCR_MAX_ATTEMPTS)
    services.job_run(job_id=crashing.pk)
    crashing.refresh_from_db()
    assert crashing.status == "failed" and crashing.error_code == "engine_crash"
    assert crashing.attempts == settings.OCR_MAX_ATTEMPTS and crashing.finished_at
    assert not crashing.pages.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_are_each_counted_once(settings):
    from concurrent.futures import ThreadPoolExecutor

    settings.OCR_MAX_ATTEMPTS = 100
    # Created directly: job_create would send its task once the transaction commits.
    job = Job.objects.create(engine="tesseract", content_type="image/png", page_count=1)

    def claim_ten() -> list[int]:
        try:
            return [services._job_claim(str(job.pk)).attempts for _ in range(10)]
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        counted = [n for run in [pool.submit(claim_ten) for _ in range(2)] for n in run.result()]
    assert sorted(counted) == list(range(1, 21))
    job.refresh_from_db()
    assert job.attempts == 20 and job.status == "processing"
