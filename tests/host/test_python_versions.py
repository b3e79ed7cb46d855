"""scripts/lab runs on the Python that students' systems ship: macOS' command-line tools still
ship 3.9, and older Linux releases 3.9 or 3.10. vermin (a static minimum-version checker) reads
every module scripts/lab imports; this test fails when one needs a newer Python. Running on a
real 3.9 interpreter needs one: none is installable from this machine's registries."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OLDEST = "3.9"


def vermin() -> str:
    found = shutil.which("vermin", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("vermin is missing: pip install -r requirements-dev.txt")
    return found


def test_scripts_lab_and_its_packages_need_no_newer_python_than_macos_ships():
    targets = [REPO / "scripts/lab", REPO / "scripts/labhost", REPO / "scripts/labkit"]
    done = subprocess.run(
        [vermin(), f"--target={OLDEST}-", "--violations", "--no-tips", "--eval-annotations", *map(str, targets)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"needs a Python newer than {OLDEST}:\n{done.stdout}{done.stderr}"


def test_scripts_lab_names_the_python_it_needs():
    source = (REPO / "scripts/lab").read_text()
    assert f"sys.version_info < ({OLDEST.replace('.', ', ')})" in source
    assert f"needs Python {OLDEST} or newer" in source
