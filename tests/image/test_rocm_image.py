"""Dockerfile.rocm on the ROCm stand-ins: both GPU target lists come from the base's own
libraries (image/rocm_targets.py in the build: compiled for, and accepted at run time), the
build stops when a ROCm TensorFlow has no kernels, and the doctor and the gate use both lists.
The stand-ins carry real-format code objects (tests/standins/codeobjects.py) where AMD's wheels
keep them, and AMD's run-time list in a library compiled from XLA's declaration
(tests/standins/xla_lists.py): see tests/standins/Dockerfile.rocm."""

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
from labkit import gfx  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "standins"))
import xla_lists  # noqa: E402

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


def test_rocm_image_records_the_targets_its_tensorflow_accepts_at_run_time(rocm_lab_image) -> None:
    recorded = recorded_targets(rocm_lab_image)
    assert recorded["runtime_targets"] == xla_lists.R218_ROCM
    assert {"gfx900", "gfx906"} <= set(recorded["runtime_targets"])  # accepted, never compiled
    # One copy of the list: AMD's; tensorflow-cpu's own upstream copy is retired in the stand-in.
    assert recorded["runtime_source"].endswith("kSupportedGfxVersions in libxla_rocm_standin.so")
    assert recorded["runtime_problem"] is None
    assert recorded["tensorflow_id"].startswith("sha256:")


def test_rocm_image_label_points_at_the_recorded_list(rocm_lab_image) -> None:
    labels = docker.image_labels(docker.subprocess_runner, rocm_lab_image)
    assert labels is not None
    assert labels[rocm_bases.TARGETS_FILE_LABEL] == TARGETS_FILE
    assert "io.courselab.rocm.tf-targets" not in labels  # the typed-in list is gone


def test_gate_in_the_image_reads_the_recorded_lists(rocm_lab_image) -> None:
    script = "from labkit import gate; r = gate.image_record(); print(r.compiled); print(r.runtime)"
    out = run(["docker", "run", "--rm", "--user", "4242:4242", "--entrypoint", "python", rocm_lab_image, "-c", script])
    compiled, runtime = out.stdout.strip().splitlines()[-2:]
    assert compiled.split() == list(rocm_bases.PINNED_BASE.documented_targets)
    assert runtime.split() == xla_lists.R218_ROCM


def test_newer_base_compressed_bundles_are_read_and_have_strix_targets(standin_images, scratch_tag) -> None:
    build_targets_stage(standin_images["rocm-newer"], scratch_tag)
    recorded = recorded_targets(scratch_tag, "/rocm-tf-targets.json")
    assert {"gfx1150", "gfx1151"} <= set(recorded["targets"])
    library = recorded["libraries"]["libtensorflow_cc.so.2"]
    assert library["compressed"] == library["bundles"] > 0
    assert recorded["runtime_targets"] == xla_lists.TF220_ROCM_3181


def test_the_newer_base_advice_names_the_override_cards_from_its_built_images_lists(
    standin_images, rocm_lab_image, scratch_tag, tmp_path
) -> None:
    # The newer base's lists as its built image records them (only its targets stage: the lab
    # layer's lock is the pinned base's), under the label the doctor follows.
    build_targets_stage(standin_images["rocm-newer"], f"{scratch_tag}-stage")
    (tmp_path / "Dockerfile").write_text(
        f"FROM {scratch_tag}-stage\nLABEL {rocm_bases.TARGETS_FILE_LABEL}=/rocm-tf-targets.json\n"
    )
    try:
        run(["docker", "build", "-t", scratch_tag, str(tmp_path)])
        here = world.World(repo=REPO, run=docker.subprocess_runner)
        pinned = survey.image_targets(here, rocm_bases.PINNED_BASE.base_image, rocm_lab_image)
        newer = survey.image_targets(here, rocm_bases.NEWER_BASE.base_image, scratch_tag)
    finally:
        run(["docker", "image", "rm", "-f", f"{scratch_tag}-stage"], check=False)
    assert newer.runtime_source.startswith(f"read from image {scratch_tag}")
    found = rocm_bases.recommend_newer(
        [gfx.from_llvm_name("gfx1151")], pinned, rocm_bases.PINNED_BASE.base_image, newer
    )
    assert found is not None
    assert found.detail.endswith(
        "there these consumer cards need HSA_OVERRIDE_GFX_VERSION: "
        "10.3.0: gfx1031, gfx1032, gfx1033, gfx1034, gfx1035, gfx1036; 11.0.0: gfx1103"
    )


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
    assert supported.runtime_source.startswith(f"read from image {rocm_lab_image}")
    assert plan.make_plan(host("rx7600"), supported).decision.override is None  # gfx1102 on both of r2.18's lists


def test_a_list_the_gate_recorded_on_the_cache_volume_is_what_the_doctor_reads(rocm_lab_image, monkeypatch) -> None:
    # The gate in the image (as a student's uid, no network) records what TensorFlow printed
    # when it refused a card; the host finds it through compose's cache volume.
    project = f"courselabtest{uuid.uuid4().hex[:10]}"
    volume = f"{project}_cache"
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", project)
    refusal = (REPO / "tests/unit/fixtures/diagnose/tf220-gfx1102-ignored.log").read_text().splitlines()[-1]
    script = (
        "import os; from pathlib import Path; from labkit import gate; from labkit.diagnose import Facts; "
        "print(gate.learn_runtime_targets(gate.image_record(), "
        "Facts(probe={}, log=os.environ['REFUSAL'], flavour='rocm'), Path('/cache/lab')))"
    )
    run(["docker", "volume", "create", volume])
    try:
        # compose.yaml's cache volume is created by Docker owned by root, with the image's
        # /cache (world-writable) as its first content.
        out = run(["docker", "run", "--rm", "--network", "none", "--user", "4242:4242", "-v", f"{volume}:/cache",
                   "-e", f"REFUSAL={refusal}", "--entrypoint", "python", rocm_lab_image, "-c", script])  # fmt: skip
        assert out.stdout.strip().splitlines()[-1].startswith("/cache/lab/rocm-runtime-targets/")
        here = world.World(repo=REPO, run=docker.subprocess_runner)
        supported = survey.image_targets(here, rocm_bases.PINNED_BASE.base_image, rocm_lab_image)
    finally:
        run(["docker", "volume", "rm", "-f", volume], check=False)
    assert supported.runtime_source.startswith("printed by TensorFlow when it refused a card here")
    assert [t.llvm_name for t in supported.runtime] == xla_lists.TF220_UPSTREAM
    assert plan.make_plan(host("rx7600"), supported).decision.override == "11.0.0"
