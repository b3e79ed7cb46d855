"""The CPU lab on arm64 (Apple silicon Macs, arm64 Linux): image/Dockerfile.arm64-base (Docker's
Python image with TensorFlow's aarch64 wheel), then the lab's own Dockerfile on top of it with the
same recipe and the same lock as on amd64.

Built for linux/arm64 on this amd64 machine under QEMU user emulation (tests/standins/qemu.py),
on a stand-in that already holds the TensorFlow wheel (tests/standins/build.py says why). The
base recipe's own `pip install` and the whole lab layer (install-lab-layer.sh: every locked
package installed with --require-hashes and --only-binary, pip check, the base-package check) run
in emulated arm64: the build fails if the cpu lock lacks an arm64 file for any package or does
not fit the arm64 base's own packages. Then the lab's GPU check runs in the arm64 image and the
lab's packages import. Not here: training speed (3 steps of the course model took 445 s under
emulation) and a real Mac: only arm64 hardware can show those.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dockerlab import REPO, build_image, run, standins
from skips import require

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "standins"))
import qemu  # noqa: E402

ARM64_BASE = standins.tagged("courselab-test/lab-base:arm64")
ARM64_LAB = standins.tagged("courselab-test/lab:arm64")
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


@pytest.fixture(scope="module")
def arm64_lab(arm64_base):
    # The lab's Dockerfile as a student on a Mac builds it: LAB_BASE_IMAGE names the arm64 base,
    # the lock is the default (cpu), nothing else differs from amd64. About 6 minutes cold.
    build_image("Dockerfile", arm64_base, ARM64_LAB, platform=ARM64, timeout=2400)
    try:
        yield ARM64_LAB
    finally:
        subprocess.run(["docker", "image", "rm", ARM64_LAB], capture_output=True, check=False)


def read_file_in(image: str, path: str) -> str:
    return run(["docker", "run", "--rm", "--platform", ARM64, "--entrypoint", "cat", image, path]).stdout


# The lock's entries that apply to the image's own Python and platform (the lock is universal:
# markers select per platform and Python version), judged by `packaging` inside the image.
APPLICABLE = r"""
import sys
from packaging.markers import Marker
for line in sys.stdin.read().splitlines():
    if "==" not in line or line.startswith((" ", "#", "-")):
        continue
    pin, _, marker = line.rstrip(" \\").partition(";")
    if not marker.strip() or Marker(marker.strip()).evaluate():
        print(pin.strip())
"""


def test_lab_image_is_built_for_arm64_from_the_same_lock(arm64_lab):
    architecture = run(["docker", "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", arm64_lab]).stdout
    assert architecture.strip() == ARM64
    lock = (REPO / "image" / "locks" / "cpu.txt").read_text()
    applicable = run(
        ["docker", "run", "--rm", "-i", "--platform", ARM64, "--entrypoint", "python", arm64_lab, "-c", APPLICABLE],
        input=lock,
    ).stdout.split()
    installed = set(read_file_in(arm64_lab, "/opt/lab-venv/lab-packages.txt").split())
    base_names = {line.split("==")[0] for line in read_file_in(arm64_lab, "/opt/lab-venv/base-constraints.txt").split()}
    # Every locked package that applies to arm64 Linux is in the lab at its locked version,
    # except those the base already provides at its own (install-lab-layer.sh leaves them to it).
    assert len(applicable) > 100
    assert [pin for pin in applicable if pin not in installed and pin.split("==")[0] not in base_names] == []


def test_gpu_check_passes_on_arm64(arm64_lab):
    # The entrypoint's own command, as `docker compose run --rm lab check` runs it.
    out = run(["docker", "run", "--rm", "--platform", ARM64, "--user", "1000:1000", arm64_lab, "check"], timeout=900)
    assert f"TensorFlow {standins.TF_VERSION} (CPU build)" in out.stdout + out.stderr
    assert "GPUs: none visible to TensorFlow" in out.stdout + out.stderr


def test_lab_packages_import_on_arm64(arm64_lab):
    script = (
        "import platform, matplotlib, jupyterlab, tensorflow_datasets, labtrain; "
        "print(platform.machine(), 'jupyterlab', jupyterlab.__version__)"
    )
    out = run(
        ["docker", "run", "--rm", "--platform", ARM64, "--user", "1000:1000", "--entrypoint", "python", arm64_lab]
        + ["-c", script],
        timeout=900,
    )
    assert out.stdout.strip().splitlines()[-1].startswith("aarch64 jupyterlab 4.")
