"""labhost.archivescan + labhost.dockerload on real `docker save` archives of the three engine
worlds (tests/host/fixtures/docker/save/, made by tests/tinyimage.py: Engine 20.10's legacy
layout, Engine 26's OCI layout from the default store, and from the containerd store with
gzip-compressed layers, an index digest and BuildKit's provenance manifest), and on crafted
copies of them: the reader finds the one image both stores would load, with the identity and
unpacked sizes that are the same in every world, and refuses anything else in one line.
Property tests: no input gives anything but a plan or a refusal."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import craft
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from labhost import archivescan, dockerload

SAVED = Path(__file__).parent / "fixtures" / "docker" / "save"
WORLDS = ["engine20-default", "engine26-default", "engine26-containerd"]
TAG = "courselab-test/tiny:fixture"

settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=40, deadline=None, database=None)
settings.register_profile("deep", max_examples=2000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev"))


def saved(world: str) -> bytes:
    return (SAVED / f"{world}.tar").read_bytes()


def scan(archive: bytes) -> archivescan.Scan:
    return archivescan.scan_stream(io.BytesIO(archive).read)


def plan(archive: bytes, tag: str = TAG) -> dockerload.Plan:
    return dockerload.plan(scan(archive), tag)


def refusal(archive: bytes, tag: str = TAG, expected: dockerload.Identity | None = None) -> str | None:
    try:
        found = plan(archive, tag)
    except dockerload.Refused as refused:
        return str(refused)
    return dockerload.mismatch(found.identity, expected) if expected else None


@pytest.mark.parametrize("world", WORLDS)
def test_each_world_is_one_image_whose_identity_is_the_config_digest_and_diff_ids(world):
    archive = saved(world)
    found = plan(archive)
    manifest = craft.read_json(archive, "manifest.json")
    config = craft.read_json(archive, manifest[0]["Config"])
    assert found.identity.diff_ids == tuple(config["rootfs"]["diff_ids"])
    assert found.identity.config.startswith("sha256:") and found.identity.config in found.ids
    assert [layer.diff_id for layer in found.layers] == list(found.identity.diff_ids)


def test_the_containerd_store_saves_compressed_layers_whose_digest_is_not_the_diff_id():
    archive = saved("engine26-containerd")
    found = plan(archive)
    members = scan(archive).members
    rootfs = members[found.layers[0].member]
    assert rootfs.compression == "gzip"
    assert rootfs.digest != found.layers[0].diff_id == rootfs.content_digest
    assert rootfs.size < found.layers[0].unpacked


def test_the_unpacked_sizes_and_diff_ids_of_the_same_layer_agree_in_every_world():
    """The imported root file system is one tar in all three worlds: compressed or not, the
    reader gives it the same diff ID and unpacked size."""
    firsts = {world: plan(saved(world)).layers[0] for world in WORLDS}
    assert len({layer.diff_id for layer in firsts.values()}) == 1
    assert len({layer.unpacked for layer in firsts.values()}) == 1


@pytest.mark.parametrize("world", ["engine26-default", "engine26-containerd"])
def test_the_oci_layout_adds_the_index_entry_digest_the_containerd_store_gives_as_id(world):
    archive = saved(world)
    entry = craft.read_json(archive, "index.json")["manifests"][0]
    assert plan(archive).ids == {plan(archive).identity.config, entry["digest"]}


def test_a_legacy_archive_names_only_its_config_digest():
    assert plan(saved("engine20-default")).ids == {plan(saved("engine20-default")).identity.config}


@pytest.mark.parametrize("world", WORLDS)
def test_the_lab_layer_is_found_from_the_config_history_in_every_world(world):
    """ENV and LABEL made no layer (empty_layer in the history): the COPY of the marked file
    is the second layer, in every world (labhost.history counted `docker history` lines, and
    the containerd store's history sizes are disk blocks)."""
    found = plan(saved(world))
    layer = dockerload.layer_made_by(found, "install-lab-layer.sh")
    assert layer is not None and layer == found.layers[1]
    assert dockerload.layer_made_by(found, "no such step") is None


@pytest.mark.parametrize("world", WORLDS)
def test_the_class_tag_is_compared_as_docker_normalises_it(world):
    archive = craft.retagged(saved(world), "lab:t1-cpu")
    assert refusal(archive, "docker.io/library/lab:t1-cpu") is None
    assert refusal(archive, "lab:t1-cpu") is None
    assert "not exactly courselab.invalid/lab:t1-cpu" in refusal(archive, "courselab.invalid/lab:t1-cpu")


# --- the red team: each crafted from a real archive, refused in one line -------------------


@pytest.mark.parametrize("world", WORLDS)
def test_manifest_config_naming_another_image_is_refused(world):
    archive = saved(world)
    genuine = plan(archive).identity
    problem = refusal(craft.config_names_another_image(archive), TAG, genuine)
    assert problem is not None and "\n" not in problem
    # The legacy layout has no second view: the configuration is simply not the released one.
    # With the OCI layout, the two stores would load different images.
    assert (
        ("not the released" in problem) if world == "engine20-default" else ("would load different images" in problem)
    )


@pytest.mark.parametrize("world", WORLDS)
def test_a_second_manifest_entry_tagging_another_image_is_refused(world):
    problem = refusal(craft.second_entry(saved(world)))
    assert problem == "its manifest.json lists 2 images; a hand-out holds exactly one"


@pytest.mark.parametrize("world", ["engine26-default", "engine26-containerd"])
def test_index_json_leading_to_another_image_is_refused(world):
    problem = refusal(craft.index_names_another_image(saved(world)))
    assert problem is not None and "would load different images" in problem


@pytest.mark.parametrize("world", WORLDS)
def test_a_layer_with_other_bytes_is_refused(world):
    problem = refusal(craft.layer_swapped(saved(world)))
    assert problem is not None and "is not the layer" in problem


@pytest.mark.parametrize(
    ("change", "says"),
    [
        pytest.param(lambda m: m[0].update(Config="../x.json"), "not a file of the archive", id="config-climbs-out"),
        pytest.param(lambda m: m[0].update(Config="/manifest.json"), "not a file of the archive", id="absolute"),
        pytest.param(lambda m: m[0].update(Config="./" + m[0]["Config"]), "not a file of the archive", id="unclean"),
        pytest.param(lambda m: m[0].update(Config=5), "Config is not a str", id="config-not-text"),
        pytest.param(lambda m: m[0].pop("RepoTags"), "manifest.json has no RepoTags", id="no-tags"),
        pytest.param(lambda m: m[0].update(RepoTags="x"), "RepoTags is not a list", id="tags-not-list"),
        pytest.param(lambda m: m[0].update(Layers=m[0]["Layers"][:1]), "lists 1 layers", id="layer-missing"),
        pytest.param(lambda m: m[0].update(config=m[0].pop("Config")), "spells Config as 'config'", id="case"),
        pytest.param(lambda m: m.clear(), "lists 0 images", id="empty"),
    ],
)
def test_malformed_manifest_entries_are_refused_in_one_line(change, says):
    archive = saved("engine20-default")
    manifest = craft.read_json(archive, "manifest.json")
    change(manifest)
    problem = refusal(craft.replaced(archive, {"manifest.json": craft.dumps(manifest)}))
    assert problem is not None and says in problem and "\n" not in problem


@pytest.mark.parametrize(
    ("manifest", "says"),
    [
        pytest.param(b'{"Config": "x"}', "not a list of images", id="object"),
        pytest.param(b"null", "not a list of images", id="null"),
        pytest.param(b'[{"Config": "a", "Config": "b"}]', "same key twice", id="duplicate-key"),
        pytest.param(b"[NaN]", "not valid JSON", id="nan"),
        pytest.param(b"[1] [2]", "not valid JSON", id="two-values"),
        pytest.param(b"\xff\xfe", "not valid JSON", id="not-utf8"),
    ],
)
def test_manifests_go_would_read_otherwise_are_refused(manifest, says):
    problem = refusal(craft.replaced(saved("engine20-default"), {"manifest.json": manifest}))
    assert problem is not None and says in problem


@pytest.mark.parametrize(
    ("layout", "says"),
    [
        pytest.param(b'{"imageLayoutVersion": "2.0.0"}', "is not 1.0.0", id="version"),
        pytest.param(b'{"ImageLayoutVersion": "1.0.0"}', "not written as containerd reads it", id="case"),
    ],
)
def test_an_oci_layout_containerd_would_read_otherwise_is_refused(layout, says):
    problem = refusal(craft.replaced(saved("engine26-default"), {"oci-layout": layout}))
    assert problem is not None and says in problem


def test_an_archive_without_a_layout_version_is_read_from_manifest_json_alone():
    """containerd reads manifest.json when oci-layout names no version, like the default store."""
    archive = craft.replaced(saved("engine26-default"), {"oci-layout": b"{}", "index.json": b"[]"})
    assert refusal(archive) is None


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        pytest.param("duplicate", "two files named manifest.json", id="duplicate-name"),
        pytest.param("absolute", "outside the archive", id="absolute-name"),
        pytest.param("hardlink", "hardlink entry", id="hard-link"),
        pytest.param("symlink-out", "pointing outside the archive", id="symlink-out"),
    ],
)
def test_tar_entries_the_two_loaders_read_differently_are_refused(kind, says):
    archive = saved("engine20-default")
    members = craft.entries(archive)
    info = tarfile.TarInfo({"duplicate": "manifest.json", "absolute": "/etc/x"}.get(kind, "x"))
    data: bytes | None = b"[]" if kind in ("duplicate", "absolute") else None
    if kind == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, "manifest.json"
    if kind == "symlink-out":
        info.type, info.linkname = tarfile.SYMTYPE, "../../etc/passwd"
    problem = refusal(craft.write([*members, (info, data)]))
    assert problem is not None and says in problem


