"""Fixtures for the browser-page tests: finished jobs with real page images."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from app.models import Job, JobStatus, Page
from tests.factories import PASSWORD, UserFactory
from tests.imaging import render_text


def _page_result(number: int, lines: list[str]) -> tuple[dict[str, Any], int, int, str]:
    """A schema Page dict for ``lines`` drawn by :func:`render_text` (boxes as drawn)."""
    rendered = render_text(lines)
    words = []
    for i, (text, box) in enumerate(rendered.word_boxes):
        words.append({"bbox": list(box), "text": text, "confidence": [96.0, 72.0, 41.0][i % 3]})
    line_dicts, start = [], 0
    for line in lines:
        count = len(line.split(" "))
        chunk = words[start : start + count]
        start += count
        line_dicts.append(
            {
                "bbox": [
                    min(w["bbox"][0] for w in chunk),
                    min(w["bbox"][1] for w in chunk),
                    max(w["bbox"][2] for w in chunk),
                    max(w["bbox"][3] for w in chunk),
                ],
                "text": line,
                "confidence": 80.0,
                "words": chunk,
            }
        )
    width, height = rendered.image.size
    result = {
        "number": number,
        "width": width,
        "height": height,
        "dpi": 300,
        "rotation": 0,
        "skew": 0.0,
        "text": "\n".join(lines),
        "confidence": 80.0,
        "blocks": [{"bbox": [0, 0, width, height], "confidence": 80.0, "lines": line_dicts}],
    }
    return result, width, height, rendered.png()


@pytest.fixture
def make_job(db) -> Callable[..., Job]:
    """Build a job as a worker leaves it: stored upload, page rows, text, status."""

    def build(
        owner: Any,
        *,
        filename: str = "letter.png",
        pages: list[list[str]] | None = None,
        status: str = JobStatus.DONE,
        error_code: str = "",
        error_message: str = "",
    ) -> Job:
        pages = pages if pages is not None else [["Quarterly invoice total", "paid in full"]]
        first_png = b""
        results = []
        for number, lines in enumerate(pages, start=1):
            result, width, height, png = _page_result(number, lines)
            first_png = first_png or png
            results.append((result, width, height))
        job = Job(
            owner=owner,
            filename=filename,
            content_type="image/png",
            size=len(first_png),
            sha256=hashlib.sha256(first_png).hexdigest(),
            engine="tesseract",
            languages="eng",
            status=status,
            page_count=len(pages),
            pages_done=len(pages) if status == JobStatus.DONE else 0,
            text="\f".join(r[0]["text"] for r in results) if status == JobStatus.DONE else "",
            result={"engine": "tesseract", "engine_version": "5", "languages": ["eng"]}
            if status == JobStatus.DONE
            else None,
            error_code=error_code,
            error_message=error_message,
            duration=1.25 if status in (JobStatus.DONE, JobStatus.FAILED) else None,
        )
        job.file.save(str(job.id), ContentFile(first_png), save=False)
        job.save()
        if status == JobStatus.DONE:
            for result, width, height in results:
                Page.objects.create(
                    job=job,
                    number=result["number"],
                    width=width,
                    height=height,
                    dpi=300,
                    confidence=80.0,
                    text=result["text"],
                    result=result,
                    duration=0.5,
                )
        return job

    return build


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    """A Django test client signed in (session) as the given user."""

    def build(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return build


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


__all__ = ["PASSWORD"]
