"""Polling an asynchronous provider job until it finishes, with an overall deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from app.errors import OcrError

T = TypeVar("T")


def poll(
    fetch: Callable[[], T],
    finished: Callable[[T], bool],
    *,
    provider: str,
    timeout: float,
    interval: float = 1.0,
    max_interval: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``fetch()`` until ``finished(result)``; return that result.

    Waits ``interval`` seconds after the first unfinished answer, doubling up to
    ``max_interval``, never sleeping past the deadline. Raises
    ``OcrError("timeout")`` when ``timeout`` seconds pass without a finished
    answer. Errors raised by ``fetch``/``finished`` propagate unchanged.
    """
    deadline = clock() + timeout
    wait = max(interval, 0.0)
    while True:
        result = fetch()
        if finished(result):
            return result
        remaining = deadline - clock()
        if remaining <= 0:
            raise OcrError("timeout", f"{provider} did not finish the job within {timeout:g} s.")
        sleep(min(wait, remaining))
        wait = min(max(wait * 2, 0.01), max_interval)
