"""Crafted `docker save` archives for the red-team tests: a real archive (one of the engine
worlds in tests/host/fixtures/docker/save/, or one saved in the test) with one thing changed,
as someone who regenerates the hand-out's checksum files would change it. Each function takes
and returns the archive's bytes; everything else in the archive stays as the engine wrote it."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import tarfile

from labhost import dockerload

OTHER_IMAGE = "tensorflow/tensorflow:2.20.0"  # the default build base: a name students have


def entries(archive: bytes) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    found = []
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        for info in tar:
            data = tar.extractfile(info).read() if info.isfile() else None  # type: ignore[union-attr]
            found.append((info, data))
    return found


def write(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info = copy.copy(info)
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def read_json(archive: bytes, name: str):
    return json.loads(dict((info.name, data) for info, data in entries(archive))[name])


def replaced(archive: bytes, changes: dict[str, bytes | None], added: dict[str, bytes] | None = None) -> bytes:
    """Files replaced (None: removed), others added at the end (before nothing else)."""
    members = []
    for info, data in entries(archive):
        if info.name in changes:
            if changes[info.name] is None:
                continue
            data = changes[info.name]
        members.append((info, data))
    for name, data in (added or {}).items():
        info = tarfile.TarInfo(name)
        info.mode = 0o444
        members.append((info, data))
    return write(members)


def dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def is_oci(archive: bytes) -> bool:
    return any(info.name == "oci-layout" for info, _ in entries(archive))


def blob_name(data: bytes) -> str:
    return f"blobs/sha256/{hashlib.sha256(data).hexdigest()}"


def other_config(archive: bytes) -> tuple[str, bytes]:
    """Another image: the same layers, a configuration that runs something else. Its file is
    named as the archive's layout names configurations."""
    manifest = read_json(archive, "manifest.json")
    config = read_json(archive, manifest[0]["Config"])
    config["config"]["Env"] = [*(config["config"].get("Env") or []), "EVIL=1"]
    data = dumps(config)
    name = blob_name(data) if is_oci(archive) else f"{hashlib.sha256(data).hexdigest()}.json"
    return name, data


def config_names_another_image(archive: bytes) -> bytes:
    """manifest.json's Config names another configuration, added beside the genuine one."""
    name, data = other_config(archive)
    manifest = read_json(archive, "manifest.json")
    manifest[0]["Config"] = name
    return replaced(archive, {"manifest.json": dumps(manifest)}, {name: data})


def second_entry(archive: bytes, tag: str = OTHER_IMAGE) -> bytes:
    """A second manifest.json entry that tags another image (same layers) as `tag`."""
    name, data = other_config(archive)
    manifest = read_json(archive, "manifest.json")
    manifest.append({"Config": name, "RepoTags": [tag], "Layers": manifest[0]["Layers"]})
    return replaced(archive, {"manifest.json": dumps(manifest)}, {name: data})


def retagged(archive: bytes, tag: str) -> bytes:
    """The same image under another name, in manifest.json and (OCI layout) index.json."""
    manifest = read_json(archive, "manifest.json")
    manifest[0]["RepoTags"] = [tag]
    changes = {"manifest.json": dumps(manifest)}
    if is_oci(archive):
        index = read_json(archive, "index.json")
        index["manifests"][0]["annotations"] = {
            "io.containerd.image.name": dockerload.normalize(tag),
            "org.opencontainers.image.ref.name": tag.rsplit(":", 1)[1],
        }
        changes["index.json"] = dumps(index)
    return replaced(archive, changes)


def index_names_another_image(archive: bytes) -> bytes:
    """OCI layout: index.json leads to a manifest of another configuration (what the containerd
    store loads) while manifest.json stays genuine (what the default store loads)."""
    name, data = other_config(archive)
    manifest = read_json(archive, "manifest.json")
    by_name = dict((info.name, blob) for info, blob in entries(archive))
    layers = [
        {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": f"sha256:{p.rsplit('/', 1)[1]}",
         "size": len(by_name[p])}
        for p in manifest[0]["Layers"]
    ]  # fmt: skip
    oci_manifest = dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": f"sha256:{name[13:]}",
                       "size": len(data)},
            "layers": layers,
        }
    )  # fmt: skip
    index = read_json(archive, "index.json")
    index["manifests"][0].update(
        mediaType="application/vnd.oci.image.manifest.v1+json",
        digest=f"sha256:{hashlib.sha256(oci_manifest).hexdigest()}",
        size=len(oci_manifest),
    )
    added = {name: data, blob_name(oci_manifest): oci_manifest}
    return replaced(archive, {"index.json": dumps(index)}, added)


def layer_swapped(archive: bytes) -> bytes:
    """The last layer's file holds other bytes (a file added), its name and the config kept."""
    manifest = read_json(archive, "manifest.json")
    last = manifest[0]["Layers"][-1]
    members = dict((info.name, data) for info, data in entries(archive))
    original = members[last]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("opt/evil")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    swapped = buffer.getvalue() if original[:2] != b"\x1f\x8b" else __import__("gzip").compress(buffer.getvalue())
    return replaced(archive, {last: swapped})
