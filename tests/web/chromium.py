"""Headless Chromium for the browser tests: Debian's ``chromium`` driven by Selenium.

Debian's ``chromium`` and ``chromium-driver`` (installed by ``make test``) are used;
no browser is ever downloaded. Screenshots go to ``screenshots/`` (git-ignored) for
a person to look at.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "screenshots"

#: Skips a module when Chromium or its driver is missing.
requires_chromium = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (make system-test installs them)",
)


def start_chromium(
    profile: Path, *, prefs: dict[str, Any] | None = None, console_log: bool = False
) -> Any:
    """A headless Chromium (1280 x 900 px window) with a fresh profile in ``profile``.

    Started with the flags the project requires (``--headless --no-sandbox
    --disable-gpu --disable-background-networking --disable-component-update``);
    ``prefs``: Chromium preferences (e.g. the download folder); ``console_log``:
    keep the browser console for ``driver.get_log("browser")``. Pages get 30 s to
    load. The caller quits the driver.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    if prefs:
        options.add_experimental_option("prefs", prefs)
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    SCREENSHOTS.mkdir(exist_ok=True)
    return driver


def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "") -> object:
    """Poll ``condition`` every 0.1 s until it returns something true; return that.

    Exceptions while polling (an element not there yet, a stale one) count as not
    yet. Raises ``AssertionError`` naming ``what`` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # element not there yet, stale, ...
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or condition}: {last}")
