"""An instructor's release of the CPU image, end to end on the real engine: the manifest is
what the image itself reports, a second release gives the same lab layer, the export is
refused in one line when damaged, and a good one starts the lab with no build possible."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import uuid

import pytest
from dockerlab import Stack, make_workdir, run, standins
from releases import lab

tagged = standins.tagged


SELF = (
    "import json, tensorflow as tf; "
    "print(json.dumps({'version': tf.__version__, "
    "'build_info': {k: str(v) for k, v in tf.sysconfig.get_build_info().items()}, "
    "'frozen': open('/opt/lab-venv/lab-packages.txt').read()}))"
)


def test_manifest_is_what_the_image_reports(released_cpu):
    manifest = released_cpu["first"]
    image = manifest["image"]["tag"]
    assert manifest["image"]["id"] == run(["docker", "image", "inspect", "--format", "{{.Id}}", image]).stdout.strip()
    out = run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "python", image, "-c", SELF]).stdout
    itself = json.loads(out.strip().splitlines()[-1])
    assert manifest["tensorflow"]["version"] == itself["version"]
    assert manifest["tensorflow"]["build_info"] == itself["build_info"]
    everything = dict(line.split("==", 1) for line in itself["frozen"].split())
    assert {k.lower().replace("_", "-"): v for k, v in manifest["lab_packages"].items()}.items() <= everything.items()
    assert manifest["lab_packages"]["jupyterlab"] == "4.6.6"
    assert manifest["jupyterhub"] == manifest["lab_packages"]["jupyterhub"] == "5.5.4"
    layers = json.loads(run(["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", image]).stdout)
    assert manifest["lab_layer"]["diff_id"] in layers
    # The limit of tests/image/test_lab_layer_lock.py: 300 MB was the goal, hub mode costs 35 MB
    # of it (docs/instructors.md says what is in the layer and why).
    assert 0 < manifest["lab_layer"]["size"] <= 330 * 10**6
    assert manifest["check"]["exit_code"] == 0
    assert manifest["base"]["reference"].startswith("courselab-standin/")


def test_published_image_is_handed_out_by_digest(released_cpu):
    manifest = released_cpu["first"]
    assert "@sha256:" in manifest["image"]["published"]
    assert manifest["env_lines"] == [f"LAB_IMAGE={manifest['image']['published']}", "LAB_PULL_POLICY=missing"]
    assert f"LAB_IMAGE={manifest['image']['published']}" in released_cpu["out"]


def test_second_release_with_nothing_changed_has_the_same_lab_layer(released_cpu):
    assert released_cpu["second"]["lab_layer"] == released_cpu["first"]["lab_layer"]
    assert released_cpu["second"]["lab_packages"] == released_cpu["first"]["lab_packages"]


@pytest.fixture(scope="module")
def handout(released_cpu, tmp_path_factory):
    """The full-size hand-out, exported once for the module. zstd -1: the fastest level, since
    the tests prove the format, not the ratio (benchmarks/handout_sizes.py measures those)."""
    folder = tmp_path_factory.mktemp("handout")
    argv = ["export", "--term", released_cpu["term"], "--flavour", "cpu", "--releases", str(released_cpu["folder"])]
    code, out, err = lab([*argv, "--output", str(folder), "--compression", "zstd", "--level", "1"])
    assert code == 0, out + err
    (manifest,) = folder.glob("*.json")
    return folder / json.loads(manifest.read_text())["handout"]["file"]


@pytest.fixture(scope="module")
def small_handout(docker_engine, tmp_path_factory):
    """A hand-out of a tiny image (one small layer, made with `docker import`), exported by the
    real command: the damaged-copy refusals do not depend on the image's size, and copying and
    checksumming a 700 MB file four times would only cost minutes."""
    folder = tmp_path_factory.mktemp("small")
    rootfs = io.BytesIO()
    with tarfile.open(fileobj=rootfs, mode="w") as tar:
        data = os.urandom(64 * 1024)  # incompressible, so a flipped byte lands in real data
        info = tarfile.TarInfo("payload.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    tag = tagged(f"courselab-test/tiny:{uuid.uuid4().hex[:8]}")
    subprocess.run(["docker", "import", "-", tag], input=rootfs.getvalue(), capture_output=True, check=True)
    image_id = run(["docker", "image", "inspect", "--format", "{{.Id}}", tag]).stdout.strip()
    term = f"t{uuid.uuid4().hex[:8]}"
    releases = folder / "releases"
    (releases / term).mkdir(parents=True)
    manifest = {"term": term, "flavour": "cpu", "image": {"tag": tag, "id": image_id}, "env_lines": []}
    (releases / term / "cpu.json").write_text(json.dumps(manifest))
    code, out, err = lab(["export", "--term", term, "--releases", str(releases), "--output", str(folder / "out")])
    assert code == 0, out + err
    (handout_manifest,) = (folder / "out").glob("*.json")
    archive = folder / "out" / json.loads(handout_manifest.read_text())["handout"]["file"]
    yield {"archive": archive, "tag": tag, "id": image_id}
    run(["docker", "image", "rm", "--force", tag], check=False)


def damaged_copy(archive, tmp_path, how: str):
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    for path in archive.parent.iterdir():
        if path.name.startswith(archive.name.split(".tar")[0]):
            shutil.copy(path, copy_dir / path.name)
    copy = copy_dir / archive.name
    if how == "truncated":
        with copy.open("r+b") as stream:
            stream.truncate(copy.stat().st_size // 2)
    elif how == "corrupted":
        with copy.open("r+b") as stream:
            stream.seek(copy.stat().st_size // 2)
            byte = stream.read(1)
            stream.seek(-1, 1)
            stream.write(bytes([byte[0] ^ 0xFF]))
    elif how == "wrong-checksum":
        checksum = copy.with_name(copy.name + ".sha256")
        checksum.write_text("0" * 64 + f"  {copy.name}\n")
    elif how == "another-image":
        manifest = next(copy_dir.glob("*.json"))
        data = json.loads(manifest.read_text())
        data["image"]["id"] = "sha256:" + "1" * 64
        manifest.write_text(json.dumps(data))
    return copy


@pytest.mark.parametrize(
    ("how", "says"),
    [
        pytest.param("truncated", "the copy is truncated or damaged", id="truncated"),
        pytest.param("corrupted", "does not match its SHA-256 checksum", id="corrupted"),
        pytest.param("wrong-checksum", "does not match its SHA-256 checksum", id="wrong-checksum"),
        pytest.param("another-image", "not the manifest's sha256:1111", id="manifest-names-another-image"),
        pytest.param("disk-full", "not enough disk space for Docker", id="disk-too-small"),
    ],
)
def test_import_refuses_in_one_line_and_loads_nothing(small_handout, tmp_path, how, says):
    run(["docker", "image", "rm", small_handout["tag"]], check=False)
    archive = damaged_copy(small_handout["archive"], tmp_path, how)
    fields = {"disk_free": (lambda path: 0)} if how == "disk-full" else {}
    code, out, err = lab(["import", str(archive)], **fields)
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert says in err and "Nothing was loaded." in err
    assert run(["docker", "image", "inspect", small_handout["id"]], check=False).returncode != 0


def test_an_undamaged_small_handout_loads(small_handout):
    run(["docker", "image", "rm", small_handout["tag"]], check=False)
    code, out, err = lab(["import", str(small_handout["archive"])])
    assert code == 0, out + err
    assert (
        run(["docker", "image", "inspect", "--format", "{{.Id}}", small_handout["tag"]]).stdout.strip()
        == (small_handout["id"])
    )


def test_handout_manifest_gives_the_compressed_size_of_the_lab_layer(released_cpu, handout):
    manifest = json.loads(next(handout.parent.glob("*.json")).read_text())["handout"]
    layers = {layer["diff_id"]: layer for layer in manifest["layers"]}
    lab_layer = layers[released_cpu["first"]["lab_layer"]["diff_id"]]
    assert manifest["lab_layer"] == {"size": lab_layer["size"], "compressed_size": lab_layer["compressed_size"]}
    assert 0 < lab_layer["compressed_size"] < lab_layer["size"]
    assert sum(layer["compressed_size"] for layer in manifest["layers"]) <= manifest["compressed_size"]
    assert manifest["compressed_size"] == handout.stat().st_size


def test_imported_image_starts_the_lab_with_no_build(released_cpu, handout, tmp_path_factory):
    manifest = released_cpu["first"]
    tag = manifest["image"]["tag"]
    run(["docker", "image", "rm", tag], check=False)
    code, out, err = lab(["import", str(handout)])
    assert code == 0, out + err
    assert "LAB_IMAGE=" + tag in out and "LAB_PULL_POLICY=never" in out
    # A base that cannot exist anywhere: any build (or pull) would fail, so only the imported
    # image can start.
    settings = {"LAB_IMAGE": tag, "LAB_PULL_POLICY": "never", "LAB_BASE_IMAGE": "courselab.invalid/no-such-base:0"}
    stack = Stack(make_workdir(tmp_path_factory), settings=settings)
    try:
        stack.up("lab")
        container = stack.compose("ps", "-q", "lab").stdout.strip()
        assert run(["docker", "inspect", "--format", "{{.Image}}", container]).stdout.strip() == manifest["image"]["id"]
    finally:
        stack.down()
