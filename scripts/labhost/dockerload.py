"""What `docker load` would load from a `docker save` archive, decided the way the engine
decides, before anything is loaded. Pure: a labhost.archivescan.Scan in, a plan or one line out.

There are two loaders, and a hand-out must mean the same image to both:

- The default image store (Engine 20.10 to 28, and upgraded engines after) reads only
  `manifest.json` (moby image/tarexport/load.go): every entry is loaded, its `Config` file is
  the image configuration, its `Layers` files are unpacked in order and must hash to the
  configuration's `rootfs.diff_ids`, and every `RepoTags` name is tagged. `index.json` is
  ignored.
- The containerd image store (Engine 29's default) reads the archive with containerd's
  importer (core/images/archive/importer.go): when `oci-layout` names a layout version, it
  loads `index.json` and ignores `manifest.json`; every index entry becomes an image, named
  by its `io.containerd.image.name` annotation. Without a layout version it reads
  `manifest.json` like the default store.

So an archive is accepted only when manifest.json holds exactly one image tagged exactly the
class tag, and (where the OCI layout is there) index.json holds exactly one image of that
name whose manifest names the same configuration and layers; every blob is checked against
its digest, every layer against its diff ID.

What identifies the image is its Identity: the digest of its configuration (which names
every layer's diff ID) and those diff IDs. They are the same on every engine and store. The
`.Id` docker prints is not: on the containerd store it is the digest of the manifest or index
the image was loaded from, which differs with the archive's layout (a 20.10 archive gets a
manifest containerd writes itself).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from labhost.archivescan import Member, Scan, clean

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
OCI_LAYOUT_VERSION = "1.0.0"
IMAGE_NAME = "io.containerd.image.name"
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")
ATTESTATION = ("vnd.docker.reference.type", "attestation-manifest")
# manifest.json's fields (moby's manifestItem); Go's JSON decoder matches keys without regard
# to case, so a key that differs from one of these only in case would be read differently.
MANIFEST_KEYS = ("Config", "RepoTags", "Layers", "Parent", "LayerSources")


@dataclass(frozen=True)
class Identity:
    """An image as every engine and store names it the same: the SHA-256 of its
    configuration, and the diff IDs (uncompressed layer digests) the configuration lists."""

    config: str
    diff_ids: tuple[str, ...]


@dataclass(frozen=True)
class Layer:
    diff_id: str
    member: str  # the archive file holding it
    unpacked: int  # bytes of the uncompressed layer tar: the same on every store


@dataclass(frozen=True)
class Plan:
    """The one image `docker load` would load from the archive."""

    identity: Identity
    layers: tuple[Layer, ...]
    config: Mapping  # the image configuration, as JSON
    # What `docker image inspect .Id` may say after the load: the configuration digest
    # (default store) or the digest of the index.json entry (containerd store, OCI layout).
    # A 20.10 archive loaded on the containerd store gets a manifest containerd writes
    # itself, whose digest nothing here can know: that image must be read back.
    ids: frozenset[str]

    @property
    def unpacked(self) -> int:
        return sum(layer.unpacked for layer in self.layers)


class Refused(Exception):
    """One line: why the archive is not exactly the one image expected."""


# --- reading JSON the way Go reads it, refusing where the two would differ ------------------


def _no_duplicates(pairs: list) -> dict:
    keys = [key for key, _ in pairs]
    folded = [key.casefold() for key in keys]
    if len(set(folded)) != len(folded):
        raise ValueError("an object with the same key twice")
    return dict(pairs)


def _reject_constant(name: str):
    raise ValueError(f"{name}, which Go's decoder refuses")


def read_json(member: Member | None, what: str):
    if member is None or member.kind != "file":
        raise Refused(f"it has no {what}")
    if member.data is None:
        raise Refused(f"its {what} is not a JSON file")
    try:
        return json.loads(member.data, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except ValueError as error:
        raise Refused(f"its {what} is not valid JSON ({str(error).splitlines()[0]})") from error
    except RecursionError as error:
        raise Refused(f"its {what} is nested too deeply") from error


def _field(obj: Mapping, key: str, kind: type, what: str, *, required: bool = True):
    if key not in obj:
        if required:
            raise Refused(f"{what} has no {key}")
        return None
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Refused(f"{what}'s {key} is not a {kind.__name__}")
    return value


def _strings(value: list, what: str) -> list[str]:
    if not all(isinstance(item, str) for item in value):
        raise Refused(f"{what} holds something other than names")
    return value


# --- references ------------------------------------------------------------------------------


def normalize(reference: str) -> str:
    """A tag as containerd stores it: docker.io/library/ added where Docker adds it, :latest
    where there is no tag (distribution/reference ParseNormalizedNamed + TagNameOnly)."""
    first, slash, rest = reference.partition("/")
    if not slash or (not any(c in first for c in ".:") and first != "localhost"):
        reference = f"docker.io/{reference if slash else 'library/' + reference}"
    elif first == "index.docker.io":
        reference = f"docker.io/{rest}"
    name = reference.split("@", 1)[0]
    if ":" not in name.rsplit("/", 1)[-1]:
        reference = f"{name}:latest" + (reference[len(name) :] if "@" in reference else "")
    return reference


# --- the two views ---------------------------------------------------------------------------


def _resolve(scan: Scan, path: str, what: str) -> Member:
    """The regular file a path of manifest.json names, following one relative link as both
    loaders do (a path that is not already clean would be read differently by the two)."""
    if not isinstance(path, str) or not path or path.startswith("/") or path != clean(path):
        raise Refused(f"{what} names {path!r}, not a file of the archive")
    member = scan.members.get(path)
    if member is not None and member.kind == "symlink":
        member = scan.members.get(member.target)
    if member is None or member.kind != "file":
        raise Refused(f"{what} names {path}, which the archive does not hold")
    return member


def _config(member: Member, what: str) -> tuple[Identity, Mapping]:
    config = read_json(member, what)
    if not isinstance(config, dict):
        raise Refused(f"{what} is not an image configuration")
    rootfs = _field(config, "rootfs", dict, what)
    diff_ids = _strings(_field(rootfs, "diff_ids", list, f"{what}'s rootfs"), f"{what}'s diff_ids")
    if not all(DIGEST.fullmatch(diff_id) for diff_id in diff_ids):
        raise Refused(f"{what} lists a layer digest that is not sha256:<64 hex>")
    return Identity(member.digest, tuple(diff_ids)), config


def _layer(member: Member, diff_id: str, what: str) -> Layer:
    if member.compression.startswith("unreadable"):
        raise Refused(f"{what} cannot be read ({member.compression.split(': ', 1)[1]})")
    if member.content_digest != diff_id:
        raise Refused(f"{what} is not the layer {diff_id[:19]} its configuration lists")
    return Layer(diff_id, member.name, member.unpacked)


def _docker_view(scan: Scan, tag: str) -> tuple[Identity, Mapping, tuple[Layer, ...]]:
    """manifest.json, as the default store (and containerd without an OCI layout) reads it."""
    items = read_json(scan.members.get("manifest.json"), "manifest.json")
    if not isinstance(items, list):
        raise Refused("its manifest.json is not a list of images")
    if len(items) != 1:
        raise Refused(f"its manifest.json lists {len(items)} images; a hand-out holds exactly one")
    item = items[0]
    if not isinstance(item, dict):
        raise Refused("its manifest.json entry is not an object")
    for key in item:
        near = [known for known in MANIFEST_KEYS if known.casefold() == key.casefold()]
        if near and near[0] != key:
            raise Refused(f"its manifest.json spells {near[0]} as {key!r}")
    tags = _strings(_field(item, "RepoTags", list, "manifest.json"), "manifest.json's RepoTags")
    if [normalize(name) for name in tags] != [normalize(tag)]:
        shown = ", ".join(tags) or "no name"
        raise Refused(f"manifest.json tags the image {shown}, not exactly {tag}")
    config_member = _resolve(scan, _field(item, "Config", str, "manifest.json"), "manifest.json's Config")
    identity, config = _config(config_member, "manifest.json's Config")
    paths = _strings(_field(item, "Layers", list, "manifest.json"), "manifest.json's Layers")
    if len(paths) != len(identity.diff_ids):
        raise Refused(f"manifest.json lists {len(paths)} layers, its configuration {len(identity.diff_ids)}")
    layers = tuple(
        _layer(_resolve(scan, path, f"layer {index + 1}"), diff_id, f"layer {index + 1} ({path})")
        for index, (path, diff_id) in enumerate(zip(paths, identity.diff_ids))  # noqa: B905 (3.9; lengths checked)
    )
    return identity, config, layers


def _blob(scan: Scan, descriptor, what: str) -> Member:
    if not isinstance(descriptor, dict):
        raise Refused(f"{what} is not a descriptor")
    digest = _field(descriptor, "digest", str, what)
    size = _field(descriptor, "size", int, what)
    if not DIGEST.fullmatch(digest):
        raise Refused(f"{what} names {digest!r}, not a sha256 digest")
    member = scan.members.get(f"blobs/sha256/{digest[7:]}")
    if member is None or member.kind != "file":
        raise Refused(f"{what} names blob {digest[:19]}, which the archive does not hold")
    if member.digest != digest or member.size != size:
        raise Refused(f"blob {digest[:19]} is not the content its name says")
    return member


def _media_type(descriptor: Mapping, what: str) -> str:
    return _field(descriptor, "mediaType", str, what)


def _is_attestation(descriptor: Mapping) -> bool:
    """BuildKit's provenance/SBOM manifests beside the image (platform unknown/unknown):
    containerd does not unpack them, they are not an image."""
    annotations = _field(descriptor, "annotations", dict, "a manifest of the image's index", required=False) or {}
    return annotations.get(ATTESTATION[0]) == ATTESTATION[1]


def _oci_view(scan: Scan, tag: str, expected: Identity) -> str | None:
    """index.json, as the containerd store reads it when oci-layout names a version. Returns
    the digest the loaded image's `.Id` will have there, or None without a layout version."""
    layout_member = scan.members.get("oci-layout")
    if layout_member is None:
        return None
    layout = read_json(layout_member, "oci-layout")
    if not isinstance(layout, dict):
        raise Refused("its oci-layout is not an object")
    versions = [key for key in layout if key.casefold() == "imagelayoutversion"]
    if not versions:
        return None
    if versions != ["imageLayoutVersion"] or not isinstance(layout[versions[0]], str):
        raise Refused("its oci-layout's imageLayoutVersion is not written as containerd reads it")
    if layout["imageLayoutVersion"] == "":
        return None
    if layout["imageLayoutVersion"] != OCI_LAYOUT_VERSION:
        raise Refused(f"its OCI layout version {layout['imageLayoutVersion']!r} is not {OCI_LAYOUT_VERSION}")
    index = read_json(scan.members.get("index.json"), "index.json")
    if not isinstance(index, dict):
        raise Refused("its index.json is not an object")
    entries = _field(index, "manifests", list, "index.json")
    if len(entries) != 1:
        raise Refused(f"its index.json lists {len(entries)} images; a hand-out holds exactly one")
    entry = entries[0]
    if not isinstance(entry, dict):
        raise Refused("its index.json entry is not a descriptor")
    annotations = _field(entry, "annotations", dict, "index.json's entry", required=False) or {}
    name = annotations.get(IMAGE_NAME)
    if not isinstance(name, str) or name != normalize(tag):
        raise Refused(f"index.json names the image {name or 'nothing'}, not {normalize(tag)}")
    manifest_descriptor = entry
    member = _blob(scan, entry, "index.json's entry")
    if _media_type(entry, "index.json's entry") in INDEX_TYPES:
        nested = read_json(member, f"index {entry['digest'][:19]}")
        children = _field(nested, "manifests", list, "the image's index") if isinstance(nested, dict) else None
        if children is None or not all(isinstance(child, dict) for child in children):
            raise Refused("the image's index is not an index")
        images = [child for child in children if not _is_attestation(child)]
        if len(images) != 1:
            raise Refused(f"the image's index holds {len(images)} images (platforms); a hand-out holds one")
        manifest_descriptor = images[0]
        member = _blob(scan, manifest_descriptor, "the image's manifest")
    if _media_type(manifest_descriptor, "the image's manifest") not in MANIFEST_TYPES:
        raise Refused(f"index.json leads to {manifest_descriptor['mediaType']!r}, not an image manifest")
    manifest = read_json(member, "the image's manifest")
    if not isinstance(manifest, dict):
        raise Refused("the image's manifest is not an object")
    config_member = _blob(scan, _field(manifest, "config", dict, "the image's manifest"), "the manifest's config")
    if config_member.digest != expected.config:
        raise Refused(
            f"index.json's image has configuration {config_member.digest[:19]}, manifest.json's "
            f"{expected.config[:19]}: the two stores would load different images"
        )
    descriptors = _field(manifest, "layers", list, "the image's manifest")
    if len(descriptors) != len(expected.diff_ids):
        raise Refused(
            f"the image's manifest lists {len(descriptors)} layers, the configuration {len(expected.diff_ids)}"
        )
    for index, (descriptor, diff_id) in enumerate(zip(descriptors, expected.diff_ids)):  # noqa: B905 (3.9; checked)
        _layer(_blob(scan, descriptor, f"layer {index + 1}"), diff_id, f"layer {index + 1} of index.json's image")
    return entry["digest"]


