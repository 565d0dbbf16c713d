"""Reads (app/selectors.py) whose rules a user sees: the page image of a photo.

A photographed page is squared before it is read (app/pipeline/photo.py), so its word
boxes refer to the warped page; the page image the API, the result page and the
searchable PDF show must be that same warped page, rebuilt from the stored upload and
the page's recorded ``photo.corners``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile

from app import selectors
from app.engines.tesseract import find_tessdata
from app.models import Job, JobStatus, Page
from app.pipeline import document
from app.pipeline.options import JobOptions
from tests.factories import UserFactory
from tests.pipeline.helpers import PANGRAMS, render_text_page

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import photos as sim  # noqa: E402  (bench/photos.py: the camera simulations)

pytestmark = pytest.mark.skipif(
    not (find_tessdata() and shutil.which("tesseract")), reason="needs Debian tesseract"
)


@pytest.mark.django_db
def test_a_photographed_pages_image_is_the_warped_page_its_boxes_refer_to(monkeypatch):
    from app.engines.tesseract import build

    monkeypatch.setattr(sim, "FRAME", (1200, 1600))
    page = render_text_page(PANGRAMS * 2, size=(1275, 1650), font_px=24, pitch=2.8)
    data = sim.jpeg(
        sim.camera(sim.perspective(page, np.random.default_rng(7)), np.random.default_rng(7))
    )
    engine = build({"OCR_TESSDATA_DIR": "", "OCR_TESSERACT_BACKEND": "auto"})
    try:
        (outcome,) = document.read_pages(
            data,
            "image/jpeg",
            engine=engine,
            options=JobOptions(),
            limits=document.Limits(),
            numbers=[1],
        )
    finally:
        engine.close()
    result = outcome.result
    assert result.photo["perspective"] and result.photo["corners"]
    job = Job.objects.create(
        owner=UserFactory(),
        content_type="image/jpeg",
        sha256="0" * 64,
        engine="tesseract",
        status=JobStatus.DONE,
        page_count=1,
    )
    job.file.save("photo.jpg", ContentFile(data))
    Page.objects.create(
        job=job,
        number=1,
        width=result.width,
        height=result.height,
        rotation=result.rotation,
        skew=result.skew,
        result=result.to_dict(),
    )

    shown = selectors.job_page_images(job=job)(1).convert("L")

    assert shown.size == (result.width, result.height)
    ink = np.asarray(shown) < 128
    words = [w for w in result.words() if len(w.text) >= 4][:20]
    assert len(words) == 20
    for word in words:  # every box covers ink on the image shown, not the table
        left, top, right, bottom = word.bbox
        assert ink[top:bottom, left:right].mean() > 0.05, word
    # The corners of the shown page are paper, not the table the photo was taken on.
    gray = np.asarray(shown)
    assert gray[:20, :20].mean() > 120 and gray[-20:, -20:].mean() > 120
