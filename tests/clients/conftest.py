"""Fixtures for the client library's tests: an API key, a client on the live server,
rendered pages written to files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from onlineocr_client import Client

from tests.imaging import Rendered, render_text


@pytest.fixture
def api_key(user) -> str:
    from app import services

    _, key = services.key_create(owner=user, name="client")
    return key


@pytest.fixture
def client(live_server, api_key) -> Iterator[Client]:
    with Client(live_server.url, api_key=api_key, timeout=30) as ocr:
        yield ocr


def write_page(folder: Path, name: str, lines: list[str] | None = None) -> tuple[Path, Rendered]:
    """Render ``lines`` into ``folder/name`` (PNG); return the path and the rendering."""
    rendered = render_text(lines)
    path = folder / name
    path.write_bytes(rendered.png())
    return path, rendered


class RequestLog:
    """An httpx event hook recording each request's method and path."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    def __call__(self, request) -> None:
        self.requests.append((request.method, request.url.path))

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p in self.requests if m == method and p == path)