def plan(scan: Scan, tag: str) -> Plan:
    """The one image tagged `tag` that `docker load` would load from the archive, the same on
    both stores; anything else raises Refused with one line."""
    if scan.problem:
        raise Refused(scan.problem)
    identity, config, layers = _docker_view(scan, tag)
    oci_id = _oci_view(scan, tag, identity)
    ids = frozenset({identity.config} | ({oci_id} if oci_id else set()))
    return Plan(identity, layers, config, ids)


def mismatch(found: Identity, expected: Identity) -> str | None:
    """Why the image found is not the expected one, or None."""
    if found.config != expected.config:
        return f"holds image configuration {found.config[:19]}, not the released {expected.config[:19]}"
    if found.diff_ids != expected.diff_ids:
        return "holds the released configuration with other layers"
    return None


def layer_made_by(plan: Plan, marker: str) -> Layer | None:
    """The layer the newest build step whose command contains `marker` made, read from the
    configuration's history: each entry that made no layer says `empty_layer`, so the entries
    map onto the layers exactly (the same on every store, unlike `docker history`)."""
    history = plan.config.get("history")
    if not isinstance(history, list) or not all(isinstance(step, dict) for step in history):
        return None
    made = [step for step in history if step.get("empty_layer") is not True]
    if len(made) != len(plan.layers):
        return None
    found = None
    for step, layer in zip(made, plan.layers):  # noqa: B905 (Python 3.9; lengths checked)
        if marker in str(step.get("created_by", "")):
            found = layer
    return found
