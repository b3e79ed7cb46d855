"""Dockerfile.rocm on the ROCm stand-ins: the GPU targets come from the base's own libraries
(image/rocm_targets.py in the build), the build stops when a ROCm TensorFlow has none, and
the doctor and the gate use that list. The stand-ins carry real-format code objects
(tests/standins/codeobjects.py) where AMD's wheels keep them: see tests/standins/Dockerfile.rocm."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest
from dockerlab import REPO, run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))
from fakehost import host  # noqa: E402
from labhost import docker, plan, rocm_bases, survey, world  # noqa: E402

TARGETS_FILE = rocm_bases.TARGETS_FILE


def recorded_targets(image: str, path: str = TARGETS_FILE) -> dict:
    out = run(["docker", "run", "--rm", "--entrypoint", "cat", image, path])
    return json.loads(out.stdout)


def build_targets_stage(base: str, tag: str, *, check: bool = True):
    """Only the `gpu-targets` stage of Dockerfile.rocm: the scan, without the lab layer."""
    command = ["docker", "build", "--target", "gpu-targets", "-f", str(REPO / "Dockerfile.rocm")]
    return run([*command, "--build-arg", f"BASE_IMAGE={base}", "-t", tag, str(REPO)], check=check)


@pytest.fixture
def scratch_tag():
    tag = f"courselab-test/scratch:{uuid.uuid4().hex[:12]}"
    yield tag
    run(["docker", "image", "rm", "-f", tag], check=False)


def test_rocm_image_records_the_targets_its_tensorflow_libraries_were_compiled_for(rocm_lab_image) -> None:
    recorded = recorded_targets(rocm_lab_image)
    assert recorded["targets"] == list(rocm_bases.PINNED_BASE.documented_targets)
    assert "gfx1102" in recorded["targets"]  # r2.18 gained it late (PR #2836); typed-in lists missed it
    assert "gfx900" not in recorded["targets"]  # printed by r2.18, never compiled
    assert recorded["rocm_build"] is True
    assert recorded["libraries"]["libtensorflow_cc.so.2"]["bundles"] > 0


def test_rocm_image_label_points_at_the_recorded_list(rocm_lab_image) -> None:
    labels = docker.image_labels(docker.subprocess_runner, rocm_lab_image)
    assert labels is not None
    assert labels[rocm_bases.TARGETS_FILE_LABEL] == TARGETS_FILE
    assert "io.courselab.rocm.tf-targets" not in labels  # the typed-in list is gone


def test_gate_in_the_image_reads_the_recorded_list(rocm_lab_image) -> None:
    script = "from labkit import gate; print(gate.compiled_targets())"
    out = run(["docker", "run", "--rm", "--user", "4242:4242", "--entrypoint", "python", rocm_lab_image, "-c", script])
    assert out.stdout.split() == list(rocm_bases.PINNED_BASE.documented_targets)


def test_newer_base_compressed_bundles_are_read_and_have_strix_targets(standin_images, scratch_tag) -> None:
    build_targets_stage(standin_images["rocm-newer"], scratch_tag)
    recorded = recorded_targets(scratch_tag, "/rocm-tf-targets.json")
    assert {"gfx1150", "gfx1151"} <= set(recorded["targets"])
    library = recorded["libraries"]["libtensorflow_framework.so.2"]
    assert library["compressed"] == library["bundles"] > 0


def test_build_stops_when_a_rocm_tensorflow_has_no_gpu_code(standin_images, scratch_tag, tmp_path) -> None:
    # A base whose TensorFlow says it is a ROCm build but carries no code objects.
    (tmp_path / "Dockerfile").write_text(
        f"FROM {standin_images['cpu']}\n"
        "RUN info=$(python3 -c 'import tensorflow.python.platform.build_info as b; print(b.__file__)') "
        "&& sed -i \"s/('is_rocm_build', False)/('is_rocm_build', True)/\" \"$info\"\n"
    )
    base = f"{scratch_tag}-base"
    try:
        run(["docker", "build", "-t", base, str(tmp_path)])
        result = build_targets_stage(base, scratch_tag, check=False)
    finally:
        run(["docker", "image", "rm", "-f", base], check=False)
    assert result.returncode != 0
    assert "is a ROCm build, but no GPU target has kernels" in result.stdout + result.stderr


def test_rocm_standin_has_amds_layout_and_tensorflow_2_18_pins(standin_images) -> None:
    script = (
        "import json, os, importlib.metadata as m, tensorflow as tf; "
        "print(json.dumps({'rocm': os.path.realpath('/opt/rocm'), 'path': os.environ['ROCM_PATH'], "
        "'version': open('/opt/rocm/.info/version').read().strip(), 'tf': tf.__version__, "
        "'rocm_build': tf.sysconfig.get_build_info()['is_rocm_build'], 'numpy': m.version('numpy')}))"
    )
    out = run(["docker", "run", "--rm", standin_images["rocm"], "python3", "-c", script])
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    assert facts["rocm"] == facts["path"] == "/opt/rocm-6.4.1"
    assert facts["version"].startswith("6.4.1")
    assert facts["tf"] == "2.18.1"
    assert facts["rocm_build"] is True
    assert facts["numpy"].startswith(("1.26.", "2.0."))  # TensorFlow 2.18's pin: numpy<2.1


def test_doctor_reads_the_built_image_and_gives_an_rx7600_no_override(rocm_lab_image) -> None:
    here = world.World(repo=REPO, run=docker.subprocess_runner)
    supported = survey.image_targets(here, rocm_bases.PINNED_BASE.base_image, rocm_lab_image)
    assert supported.source.startswith(f"read from image {rocm_lab_image}")
    assert plan.make_plan(host("rx7600"), supported).decision.override is None
