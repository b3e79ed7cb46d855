"""`scripts/lab export` / `scripts/lab import`: a released image as one compressed file for
classes without a registry or a fast network, with its checksum and manifest beside it.

    scripts/lab export --term 2027-spring --flavour cpu     -> handout/courselab-2027-spring-cpu.tar.zst
                                                               (+ .sha256 and .json)
    scripts/lab import handout/courselab-2027-spring-cpu.tar.zst

Import refuses, in one line and before anything is loaded: too little free disk space for
the unpacked image, a file whose size or SHA-256 differs from its checksum and manifest
(truncated or corrupted), and an archive whose image configuration is not the image ID the
manifest names. Only then is the image loaded, and its ID checked once more.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from labhost import framing, imageref
from labhost.commands import Command, release

EXPORT_HELP = "write a released image to one compressed file with its checksum and manifest (offline hand-out)"
IMPORT_HELP = "check and load a hand-out file from `scripts/lab export` (disk space, checksum, image ID)"
CHUNK = 1 << 20
# docker load keeps the unpacked layers and needs room for the archive while it reads it.
SPACE_FACTOR = 1.1
# Made once, copied to every student: zstd -9 is 12 % smaller than -3 for a few minutes more
# once; above 9 the gain is about 1 % for more than twice the time; unpacking takes the same
# at every level (benchmarks/handout_sizes.py; figures in docs/instructors.md).
DEFAULT_LEVEL = {"zstd": 9, "gzip": 6}
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"


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


def archive_image_id(stream: IO[bytes]) -> str | None:
    """The image ID inside a `docker save` archive: the SHA-256 of its configuration file,
    computed here (not read from a name), so a changed configuration cannot pass."""
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            name = member.name
            if member.isfile() and name.endswith(".json") and "/" not in name and name not in ("manifest.json",):
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                return "sha256:" + hashlib.sha256(data).hexdigest()
    return None


@dataclass(frozen=True)
class Expected:
    image_id: str
    tag: str
    sha256: str
    size: int
    unpacked: int
    env_lines: tuple[str, ...]


def read_expected(archive: Path) -> Expected | str:
    checksum_file, manifest_file = sidecars(archive)
    for needed in (checksum_file, manifest_file):
        if not needed.is_file():
            return f"{needed.name} is missing next to {archive.name}; copy all three files of the hand-out"
    try:
        manifest = json.loads(manifest_file.read_text())
        handout = manifest["handout"]
        listed = checksum_file.read_text().split()[0]
        return Expected(
            image_id=manifest["image"]["id"],
            tag=manifest["image"]["tag"],
            sha256=listed,
            size=int(handout["compressed_size"]),
            unpacked=int(handout["unpacked_size"]),
            env_lines=tuple(manifest["env_lines"]),
        )
    except (KeyError, ValueError, IndexError, json.JSONDecodeError) as error:
        return f"{manifest_file.name} is not a hand-out manifest ({error}); export it again"


def refusal(archive: Path, expected: Expected, *, free: int | None) -> str | None:
    """Pure-ish checks in the order that costs least: space, size, checksum."""
    if free is not None and free < expected.unpacked * SPACE_FACTOR:
        need, have = expected.unpacked * SPACE_FACTOR / 1e9, free / 1e9
        return f"not enough disk space for Docker: the image needs {need:.1f} GB, {have:.1f} GB is free"
    size = archive.stat().st_size
    if size != expected.size:
        return f"{archive.name} is {size} bytes, the manifest says {expected.size}: the copy is truncated or damaged"
    if sha256_file(archive) != expected.sha256:
        return f"{archive.name} does not match its SHA-256 checksum: the copy is damaged"
    return None


def handout_facts(
    archive: Path, *, compression: str, unpacked: int, sha256: str, blobs: list[framing.Blob], lab_diff_id: str | None
) -> dict:
    """The manifest's hand-out section: the file, and what each layer costs compressed (the
    lab layer alone is what a class downloads again when only the course's packages change)."""
    lab = next((blob for blob in blobs if blob.diff_id == lab_diff_id), None)
    return {
        "file": archive.name,
        "compression": compression,
        "compressed_size": archive.stat().st_size,
        "unpacked_size": unpacked,
        "sha256": sha256,
        "lab_layer": {"size": lab.size, "compressed_size": lab.compressed} if lab else None,
        "layers": [{"diff_id": blob.diff_id, "size": blob.size, "compressed_size": blob.compressed} for blob in blobs],
    }


