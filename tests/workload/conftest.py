"""Fixtures for the workload tier: a tiny TFDS dataset built locally, and a course folder
laid out the way the container's entrypoint expects it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from workload_support import MISSING, script_env


@pytest.fixture(scope="session")
def tiny_tfds(tmp_path_factory) -> Path:
    """A TFDS data folder holding courselab_tiny, written by TFDS itself (no network)."""
    if MISSING:
        pytest.skip(f"needs {', '.join(MISSING)}")
    data_dir = tmp_path_factory.mktemp("tfds")
    builder = Path(__file__).with_name("workload_support.py")
    done = subprocess.run(
        [sys.executable, str(builder), str(data_dir)],
        env=script_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return data_dir


@pytest.fixture(scope="session")
def empty_tfds(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tfds-empty")
