"""The CPU lab's arm64 base (Apple silicon Macs, arm64 Linux): image/Dockerfile.arm64-base,
Docker's Python image with TensorFlow's aarch64 wheel, which the lab's Dockerfile takes as its
BASE_IMAGE on arm64 (the same lab recipe as on amd64).

Built for linux/arm64 on this amd64 machine under QEMU user emulation (tests/standins/qemu.py),
on a stand-in that already holds the wheel (tests/standins/build.py says why): the recipe's own
`pip install` and `import tensorflow` run in emulated arm64, then the test imports TensorFlow in
the image. A smoke test sized for CI. Not here: the lab layer on arm64 (the same recipe as on
amd64; under emulation it takes longer than CI allows; its lock was resolved on the amd64
base) and any speed: only arm64 hardware can show those.
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

ARM64_BASE = standins.tagged("courselab-test/lab-base:arm64")
ARM64 = "linux/arm64"


@pytest.fixture(scope="module")
def arm64_base(docker_engine):
    require(qemu.ensure(), "arm64 tier (QEMU user emulation)")
    standin = standins.ensure_arm64()
    build_image("image/Dockerfile.arm64-base", standin, ARM64_BASE, platform=ARM64, timeout=1800)
    try:
        yield ARM64_BASE
    finally:
        subprocess.run(["docker", "image", "rm", ARM64_BASE], capture_output=True, check=False)


def test_arm64_base_is_built_for_arm64(arm64_base):
    architecture = run(["docker", "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", arm64_base]).stdout
    assert architecture.strip() == ARM64


def test_tensorflow_imports_and_computes_on_arm64(arm64_base):
    script = (
        "import platform, tensorflow as tf; print(platform.machine(), tf.__version__, tf.reduce_sum([1, 2]).numpy())"
    )
    out = run(["docker", "run", "--rm", "--platform", ARM64, arm64_base, "python", "-c", script], timeout=900)
    assert out.stdout.strip().splitlines()[-1] == f"aarch64 {standins.TF_VERSION} 3"