def run_export(args: argparse.Namespace, world) -> int:
    manifest_path = (args.releases or world.repo / "releases") / args.term / f"{args.flavour}.json"
    if not manifest_path.is_file():
        print(f"export: no release {args.term} for {args.flavour}. Fix: scripts/lab release --term {args.term} "
              f"--flavour {args.flavour}", file=world.err)  # fmt: skip
        return 1
    manifest = json.loads(manifest_path.read_text())
    tag = manifest["image"]["tag"]
    facts = imageref.inspect(world.run, tag)
    if facts is None or facts.id != manifest["image"]["id"]:
        print(f"export: {tag} is not the released image {manifest['image']['id'][:19]} any more. "
              f"Fix: scripts/lab release --term {args.term} --flavour {args.flavour}", file=world.err)  # fmt: skip
        return 1
    compression = args.compression or ("zstd" if shutil.which("zstd") else "gzip")
    suffix = {"zstd": ".tar.zst", "gzip": ".tar.gz"}[compression]
    output = args.output or world.repo / "handout"
    output.mkdir(parents=True, exist_ok=True)
    archive = output / f"courselab-{args.term}-{args.flavour}{suffix}"
    partial = archive.with_name(archive.name + ".partial")
    level = args.level or DEFAULT_LEVEL[compression]
    world.say(f"export: docker save {tag} | {compression} -{level}, one frame per layer > {archive}")
    save = subprocess.Popen(["docker", "save", tag], stdout=subprocess.PIPE)
    assert save.stdout is not None
    try:
        with partial.open("wb") as sink:
            unpacked, blobs = framing.write_framed(save.stdout.read, sink, compression=compression, level=level)
        failed = save.wait() != 0
    except (OSError, EOFError):
        save.kill()
        save.wait()
        failed = True
    if failed:
        partial.unlink(missing_ok=True)
        print(f"export: docker save {tag} failed; nothing was written", file=world.err)
        return 1
    partial.replace(archive)
    digest = sha256_file(archive)
    checksum_file, manifest_file = sidecars(archive)
    checksum_file.write_text(f"{digest}  {archive.name}\n")
    manifest["handout"] = handout_facts(
        archive, compression=f"{compression} -{level}", unpacked=unpacked, sha256=digest, blobs=blobs,
        lab_diff_id=(manifest.get("lab_layer") or {}).get("diff_id"),
    )  # fmt: skip
    manifest["env_lines"] = release.env_lines(args.flavour, tag, pulled=False)
    manifest_file.write_text(json.dumps(manifest, indent=1) + "\n")
    lab = manifest["handout"]["lab_layer"]
    world.say(
        f"export: {archive} ({archive.stat().st_size / 1e6:.0f} MB, {unpacked / 1e6:.0f} MB unpacked"
        + (f"; the lab layer alone {lab['compressed_size'] / 1e6:.0f} MB" if lab else "")
        + f"), {checksum_file.name}, {manifest_file.name}"
    )
    return 0


def run_import(args: argparse.Namespace, world) -> int:
    archive: Path = args.file
    if not archive.is_file():
        print(f"import: {archive} does not exist", file=world.err)
        return 1
    expected = read_expected(archive)
    if isinstance(expected, str):
        print(f"import: {expected}. Nothing was loaded.", file=world.err)
        return 1
    info = world.run(["docker", "info", "--format", "{{.DockerRootDir}}"])
    root = info.stdout.strip() if info.returncode == 0 else None
    problem = refusal(archive, expected, free=world.disk_free(root))
    if problem is None:
        try:
            with decompressed(archive) as stream:
                found = archive_image_id(stream)
        except (OSError, ValueError, tarfile.TarError, EOFError) as error:
            found, problem = None, f"{archive.name} cannot be unpacked ({error or type(error).__name__})"
        if problem is None and found != expected.image_id:
            problem = f"{archive.name} holds image {found}, not the manifest's {expected.image_id}"
    if problem:
        print(f"import: {problem}. Nothing was loaded.", file=world.err)
        return 1
    world.say(f"import: {archive.name}: checksum and image ID verified; loading (docker load)")
    with decompressed(archive) as stream:
        load = subprocess.run(["docker", "load"], stdin=stream, capture_output=True, text=True, check=False)
    loaded = imageref.inspect(world.run, expected.tag)
    if load.returncode != 0 or loaded is None or loaded.id != expected.image_id:
        print(f"import: docker load failed: {(load.stderr or load.stdout).strip()[-300:]}", file=world.err)
        return 1
    world.say(f"import: loaded {expected.tag} ({expected.image_id[:19]}). Put these lines in .env:")
    for line in expected.env_lines:
        world.say(f"  {line}")
    return 0


EXPORT = Command(help=EXPORT_HELP, run=run_export, arguments=export_arguments)
IMPORT = Command(help=IMPORT_HELP, run=run_import, arguments=import_arguments)