def test_a_symlinked_layer_as_engine_20_writes_for_a_repeated_layer_is_followed():
    archive = saved("engine20-default")
    manifest = craft.read_json(archive, "manifest.json")
    first = manifest[0]["Layers"][0]
    link = tarfile.TarInfo("repeat/layer.tar")
    link.type, link.linkname = tarfile.SYMTYPE, f"../{first}"
    manifest[0]["Layers"][0] = "repeat/layer.tar"
    members = [m for m in craft.entries(craft.replaced(archive, {"manifest.json": craft.dumps(manifest)}))]
    assert refusal(craft.write([*members, (link, None)])) is None


def test_a_truncated_archive_is_refused():
    archive = saved("engine26-containerd")
    assert "ended" in refusal(archive[: len(archive) // 2])


def test_zstd_compressed_layers_are_read_through_the_zstd_program():
    archive = saved("engine26-containerd")
    found = plan(archive)
    members = craft.entries(archive)
    gz = found.layers[0].member
    recompressed = []
    for info, data in members:
        if info.name == gz:
            data = subprocess.run(["zstd", "-q", "-c"], input=gzip.decompress(data), capture_output=True).stdout
        recompressed.append((info, data))
    member = scan(craft.write(recompressed)).members[gz]
    assert member.compression == "zstd"
    assert member.content_digest == found.layers[0].diff_id and member.unpacked == found.layers[0].unpacked


# --- property tests: any input gives a plan or one line ------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=16,
)
KEYS = ["Config", "RepoTags", "Layers", "config", "LayerSources", "Parent"]
entry = st.dictionaries(st.sampled_from(KEYS), json_values | st.lists(st.text(max_size=80), max_size=3), max_size=5)
manifests = st.lists(entry, max_size=3).map(json.dumps).map(str.encode) | json_values.map(json.dumps).map(str.encode)
raw = st.binary(max_size=200)


def verdict_never_raises(archive: bytes) -> None:
    try:
        plan(archive)
    except dockerload.Refused as refused:
        assert str(refused) and "\n" not in str(refused)


@given(world=st.sampled_from(WORLDS), manifest=manifests | raw)
def test_any_manifest_json_gives_a_verdict(world, manifest):
    verdict_never_raises(craft.replaced(saved(world), {"manifest.json": manifest}))


@given(
    world=st.sampled_from(["engine26-default", "engine26-containerd"]),
    name=st.sampled_from(["index.json", "oci-layout"]),
    content=json_values.map(json.dumps).map(str.encode) | raw,
)
def test_any_index_or_layout_gives_a_verdict(world, name, content):
    verdict_never_raises(craft.replaced(saved(world), {name: content}))


@given(world=st.sampled_from(WORLDS), data=st.data())
def test_any_damage_to_the_tar_stream_gives_a_verdict(world, data):
    archive = bytearray(saved(world))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(archive) - 1))
        archive[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(archive)))
    verdict_never_raises(bytes(archive[:cut]))
