"""The CPU lab on arm64 (Apple silicon Macs, arm64 Linux) from the same Dockerfile.

Built on this amd64 machine under QEMU user emulation (tests/standins/qemu.py), on an arm64
stand-in of Docker's official python:3.11-slim-bookworm (tests/standins/build.py), with
TensorFlow's own aarch64 wheel from PyPI, as `docker compose build` does on a Mac. A smoke test
sized for CI: the image builds, is arm64, imports TensorFlow and passes the lab's GPU check on
the CPU. Speed under emulation says nothing about a real Mac; only arm64 hardware can.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dockerlab import build_image, run, standins
from skips import require

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "standins"))
import qemu  # noqa: E402

ARM64_LAB_IMAGE = standins.tagged("courselab-test/lab:cpu-arm64")
ARM64 = "linux/arm64"


@pytest.fixture(scope="module")
def arm64_image(docker_engine):
    require(qemu.ensure(), "arm64 tier (QEMU user emulation)")
    base = standins.ensure_arm64()
    build_image("Dockerfile", standins.CPU_IMAGE, ARM64_LAB_IMAGE, platform=ARM64, args={"ARM64_BASE_IMAGE": base})
    try:
        yield ARM64_LAB_IMAGE
    finally:
        subprocess.run(["docker", "image", "rm", ARM64_LAB_IMAGE], capture_output=True, check=False)


def test_image_is_built_for_arm64(arm64_image):
    architecture = run(["docker", "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", arm64_image]).stdout
    assert architecture.strip() == ARM64


def test_tensorflow_imports_natively_on_arm64(arm64_image):
    script = (
        "import platform, tensorflow as tf; print(platform.machine(), tf.__version__, tf.reduce_sum([1, 2]).numpy())"
    )
    out = run(["docker", "run", "--rm", "--platform", ARM64, "--entrypoint", "python", arm64_image, "-c", script])
    assert out.stdout.strip().splitlines()[-1] == f"aarch64 {standins.TF_VERSION} 3"


def test_lab_gpu_check_passes_on_the_arm64_cpu(arm64_image):
    done = run(
        ["docker", "run", "--rm", "--platform", ARM64, "-e", "LAB_GATE_TIMEOUT=900", arm64_image, "check"],
        check=False,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"TensorFlow {standins.TF_VERSION} (CPU build)" in done.stdout
    assert "TensorFlow runs on the CPU" in done.stdout
