"""Debian's Chromium, headless, through Playwright: how the browser tier opens a page.

Shared by the student's journey (tests/browser/test_journey.py) and the class hub's attack
tests (tests/browser/test_hub_security.py)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def launched():
    """A running Chromium; fails (never skips) without Debian's package."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (requirements-dev.txt)")
    if not CHROMIUM.exists():
        pytest.fail("the browser tier needs Debian's chromium (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
