"""Hand-outs on the engine DOCKER_HOST names (the primary Engine 20.10 here; the Engine 26 tier
runs this file again against the default and the containerd image store): a hand-out made from
each engine world's real `docker save` archive (tests/host/fixtures/docker/save/) imports, the
red team's crafted archives (checksum files regenerated) are refused before anything is loaded,
an export made on this engine imports back, a post-load mismatch removes what was loaded, and a
local image gets no registry pin. Small images throughout (tests/tinyimage.py): what is proven
is the format, not the size; tests/image/test_release_handout.py does the full CPU image.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import uuid

import craft
import pytest
import tinyimage
from dockerlab import run, standins
from labhost import archivescan, dockerload, handoutmanifest, imageref
from labhost import docker as host_docker
from labhost.commands import handout, release
from releases import lab

WORLDS = list(tinyimage.ENGINES)


@pytest.fixture(scope="module")
def engine(docker_engine):
    """What this engine is, printed so the test summary says which world ran."""
    version = run(["docker", "version", "--format", "{{.Server.Version}}"]).stdout.strip()
    containerd = imageref.containerd_store(host_docker.subprocess_runner)
    print(f"\n[handout worlds] Engine {version}, {'containerd' if containerd else 'default'} image store")
    return {"version": version, "containerd": containerd}


def class_tag() -> str:
    return standins.tagged(f"courselab.invalid/lab:t{uuid.uuid4().hex[:8]}-cpu")


def gone(*refs: str) -> bool:
    return all(run(["docker", "image", "inspect", ref], check=False).returncode != 0 for ref in refs)


def release_manifest(plan: dockerload.Plan, tag: str) -> dict:
    """What `release` writes about an image, for the parts export and import read."""
    lab_layer = dockerload.layer_made_by(plan, tinyimage.MARKER)
    return {
        "schema": 2,
        "term": tag.rsplit(":", 1)[1][: -len("-cpu")],
        "flavour": "cpu",
        "image": {"tag": tag, "config": plan.identity.config, "diff_ids": list(plan.identity.diff_ids),
                  "unpacked_size": plan.unpacked, "published": None},
        "lab_layer": {"diff_id": lab_layer.diff_id, "size": lab_layer.unpacked} if lab_layer else None,
    }  # fmt: skip


def make_handout(archive: bytes, folder, tag: str):
    """A hand-out of `archive` (a `docker save` stream), written by export's own code."""
    plan = dockerload.plan(archivescan.scan_stream(io.BytesIO(archive).read), tag)
    manifest = release_manifest(plan, tag)
    image = handoutmanifest.released(manifest)
    path = folder / f"courselab-{manifest['term']}-cpu.tar.gz"
    problem, _ = handout.write_handout(io.BytesIO(archive).read, path, manifest, image, compression="gzip", level=1)
    assert problem is None, problem
    return path


def tampered(path, archive: bytes) -> None:
    """Put `archive` in the hand-out and regenerate its checksum and the manifest's file
    figures, as someone who changes a hand-out would."""
    path.write_bytes(gzip.compress(archive, 1))
    checksum, manifest_file = handout.sidecars(path)
    checksum.write_text(f"{handout.sha256_file(path)}  {path.name}\n")
    manifest = json.loads(manifest_file.read_text())
    manifest["handout"].update(compressed_size=path.stat().st_size, sha256=handout.sha256_file(path),
                               tar_size=len(archive))  # fmt: skip
    manifest_file.write_text(json.dumps(manifest))


@pytest.mark.parametrize("world", WORLDS)
def test_a_handout_from_each_engine_world_imports_here(engine, world, tmp_path):
    """A hand-out of the default store imported on the containerd store failed before
    ("docker load failed: Loaded image: ...", exit 1); every world must load everywhere."""
    tag = class_tag()
    archive = craft.retagged((tinyimage.SAVED / f"{world}.tar").read_bytes(), tag)
    path = make_handout(archive, tmp_path, tag)
    try:
        code, out, err = lab(["import", str(path)])
        assert code == 0, out + err
        assert f"LAB_IMAGE={tag}" in out and "LAB_PULL_POLICY=never" in out
        manifest = json.loads(handout.sidecars(path)[1].read_text())
        layers = json.loads(run(["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", tag]).stdout)
        assert layers == manifest["image"]["diff_ids"]
        # Imported again over itself: the same image, loaded and verified again.
        code, out, err = lab(["import", str(path)])
        assert code == 0, out + err
    finally:
        run(["docker", "image", "rm", "--force", tag], check=False)


CRAFTED = {
    "config-names-another-image": craft.config_names_another_image,
    "second-entry-tags-another-image": lambda archive: craft.second_entry(archive, standins.tagged(craft.OTHER_IMAGE)),
    "index-names-another-image": craft.index_names_another_image,
    "layer-swapped": craft.layer_swapped,
}


# Every crafted archive from every world (the legacy layout has no index.json to craft).
CASES = [(world, how) for world in WORLDS for how in CRAFTED if not (how.startswith("index") and "20" in world)]


