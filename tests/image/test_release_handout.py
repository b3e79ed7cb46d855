"""An instructor's release of the CPU image, end to end on the real engine: the manifest is
what the image itself reports, a second release gives the same lab layer, the export is
refused in one line when damaged, and a good one starts the lab with no build possible."""

from __future__ import annotations

import io
import json
import shutil
import uuid

import pytest
from dockerlab import Stack, make_workdir, run
from labhost import cli
from labhost.world import World
from registry import local_registry  # noqa: F401 - the fixture


def lab(argv: list[str], **world_fields) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    world = World(out=out, err=err, interactive=lambda a, cwd: run(list(a), cwd=cwd, check=False).returncode,
                  **world_fields)  # fmt: skip
    code = cli.main(argv, world)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def released(standin_images, cpu_lab_image, local_registry, tmp_path_factory):  # noqa: F811
    term = f"t{uuid.uuid4().hex[:8]}"
    folder = tmp_path_factory.mktemp("release")
    registry = f"{local_registry.host}/course"
    argv = ["release", "--term", term, "--flavour", "cpu", "--registry", registry, "--output", str(folder)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAB_BASE_IMAGE", standin_images["cpu"])
        code, out, err = lab(argv)
        assert code == 0, out + err
        first = json.loads((folder / term / "cpu.json").read_text())
        code, out2, err2 = lab(argv)
        assert code == 0, out2 + err2
        second = json.loads((folder / term / "cpu.json").read_text())
    yield {"term": term, "folder": folder, "first": first, "second": second, "out": out}
    for ref in (first["image"]["tag"], f"{registry}/lab:{term}-cpu", first["image"]["published"]):
        run(["docker", "image", "rm", ref], check=False)


def in_image(image: str, script: str) -> str:
    return run(["docker", "run", "--rm", "--entrypoint", "python", image, "-c", script]).stdout.strip().splitlines()[-1]


def test_manifest_is_what_the_image_reports(released):
    manifest = released["first"]
    image = manifest["image"]["tag"]
    assert manifest["image"]["id"] == run(["docker", "image", "inspect", "--format", "{{.Id}}", image]).stdout.strip()
    assert manifest["tensorflow"]["version"] == in_image(image, "import tensorflow as tf; print(tf.__version__)")
    build_info = json.loads(
        in_image(
            image,
            "import json, tensorflow as tf; "
            "print(json.dumps({k: str(v) for k, v in tf.sysconfig.get_build_info().items()}))",
        )
    )  # noqa: E501
    assert manifest["tensorflow"]["build_info"] == build_info
    frozen = run(["docker", "run", "--rm", "--entrypoint", "cat", image, "/opt/lab-venv/lab-packages.txt"]).stdout
    everything = dict(line.split("==", 1) for line in frozen.split())
    assert {k.lower().replace("_", "-"): v for k, v in manifest["lab_packages"].items()}.items() <= everything.items()
    assert manifest["lab_packages"]["jupyterlab"] == "4.6.6"
    assert manifest["jupyterhub"] == manifest["lab_packages"]["jupyterhub"] == "5.5.4"
    layers = json.loads(run(["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", image]).stdout)
    assert manifest["lab_layer"]["diff_id"] in layers
    assert manifest["check"]["exit_code"] == 0
    assert manifest["base"]["reference"].startswith("courselab-standin/")


def test_published_image_is_handed_out_by_digest(released):
    manifest = released["first"]
    assert "@sha256:" in manifest["image"]["published"]
    assert manifest["env_lines"] == [f"LAB_IMAGE={manifest['image']['published']}", "LAB_PULL_POLICY=missing"]
    assert f"LAB_IMAGE={manifest['image']['published']}" in released["out"]


def test_second_release_with_nothing_changed_has_the_same_lab_layer(released):
    assert released["second"]["lab_layer"] == released["first"]["lab_layer"]
    assert released["second"]["lab_packages"] == released["first"]["lab_packages"]


@pytest.fixture(scope="module")
def handout(released, tmp_path_factory):
    folder = tmp_path_factory.mktemp("handout")
    argv = ["export", "--term", released["term"], "--flavour", "cpu", "--releases", str(released["folder"])]
    code, out, err = lab([*argv, "--output", str(folder)])
    assert code == 0, out + err
    (manifest,) = folder.glob("*.json")
    return folder / json.loads(manifest.read_text())["handout"]["file"]


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
    return copy


@pytest.mark.parametrize(
    ("how", "says"),
    [
        pytest.param("truncated", "the copy is truncated or damaged", id="truncated"),
        pytest.param("corrupted", "does not match its SHA-256 checksum", id="corrupted"),
        pytest.param("wrong-checksum", "does not match its SHA-256 checksum", id="wrong-checksum"),
        pytest.param("disk-full", "not enough disk space for Docker", id="disk-too-small"),
    ],
)
def test_import_refuses_in_one_line_and_loads_nothing(released, handout, tmp_path, how, says):
    tag = released["first"]["image"]["tag"]
    run(["docker", "image", "rm", tag], check=False)
    archive = handout if how == "disk-full" else damaged_copy(handout, tmp_path, how)
    fields = {"disk_free": (lambda path: 10**6)} if how == "disk-full" else {}
    code, out, err = lab(["import", str(archive)], **fields)
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert says in err and "Nothing was loaded." in err
    assert run(["docker", "image", "inspect", tag], check=False).returncode != 0


def test_imported_image_starts_the_lab_with_no_build(released, handout, tmp_path_factory):
    manifest = released["first"]
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
