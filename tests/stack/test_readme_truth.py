"""What the README promises, checked against the real lab: its sample output is what the lab
prints, and the printed URL works when LAB_BIND_ADDRESS is not 127.0.0.1.

The stack is published on 127.0.0.2: another loopback address (this machine's tests send
traffic to loopback only), so the container must print the address compose published, not
127.0.0.1, and the student's browser must get in with it.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest
from dockerlab import Stack, http_get, make_workdir
from readme_support import matches_in_order, sample_output

REPO = Path(__file__).resolve().parents[2]
ADDRESS = "127.0.0.2"


@pytest.fixture(scope="module")
def published_elsewhere(cpu_lab_image, tmp_path_factory):
    stack = Stack(make_workdir(tmp_path_factory), settings={"LAB_BIND_ADDRESS": ADDRESS})
    try:
        stack.up("lab")
        yield stack
    finally:
        stack.down()


def test_readme_sample_output_is_what_the_lab_prints(published_elsewhere):
    stack = published_elsewhere
    sample = [line.replace("127.0.0.1:8888", f"{ADDRESS}:{stack.port}") for line in sample_output(REPO / "README.md")]
    printed = stack.logs().splitlines()
    assert matches_in_order(sample, printed) == [], "\n".join(printed[:40])


def test_printed_url_names_the_published_address_and_opens_the_lab(published_elsewhere):
    stack = published_elsewhere
    urls = re.findall(r"http://[0-9.]+:\d+/lab\?token=[A-Za-z0-9_\-]+", stack.logs())
    assert urls, stack.logs()[-2000:]
    assert urls[0] == f"http://{ADDRESS}:{stack.port}/lab?token={stack.token}"
    status, body = http_get(urls[0])
    assert status == 200
    assert b"JupyterLab" in body
    # The URL the lab used to print, with 127.0.0.1, would not open: nothing listens there.
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{stack.port}/api", timeout=5)  # noqa: S310 - loopback


def test_sample_matcher_rejects_a_line_the_lab_never_prints():
    assert matches_in_order(["[lab] Everything is fine..."], ["[lab] Checking TensorFlow"]) == [
        "[lab] Everything is fine..."
    ]