@pytest.mark.parametrize(("world", "how"), CASES, ids=[f"{world}-{how}" for world, how in CASES])
def test_a_crafted_handout_is_refused_before_anything_is_loaded(engine, world, how, tmp_path):
    tag = class_tag()
    genuine = craft.retagged((tinyimage.SAVED / f"{world}.tar").read_bytes(), tag)
    path = make_handout(genuine, tmp_path, tag)
    crafted = CRAFTED[how](genuine)
    tampered(path, crafted)
    other_config = craft.other_config(genuine)[1]
    other = "sha256:" + hashlib.sha256(other_config).hexdigest()
    code, out, err = lab(["import", str(path)])
    assert code == 1, out + err
    assert len(err.strip().splitlines()) == 1, err
    assert "Nothing was loaded." in err
    assert gone(tag, standins.tagged(craft.OTHER_IMAGE))
    if not engine["containerd"]:  # the default store finds an image by its configuration digest
        assert gone(other)


def test_an_export_made_here_imports_back_and_a_changed_image_is_not_exported(engine, tmp_path):
    tag = class_tag()
    tinyimage.build(tag)
    try:
        plan = imageref.saved_plan(tag)
        assert not isinstance(plan, str), plan
        manifest = release_manifest(plan, tag)
        term = manifest["term"]
        (tmp_path / "releases" / term).mkdir(parents=True)
        (tmp_path / "releases" / term / "cpu.json").write_text(json.dumps(manifest))
        argv = ["export", "--term", term, "--releases", str(tmp_path / "releases"), "--output", str(tmp_path / "out")]
        code, out, err = lab([*argv, "--compression", "zstd", "--level", "1"])
        assert code == 0, out + err
        (path,) = (tmp_path / "out").glob("*.tar.zst")
        written = json.loads(handout.sidecars(path)[1].read_text())["handout"]
        assert written["unpacked_size"] == plan.unpacked == sum(layer["size"] for layer in written["layers"])
        assert written["lab_layer"] == {
            "size": plan.layers[1].unpacked,
            "compressed_size": written["layers"][1]["compressed_size"],
        }
        run(["docker", "image", "rm", tag])
        code, out, err = lab(["import", str(path)])
        assert code == 0, out + err
        # The same tag made again from other content is not the released image any more.
        run(["docker", "image", "rm", tag])
        tinyimage.build(tag, note="changed")
        code, out, err = lab([*argv, "--output", str(tmp_path / "again")])
        assert code == 1 and "is not the released image" in err and len(err.strip().splitlines()) == 1, err
        assert not list((tmp_path / "again").glob("*"))
    finally:
        run(["docker", "image", "rm", "--force", tag], check=False)


def test_a_mismatch_after_the_load_removes_what_was_loaded(engine, tmp_path, monkeypatch):
    """As if the checks before the load had been fooled: the image under the class tag is read
    again after the load (its identity, the same way on both stores), found to be another, and
    removed."""
    tag = class_tag()
    genuine = craft.retagged((tinyimage.SAVED / "engine26-default.tar").read_bytes(), tag)
    path = make_handout(genuine, tmp_path, tag)
    crafted = craft.config_names_another_image(craft.replaced(genuine, {"oci-layout": None}))
    tampered(path, crafted)
    genuine_plan = dockerload.plan(archivescan.scan_stream(io.BytesIO(genuine).read), tag)
    monkeypatch.setattr(handout, "archive_problem", lambda archive, expected: (genuine_plan, None))
    code, out, err = lab(["import", str(path)])
    assert code == 1, out + err
    assert "not the released" in err and f"removed what it loaded ({tag})" in err, err
    assert gone(tag)


def test_a_local_image_gets_no_registry_pin(engine):
    """The containerd store lists `name@<Id>` in RepoDigests for every local image; release
    must not write that as a registry pin (no registry has it)."""
    tag = standins.tagged(f"courselab-test/tiny:{uuid.uuid4().hex[:8]}")
    tinyimage.build(tag)
    try:
        runner = host_docker.subprocess_runner
        facts = imageref.inspect(runner, tag)
        assert facts is not None
        if engine["containerd"]:
            assert any(digest.startswith(tag.rsplit(":", 1)[0] + "@sha256:") for digest in facts.repo_digests)
        assert "(no registry digest" in imageref.registry_pin(runner, tag, facts)
    finally:
        run(["docker", "image", "rm", "--force", tag], check=False)


def test_release_reads_the_lab_layer_and_sizes_from_the_saved_image_on_this_engine(engine):
    tag = standins.tagged(f"courselab-test/tiny:{uuid.uuid4().hex[:8]}")
    tinyimage.build(tag)
    try:
        plan = imageref.saved_plan(tag)
        assert not isinstance(plan, str), plan
        assert release.lab_layer(plan) == {"diff_id": plan.layers[1].diff_id, "size": plan.layers[1].unpacked}
        layers = json.loads(run(["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", tag]).stdout)
        assert list(plan.identity.diff_ids) == layers
    finally:
        run(["docker", "image", "rm", "--force", tag], check=False)
