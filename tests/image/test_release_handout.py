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
import urllib.request
import uuid

import pytest
from dockerlab import Stack, make_workdir, run, standins
from labhost import imageref
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
    # The identity (configuration digest, diff IDs) is read from `docker save`; the diff IDs
    # are what the engine lists too, on every store (`.Id` is not: the containerd store's is
    # the manifest's or index's digest).
    layers = json.loads(run(["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", image]).stdout)
    assert manifest["image"]["diff_ids"] == layers
    assert manifest["image"]["config"].startswith("sha256:") and "id" not in manifest["image"]
    out = run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "python", image, "-c", SELF]).stdout
    itself = json.loads(out.strip().splitlines()[-1])
    assert manifest["tensorflow"]["version"] == itself["version"]
    assert manifest["tensorflow"]["build_info"] == itself["build_info"]
    everything = dict(line.split("==", 1) for line in itself["frozen"].split())
    assert {k.lower().replace("_", "-"): v for k, v in manifest["lab_packages"].items()}.items() <= everything.items()
    assert manifest["lab_packages"]["jupyterlab"] == "4.6.6"
    assert manifest["jupyterhub"] == manifest["lab_packages"]["jupyterhub"] == "5.5.4"
    assert manifest["lab_layer"]["diff_id"] in layers
    # The unpacked layer as docker save writes it (the installed files plus their tar headers):
    # tests/image/test_lab_layer_lock.py holds the installed size to 330 MB.
    assert 0 < manifest["lab_layer"]["size"] <= 360 * 10**6
    assert manifest["lab_layer"]["size"] < manifest["image"]["unpacked_size"]
    assert manifest["check"]["exit_code"] == 0
    assert manifest["base"]["reference"].startswith("courselab-standin/")


def registry_digest(registry: str, repository: str, tag: str) -> str:
    """What the registry itself says the tag's manifest digest is."""
    accept = ", ".join(
        [
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ]
    )
    request = urllib.request.Request(f"http://{registry}/v2/{repository}/manifests/{tag}", method="HEAD")
    request.add_header("Accept", accept)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"]


def test_published_image_is_handed_out_by_digest(released_cpu, local_registry):
    manifest = released_cpu["first"]
    name, digest = manifest["image"]["published"].split("@")
    assert name == f"{released_cpu['registry']}/lab"
    assert digest == registry_digest(local_registry.host, "course/lab", f"{released_cpu['term']}-cpu")
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
    plan = imageref.saved_plan(tag)
    assert not isinstance(plan, str), plan
    image_id = plan.identity.config
    term = f"t{uuid.uuid4().hex[:8]}"
    releases = folder / "releases"
    (releases / term).mkdir(parents=True)
    image = {"tag": tag, "config": image_id, "diff_ids": list(plan.identity.diff_ids)}
    manifest = {"term": term, "flavour": "cpu", "image": image}
    (releases / term / "cpu.json").write_text(json.dumps(manifest))
    code, out, err = lab(["export", "--term", term, "--releases", str(releases), "--output", str(folder / "out")])
    assert code == 0, out + err
    (handout_manifest,) = (folder / "out").glob("*.json")
    archive = folder / "out" / json.loads(handout_manifest.read_text())["handout"]["file"]
    yield {"archive": archive, "tag": tag, "id": image_id, "diff_ids": list(plan.identity.diff_ids)}
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
        data["image"]["config"] = "sha256:" + "1" * 64
        manifest.write_text(json.dumps(data))
    return copy


@pytest.mark.parametrize(
    ("how", "says"),
    [
        pytest.param("truncated", "the copy is truncated or damaged", id="truncated"),
        pytest.param("corrupted", "does not match its SHA-256 checksum", id="corrupted"),
        pytest.param("wrong-checksum", "does not match its SHA-256 checksum", id="wrong-checksum"),
        pytest.param("another-image", "not the released sha256:111111111111", id="manifest-names-another-image"),
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
    for ref in (small_handout["tag"], small_handout["id"]):
        assert run(["docker", "image", "inspect", ref], check=False).returncode != 0


def test_an_undamaged_small_handout_loads(small_handout):
    run(["docker", "image", "rm", small_handout["tag"]], check=False)
    code, out, err = lab(["import", str(small_handout["archive"])])
    assert code == 0, out + err
    inspect = ["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", small_handout["tag"]]
    assert json.loads(run(inspect).stdout) == small_handout["diff_ids"]


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
        started_from = run(["docker", "inspect", "--format", "{{.Image}}", container]).stdout.strip()
        layers = run(["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", started_from]).stdout
        assert json.loads(layers) == manifest["image"]["diff_ids"]
    finally:
        stack.down()
