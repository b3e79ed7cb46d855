"""A student's first minutes, in a real browser: open the printed URL, see the work folder,
open the first notebook, run it, and see the device report. Saves a screenshot for the docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dockerlab import wait_for

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (requirements-dev.txt)")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
# Debian's Chromium, headless, as root, on a machine with no internet: the flags keep it
# from trying to reach Google's services at every start.
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


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("the browser tier needs Debian's chromium (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def kernel_connected_and_idle(stack) -> bool:
    status, kernels = stack.api("/api/kernels")
    return status == 200 and any(k["connections"] > 0 and k["execution_state"] == "idle" for k in kernels)


def printed_url(stack) -> str:
    match = re.search(r"http://127\.0\.0\.1:\d+/lab\?token=[A-Za-z0-9_\-]+", stack.logs())
    assert match, "the lab did not print a URL"
    return match.group(0)


def test_student_opens_the_url_and_runs_the_first_notebook(lab_stack, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(printed_url(lab_stack))
    # The file browser shows the work folder: the course folder is in it.
    listing = page.locator(".jp-DirListing-content")
    listing.get_by_text("course", exact=True).dblclick(timeout=60_000)
    listing.get_by_text("01-check-gpu.ipynb").dblclick(timeout=30_000)
    page.locator(".jp-Notebook").wait_for(timeout=60_000)
    # "Run All" before the page's kernel connection is up is silently dropped; the server
    # knows when the browser is connected and the kernel idle.
    wait_for(lambda: kernel_connected_and_idle(lab_stack), timeout=120, what="the notebook's kernel")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
    page.locator(".jp-OutputArea-output", has_text="DEVICE REPORT DONE").wait_for(timeout=240_000)
    outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
    text = "\n".join(outputs)
    assert "TensorFlow 2.20.0" in text
    assert "No GPU visible: TensorFlow runs on the CPU" in text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "first-notebook.png"), full_page=False)
    assert (ARTIFACTS / "first-notebook.png").stat().st_size > 10_000


def test_url_without_token_shows_the_login_page_not_the_lab(lab_stack, browser):
    page = browser.new_page()
    page.goto(f"{lab_stack.url}/lab")
    page.wait_for_load_state()
    assert "/login" in page.url
    assert page.locator(".jp-Notebook").count() == 0
