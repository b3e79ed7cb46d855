"""`scripts/lab export` / `scripts/lab import`: a released image as one compressed file for
classes without a registry or a fast network, with its checksum and manifest beside it.

    scripts/lab export --term 2027-spring --flavour cpu     -> handout/courselab-2027-spring-cpu.tar.zst
                                                               (+ .sha256 and .json)
    scripts/lab import handout/courselab-2027-spring-cpu.tar.zst

Import refuses, in one line and before anything is loaded: a manifest that is not a hand-out's
(or .env lines that are not exactly its image, never pulled), too little free disk space on the
file system that will hold the image, a file whose size or SHA-256 differs from its checksum
and manifest (truncated or corrupted), and an archive that `docker load` would not read as
exactly one image, tagged exactly the class tag, with the released configuration and layers,
on either image store (labhost.dockerload). After the load, the image under the class tag is
checked again (labhost.dockerload.Identity: the same on every engine and store); a mismatch
removes what was loaded and says so.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import shutil
import subprocess
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from labhost import archivescan, docker, dockerload, framing, handoutmanifest, imageref, imagestore
from labhost.commands import Command, release

EXPORT_HELP = "write a released image to one compressed file with its checksum and manifest (offline hand-out)"
IMPORT_HELP = "check and load a hand-out file from `scripts/lab export` (disk space, checksum, the image in it)"
CHUNK = 1 << 20
# Made once, copied to every student: zstd -9 is 12 % smaller than -3 for a few minutes more
# once; above 9 the gain is about 1 % for more than twice the time; unpacking takes the same
# at every level (benchmarks/handout_sizes.py; figures in docs/instructors.md).
DEFAULT_LEVEL = {"zstd": 9, "gzip": 6}
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
# What `docker load` prints per image it loaded, on both stores.
LOADED = re.compile(r"^Loaded image(?: ID)?: (\S+)\s*$", re.MULTILINE)
UNPACK_FAILED = "Error unpacking image"


def export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--term", required=True, help="the release to export (see scripts/lab release)")
    parser.add_argument("--flavour", choices=release.FLAVOURS, default="cpu")
    parser.add_argument("--output", type=Path, help="folder for the hand-out (default: handout/)")
    parser.add_argument("--releases", type=Path, help="where `release` wrote its manifests (default: releases/)")
    parser.add_argument("--compression", choices=("zstd", "gzip"), help="default: zstd when installed, else gzip")
    parser.add_argument("--level", type=int, help="compression level (default: zstd 9, gzip 6)")


def import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the .tar.zst or .tar.gz file from scripts/lab export")


def sidecars(archive: Path) -> tuple[Path, Path]:
    stem = archive.name.split(".tar", 1)[0]
    return archive.with_name(archive.name + ".sha256"), archive.with_name(stem + ".json")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def decompressed(path: Path) -> Iterator[IO[bytes]]:
    """The archive's tar stream, whichever compression export chose (read from its magic)."""
    with path.open("rb") as raw:
        magic = raw.read(4)
    if magic.startswith(GZIP_MAGIC):
        with gzip.open(path, "rb") as stream:
            yield stream
        return
    if magic != ZSTD_MAGIC:
        raise ValueError("not a zstd or gzip file")
    if shutil.which("zstd") is None:
        raise FileNotFoundError("zstd")
    process = subprocess.Popen(["zstd", "-dc", str(path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    try:
        yield process.stdout
    finally:
        process.stdout.close()
        process.wait()


def read_expected(archive: Path) -> handoutmanifest.Expected | str:
    checksum_file, manifest_file = sidecars(archive)
    for needed in (checksum_file, manifest_file):
        if not needed.is_file():
            return f"{needed.name} is missing next to {archive.name}; copy all three files of the hand-out"
    try:
        expected = handoutmanifest.read_handout(
            manifest_file.read_text(errors="replace"), checksum_file.read_text(errors="replace")
        )
    except OSError as error:
        return f"{manifest_file.name} cannot be read ({error.strerror or error})"
    if isinstance(expected, str):
        return f"{manifest_file.name} is {expected}; export it again"
    keys = release.ENV_KEYS[expected.released.flavour]
    problem = handoutmanifest.env_problem(expected.env_lines, keys=keys, image=expected.released.tag)
    if problem:
        return f"{manifest_file.name}'s .env lines are not this hand-out's: {problem}"
    return expected


def refusal(archive: Path, expected: handoutmanifest.Expected, *, free: int | None) -> str | None:
    """The checks that cost least, in that order: space, size, checksum."""
    need = imagestore.load_need(tar_size=expected.tar_size, unpacked=expected.unpacked)
    if free is not None and free < need:
        return (
            f"not enough disk space for Docker: loading the image needs {need / 1e9:.1f} GB, "
            f"{free / 1e9:.1f} GB is free"
        )
    size = archive.stat().st_size
    if size != expected.compressed_size:
        return (
            f"{archive.name} is {size} bytes, the manifest says {expected.compressed_size}: "
            "the copy is truncated or damaged"
        )
    if sha256_file(archive) != expected.sha256:
        return f"{archive.name} does not match its SHA-256 checksum: the copy is damaged"
    return None


def archive_problem(archive: Path, expected: handoutmanifest.Expected) -> tuple[dockerload.Plan | None, str | None]:
    """What `docker load` would load from the file, checked against the manifest."""
    try:
        with decompressed(archive) as stream:
            scan = archivescan.scan_stream(stream.read)
    except (OSError, ValueError, EOFError, zlib.error) as error:
        return None, f"{archive.name} cannot be unpacked ({error or type(error).__name__})"
    tag = expected.released.tag
    try:
        plan = dockerload.plan(scan, tag)
    except dockerload.Refused as refused:
        return None, f"{archive.name} is not what docker load should load: {refused}"
    found = dockerload.mismatch(plan.identity, expected.released.identity)
    if found:
        return None, f"{archive.name} {found}"
    if (scan.total, plan.unpacked) != (expected.tar_size, expected.unpacked):
        return None, f"{archive.name}'s sizes differ from its manifest's: the manifest is not this file's"
    return plan, None


def handout_facts(archive: Path, *, compression: str, tar_size: int, sha256: str, plan: dockerload.Plan,
                  compressed: dict[str, int], lab_diff_id: str | None) -> dict:  # fmt: skip
    """The manifest's hand-out section: the file, and what each layer costs unpacked and
    compressed (the lab layer alone is what a class downloads again when only the course's
    packages change)."""
    layers = [
        {"diff_id": layer.diff_id, "size": layer.unpacked, "compressed_size": compressed.get(layer.member, 0)}
        for layer in plan.layers
    ]
    lab = next((layer for layer in layers if layer["diff_id"] == lab_diff_id), None)
    return {
        "file": archive.name,
        "compression": compression,
        "compressed_size": archive.stat().st_size,
        "tar_size": tar_size,
        "unpacked_size": plan.unpacked,
        "sha256": sha256,
        "lab_layer": {"size": lab["size"], "compressed_size": lab["compressed_size"]} if lab else None,
        "layers": layers,
    }


def write_handout(read, archive: Path, manifest: dict, image: handoutmanifest.Released, *, compression: str,
                  level: int) -> tuple[str | None, dockerload.Plan | None]:  # fmt: skip
    """Frame the `docker save` stream from `read` into `archive` (via a .partial file), read it
    in the same pass, and write the checksum and the hand-out manifest beside it, only when the
    stream is exactly the released image. Returns (problem, plan)."""
    partial = archive.with_name(archive.name + ".partial")
    scanner = archivescan.Scanner()
    try:
        with partial.open("wb") as sink:
            tar_size, compressed = framing.write_framed(
                read, sink, compression=compression, level=level, on_piece=scanner.feed
            )
        plan = dockerload.plan(scanner.finish(), image.tag)
        problem = dockerload.mismatch(plan.identity, image.identity)
    except (OSError, EOFError, framing.TarError) as error:
        problem, plan = f"could not be written ({error or type(error).__name__})", None
    except dockerload.Refused as refused:
        problem, plan = f"is not one image as docker save wrote it: {refused}", None
    if problem or plan is None:
        partial.unlink(missing_ok=True)
        return problem, None
    partial.replace(archive)
    digest = sha256_file(archive)
    checksum_file, manifest_file = sidecars(archive)
    checksum_file.write_text(f"{digest}  {archive.name}\n")
    manifest["handout"] = handout_facts(
        archive, compression=f"{compression} -{level}", tar_size=tar_size, sha256=digest, plan=plan,
        compressed=compressed, lab_diff_id=image.lab_diff_id,
    )  # fmt: skip
    manifest["env_lines"] = release.env_lines(image.flavour, image.tag, pulled=False)
    manifest_file.write_text(json.dumps(manifest, indent=1) + "\n")
    return None, plan


def run_export(args: argparse.Namespace, world) -> int:
    fix = f"Fix: scripts/lab release --term {args.term} --flavour {args.flavour}"
    manifest_path = (args.releases or world.repo / "releases") / args.term / f"{args.flavour}.json"
    if not manifest_path.is_file():
        print(f"export: no release {args.term} for {args.flavour}. {fix}", file=world.err)
        return 1
    try:
        text = manifest_path.read_text(errors="replace")
        manifest = json.loads(text)
    except (OSError, ValueError) as error:
        manifest, text = None, f"unreadable ({error})"
    image = handoutmanifest.read_release(text) if manifest is not None else text
    if isinstance(image, str):
        print(f"export: {manifest_path} is {image}. {fix}", file=world.err)
        return 1
    tag = image.tag
    facts = imageref.inspect(world.run, tag)
    # The diff IDs are the same on every store: a cheap first check before saving gigabytes;
    # the configuration is checked on the saved stream itself.
    if facts is None or facts.layers != image.identity.diff_ids:
        print(f"export: {tag} is not the released image {image.identity.config[:19]} any more. {fix}", file=world.err)
        return 1
    compression = args.compression or ("zstd" if shutil.which("zstd") else "gzip")
    suffix = {"zstd": ".tar.zst", "gzip": ".tar.gz"}[compression]
    output = args.output or world.repo / "handout"
    output.mkdir(parents=True, exist_ok=True)
    archive = output / f"courselab-{args.term}-{args.flavour}{suffix}"
    level = args.level or DEFAULT_LEVEL[compression]
    world.say(f"export: docker save {tag} | {compression} -{level}, one frame per layer > {archive}")
    save = subprocess.Popen(["docker", "save", tag], stdout=subprocess.PIPE)
    assert save.stdout is not None
    problem, plan = write_handout(save.stdout.read, archive, manifest, image, compression=compression, level=level)
    if problem:
        save.kill()
    if save.wait() != 0 and not problem:
        # The file was checked and written, but the engine says the save failed: drop it.
        for path in (archive, *sidecars(archive)):
            path.unlink(missing_ok=True)
        problem = "could not be saved (docker save failed)"
    if problem or plan is None:
        print(f"export: {tag} {problem}; nothing was written. {fix}", file=world.err)
        return 1
    checksum_file, manifest_file = sidecars(archive)
    lab = manifest["handout"]["lab_layer"]
    world.say(
        f"export: {archive} ({archive.stat().st_size / 1e6:.0f} MB, {plan.unpacked / 1e6:.0f} MB unpacked"
        + (f"; the lab layer alone {lab['compressed_size'] / 1e6:.0f} MB" if lab else "")
        + f"), {checksum_file.name}, {manifest_file.name}"
    )
    return 0


def loaded_names(output: str) -> list[str]:
    """What `docker load` says it loaded: names, or image IDs for untagged images."""
    return LOADED.findall(output)


def after_load(world, expected: handoutmanifest.Expected, plan: dockerload.Plan, load) -> str | None:
    """Why the image now under the class tag is not the one verified, or None. Its diff IDs
    are read from the engine; its configuration from `.Id` where that is a digest the archive
    committed to (the configuration's, or on the containerd store the OCI index entry's),
    else read back with `docker save` (a 20.10 archive loaded on the containerd store gets a
    manifest containerd writes itself)."""
    tag = expected.released.tag
    output = f"{load.stdout}\n{load.stderr}"
    if load.returncode != 0:
        return f"docker load failed: {docker.last_line(load.stderr or load.stdout)[-300:]}"
    if UNPACK_FAILED in output:
        return f"docker load could not unpack the image: {docker.last_line(output)[-300:]}"
    others = [name for name in loaded_names(load.stdout) if dockerload.normalize(name) != dockerload.normalize(tag)]
    if others:
        return f"docker load also loaded {', '.join(others)}"
    facts = imageref.inspect(world.run, tag)
    if facts is None:
        return f"{tag} is not there after docker load"
    if facts.layers != expected.released.identity.diff_ids:
        return f"{tag} has other layers than the released image"
    if facts.id in plan.ids:
        return None
    found = imageref.saved_plan(tag)
    if isinstance(found, str):
        return found
    return dockerload.mismatch(found.identity, expected.released.identity)


def run_import(args: argparse.Namespace, world) -> int:
    archive: Path = args.file
    if not archive.is_file():
        print(f"import: {archive} does not exist", file=world.err)
        return 1
    expected = read_expected(archive)
    if isinstance(expected, str):
        print(f"import: {expected}. Nothing was loaded.", file=world.err)
        return 1
    store = imagestore.gather(world.run, world.root)
    problem = refusal(archive, expected, free=world.disk_free(store.image_dir if store else None))
    plan = None
    if problem is None:
        plan, problem = archive_problem(archive, expected)
    if problem or plan is None:
        print(f"import: {problem}. Nothing was loaded.", file=world.err)
        return 1
    tag = expected.released.tag
    world.say(f"import: {archive.name}: checksum and image ({expected.released.identity.config[:19]}) verified; "
              "loading (docker load)")  # fmt: skip
    with decompressed(archive) as stream:
        load = subprocess.run(["docker", "load"], stdin=stream, capture_output=True, text=True, check=False)
    problem = after_load(world, expected, plan, load)
    if problem:
        loaded = loaded_names(load.stdout) or ([tag] if load.returncode == 0 else [])
        for name in loaded:
            world.run(["docker", "image", "rm", "--force", name])
        removed = f"; removed what it loaded ({', '.join(loaded)})" if loaded else ""
        print(f"import: {problem}{removed}", file=world.err)
        return 1
    world.say(f"import: loaded {tag} ({expected.released.identity.config[:19]}). Put these lines in .env:")
    for line in expected.env_lines:
        world.say(f"  {line}")
    return 0


EXPORT = Command(help=EXPORT_HELP, run=run_export, arguments=export_arguments)
IMPORT = Command(help=IMPORT_HELP, run=run_import, arguments=import_arguments)
