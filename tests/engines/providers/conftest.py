"""Shared helpers for the provider tests: real page images and small-timeout configs."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import pytest
from PIL import Image, ImageDraw
from werkzeug import Request, Response

#: Fast settings: short timeouts, tiny backoff, two retries.
FAST: dict[str, Any] = {
    "OCR_PROVIDER_CONNECT_TIMEOUT": 2.0,
    "OCR_PROVIDER_READ_TIMEOUT": 2.0,
    "OCR_PROVIDER_RETRIES": 2,
    "OCR_PROVIDER_BACKOFF_FACTOR": 0.01,
    "OCR_PROVIDER_RETRY_AFTER_MAX": 2.0,
    "OCR_PROVIDER_POLL_TIMEOUT": 3.0,
    "OCR_PROVIDER_POLL_INTERVAL": 0.01,
}


def make_config(**values: Any) -> MappingProxyType:
    """A frozen engine config: :data:`FAST` plus ``values``."""
    return MappingProxyType({**FAST, **values})


def render_page(text: str = "HELLO WORLD", size: tuple[int, int] = (400, 120)) -> Image.Image:
    """A real RGB page image with ``text`` drawn in black on white."""
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).text((20, 40), text, fill="black")
    return image


@pytest.fixture
def page_image() -> Image.Image:
    return render_page()


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog capturing everything (urllib3 and requests debug lines included)."""
    with caplog.at_level(logging.DEBUG):
        yield caplog


class SlowAnswer:
    """A pytest-httpserver handler answering ``body`` (JSON) after ``delay`` seconds.

    Call :meth:`wait` at the end of a test so the single-threaded server has
    finished the late answer before the next test starts.
    """

    def __init__(self, body: Any, delay: float = 0.8) -> None:
        self.body = body
        self.delay = delay
        self.done = threading.Event()

    def __call__(self, request: Request) -> Response:
        time.sleep(self.delay)
        self.done.set()
        return Response(json.dumps(self.body), content_type="application/json")

    def wait(self) -> None:
        self.done.wait(self.delay + 2)
        time.sleep(0.05)
