"""labkit.probe: the GPU check's child process. The version readers on files in the formats
ROCm and the NVIDIA driver write; the whole probe run for real with the host venv's
TensorFlow (CPU only here), its JSON read back by the gate's own parser."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from labkit.gate import parse_probe_stdout
from labkit.probe import read_nvidia_driver, read_rocm_version

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
# /proc/driver/nvidia/version as the 550 driver writes it (first line; the second names gcc).
NVIDIA_VERSION = (
    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.120  Fri Sep 13 10:10:01 UTC 2024\n"
    "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"
)


def test_rocm_version_is_read_from_the_images_info_file(tmp_path) -> None:
    (tmp_path / "opt/rocm/.info").mkdir(parents=True)
    (tmp_path / "opt/rocm/.info/version").write_text("6.4.1-120\n")

    assert read_rocm_version(tmp_path) == "6.4.1-120"
    assert read_rocm_version(tmp_path / "elsewhere") is None


def test_nvidia_driver_version_is_read_from_proc(tmp_path) -> None:
    (tmp_path / "proc/driver/nvidia").mkdir(parents=True)
    (tmp_path / "proc/driver/nvidia/version").write_text(NVIDIA_VERSION)

    assert read_nvidia_driver(tmp_path) == "550.120"
    assert read_nvidia_driver(tmp_path / "no-driver") is None


def run_probe(env_extra: dict[str, str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(SCRIPTS), "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "-m", "labkit.probe"], env={**env, **env_extra}, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return parse_probe_stdout(done.stdout)


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow in this venv")
def test_the_probe_computes_on_the_cpu_and_reports_no_gpu() -> None:
    data = run_probe({})

    assert data["tensorflow"] == "2.20.0"
    assert data["cpu_ok"] is True
    assert data["gpus"] == []
    assert data["error"] is None
    assert data["build"]["is_cuda_build"] in ("True", "False")


def test_a_tensorflow_that_cannot_be_imported_is_reported_not_raised(tmp_path) -> None:
    broken = tmp_path / "tensorflow"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('libcudart.so.12: cannot open shared object file')\n")

    data = run_probe({"PYTHONPATH": f"{tmp_path}{os.pathsep}{SCRIPTS}"})

    assert data["tensorflow"] is None
    assert data["error"].startswith("import tensorflow failed: ImportError('libcudart.so.12")
    assert json.dumps(data)  # one JSON object, as the gate expects
