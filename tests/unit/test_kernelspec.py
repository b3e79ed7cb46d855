"""image/ipython/kernelspec.py: the lab venv's kernel spec starts kernels from the lab's
launcher, and keeps everything else ipykernel's own spec says (fixtures/ipykernel: the
kernel.json of ipykernel 7.4.0's wheel, the version the image's lock installs)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "ipykernel" / "kernel-7.4.0.json"
SCRIPT = Path(__file__).resolve().parents[2] / "image" / "ipython" / "kernelspec.py"
# image/ipython holds files the Dockerfiles copy, not a package: load the script by its path.
_spec = importlib.util.spec_from_file_location("kernelspec", SCRIPT)
kernelspec = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kernelspec)


@pytest.fixture
def spec_folder(tmp_path) -> Path:
    shutil.copy(FIXTURE, tmp_path / "kernel.json")
    (tmp_path / "launch.py").write_text("")
    return tmp_path


def test_the_kernel_starts_from_the_launcher_and_keeps_ipykernels_metadata(spec_folder):
    before = json.loads(FIXTURE.read_text())
    kernelspec.main(spec_folder)
    after = json.loads((spec_folder / "kernel.json").read_text())
    assert after["argv"] == ["python", "{resource_dir}/launch.py", "-f", "{connection_file}"]
    assert {k: v for k, v in after.items() if k != "argv"} == {k: v for k, v in before.items() if k != "argv"}
    kernelspec.main(spec_folder)  # a second run changes nothing
    assert json.loads((spec_folder / "kernel.json").read_text()) == after


def test_a_spec_that_does_not_start_ipykernels_launcher_fails_the_build(spec_folder):
    spec = json.loads(FIXTURE.read_text())
    spec["argv"] = ["python", "-m", "some_other_kernel", "-f", "{connection_file}"]
    (spec_folder / "kernel.json").write_text(json.dumps(spec))
    with pytest.raises(SystemExit, match="unexpected kernel command"):
        kernelspec.main(spec_folder)


def test_the_launcher_must_be_there(spec_folder):
    (spec_folder / "launch.py").unlink()
    with pytest.raises(SystemExit, match="launch.py is missing"):
        kernelspec.main(spec_folder)
