"""The GPU targets this image's TensorFlow was compiled for and those it accepts, read from its
own libraries.

    python3 rocm_targets.py --output FILE [--require] [--tensorflow DIR]

Dockerfile.rocm runs it on the base image at build time, with the readers of
image/lock-gpu-targets.txt installed in that build stage only. TensorFlow-ROCm has two lists,
and a card computes only when its target is on both:

- Compiled: the targets its kernels were built for. The TF_ROCM_AMDGPU_TARGETS variable some
  AMD images set describes their build container, not the wheel: the code objects in the
  libraries are the truth.
  - HIP puts each translation unit's device code into a fat binary in the `.hip_fatbin`
    section of the ELF library; a linked library holds one bundle per unit, back to back.
  - A bundle is a clang offload bundle: the magic `__CLANG_OFFLOAD_BUNDLE__`, a count, then
    per entry (offset, size, id length, id), all little-endian 64-bit, ids such as
    `hipv4-amdgcn-amd-amdhsa--gfx1030` or `host-x86_64-unknown-linux-gnu-` (LLVM's
    clang/lib/Driver/OffloadBundler.cpp and llvm/lib/Object/OffloadBundle.cpp).
  - With `--offload-compress` (ROCm/tensorflow-upstream sets it for its ROCm builds since
    PRs #2926-#2930, 2025) each bundle is a compressed one: magic `CCOB`, version (1-3),
    method (0 zlib, 1 zstd; ROCm's LLVM picks zstd), sizes and a hash, then the compressed
    bundle above. The ids are inside the compressed payload, so only its start is decoded
    (python-zstandard's stream reader decodes about as much as is asked for).
  A target counts only when every bundle carries it: a unit without code for a target fails
  on that card at run time ("No compatible code objects found"). rocBLAS' and MIOpen's own
  per-target files are not read: for one ROCm release they cover a superset of TensorFlow's
  list (MIOpen also compiles missing kernels at run time), and an override makes the card
  look like the donor target to every library alike, so TensorFlow's list is the binding one.
- Accepted at run time: XLA's kSupportedGfxVersions, the list TensorFlow prints when it refuses
  a card (r2.18's names gfx900 and gfx906 without kernels for them; upstream XLA's lacks
  consumer targets AMD's fork compiles). See rocm_runtime_list.py.

The result also names this TensorFlow build (the sha256 of its wheel's RECORD, which lists
every file's hash): the lab keys what it learns about the build at run time by it.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.metadata
import importlib.util
import json
import mmap
import re
import struct
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

try:
    import zstandard
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
except ImportError as missing:  # run outside Dockerfile.rocm's stage, without its readers
    sys.exit(
        f"rocm_targets: ERROR: {missing.name} is missing: install image/lock-gpu-targets.txt "
        "(pip install --require-hashes --target DIR -r image/lock-gpu-targets.txt; PYTHONPATH=DIR)"
    )

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rocm_runtime_list  # noqa: E402

BUNDLE_MAGIC = b"__CLANG_OFFLOAD_BUNDLE__"
COMPRESSED_MAGIC = b"CCOB"
FATBIN_SECTION = ".hip_fatbin"
# Sanity limits for headers read from a binary: a real bundle holds a handful of entries.
MAX_ENTRIES = 1024
MAX_ID_LENGTH = 1024
ZLIB, ZSTD = 0, 1
# CCOB header sizes by version: magic, version, method, [total size], uncompressed size, hash.
CCOB_HEADER = {1: 4 + 2 + 2 + 4 + 8, 2: 4 + 2 + 2 + 4 + 4 + 8, 3: 4 + 2 + 2 + 8 + 8 + 8}
TARGET_PATTERN = re.compile(r"gfx[0-9a-z]+(?:-[0-9a-z]+)*")
DISTRIBUTIONS = ("tensorflow-rocm", "tensorflow", "tf-nightly-rocm", "tensorflow-cpu")


class ScanError(Exception):
    """A library that cannot be read as what it claims to be."""


@dataclass(frozen=True)
class Bundle:
    offset: int  # in the file
    compressed: bool
    targets: frozenset[str]


@dataclass
class LibraryScan:
    path: str
    bundles: list[Bundle] = field(default_factory=list)

    @property
    def in_every_bundle(self) -> frozenset[str]:
        return frozenset.intersection(*(b.targets for b in self.bundles)) if self.bundles else frozenset()

    @property
    def in_some_bundle(self) -> frozenset[str]:
        return frozenset().union(*(b.targets for b in self.bundles))


def target_of(entry_id: str) -> str | None:
    """The processor of a bundle entry id: 'hipv4-amdgcn-amd-amdhsa--gfx90a:xnack-' -> 'gfx90a'.
    Older HIP wrote 'hip-amdgcn-amd-amdhsa-gfx803'; host entries give None. Generic targets
    ('gfx11-generic') are kept as they are."""
    kind, _, rest = entry_id.partition("-")
    if kind not in ("hip", "hipv4") or "amdgcn-amd-amdhsa" not in rest:
        return None
    processor = rest.split("amdgcn-amd-amdhsa", 1)[1].lstrip("-").split(":", 1)[0]
    return processor if TARGET_PATTERN.fullmatch(processor) else None


def read_entries(get) -> tuple[list[str], int]:
    """Entry ids of one uncompressed bundle, and the end of its last code object.
    `get(n)` returns at least the bundle's first n bytes (fewer only at its end)."""

    def need(count: int) -> bytes:
        data = get(count)
        if len(data) < count:
            raise ScanError("bundle header is cut short")
        return data

    head = need(len(BUNDLE_MAGIC) + 8)
    if head[: len(BUNDLE_MAGIC)] != BUNDLE_MAGIC:
        raise ScanError("not an offload bundle")
    (count,) = struct.unpack_from("<Q", head, len(BUNDLE_MAGIC))
    if count > MAX_ENTRIES:
        raise ScanError(f"bundle claims {count} entries")
    position, ids, end = len(BUNDLE_MAGIC) + 8, [], 0
    for _ in range(count):
        offset, size, id_length = struct.unpack_from("<QQQ", need(position + 24), position)
        if id_length > MAX_ID_LENGTH:
            raise ScanError(f"bundle entry id of {id_length} bytes")
        position += 24
        ids.append(need(position + id_length)[position : position + id_length].decode("ascii", "replace"))
        position += id_length
        end = max(end, offset + size)
    return ids, max(end, position)


def compressed_header(data: bytes) -> tuple[int, int, int | None]:
    """(version, method, total size or None) of a CCOB header at the start of `data`."""
    if len(data) < 8:
        raise ScanError("compressed bundle header is cut short")
    version, method = struct.unpack_from("<HH", data, 4)
    if version not in CCOB_HEADER or method not in (ZLIB, ZSTD) or len(data) < CCOB_HEADER[version]:
        raise ScanError(f"unknown compressed bundle (version {version}, method {method})")
    total = None
    if version == 2:
        (total,) = struct.unpack_from("<I", data, 8)
    elif version == 3:
        (total,) = struct.unpack_from("<Q", data, 8)
    if total is not None and total < CCOB_HEADER[version]:
        raise ScanError(f"compressed bundle of {total} bytes")
    return version, method, total


def decompressed_prefix(method: int, payload: bytes | memoryview):
    """A `get(n)` over the decompressed payload that decodes no more than it has to: a real
    library's bundles hold megabytes each, and only their first bytes are read."""
    if method == ZSTD:
        reader, decoded = zstandard.ZstdDecompressor().stream_reader(payload), bytearray()

        def get_zstd(count: int) -> bytes:
            try:
                while len(decoded) < count:
                    chunk = reader.read(count - len(decoded))
                    if not chunk:
                        break
                    decoded.extend(chunk)
            except zstandard.ZstdError as error:
                raise ScanError(f"zstd payload: {error}") from error
            return bytes(decoded)

        return get_zstd
    inflater, out, unread = zlib.decompressobj(), bytearray(), [payload]

    def get_zlib(count: int) -> bytes:
        try:
            while len(out) < count and not inflater.eof:
                source = inflater.unconsumed_tail or (bytes(unread.pop()) if unread else b"")
                if not source:
                    break
                out.extend(inflater.decompress(source, 65536))
        except zlib.error as error:
            raise ScanError(f"zlib payload: {error}") from error
        return bytes(out)

    return get_zlib


def bundles_in(data: mmap.mmap | bytes, start: int, end: int) -> list[Bundle]:
    """Walk the bundles of a fat-binary section data[start:end]. Each bundle is found by its
    magic and skipped by its own size, so code objects are never searched for magics."""
    found: list[Bundle] = []
    position = start
    # Where each magic next occurs, searched again only once the walk has passed it: a section
    # of plain bundles has no CCOB at all, and searching the rest of a 600 MB section for it
    # at every bundle took minutes on tensorflow-rocm 2.14's library.
    not_searched, none_left = -2, -1
    next_at = {BUNDLE_MAGIC: not_searched, COMPRESSED_MAGIC: not_searched}
    while position < end:
        for magic, at in next_at.items():
            if at == not_searched or 0 <= at < position:
                next_at[magic] = data.find(magic, position, end)
        plain, packed = next_at[BUNDLE_MAGIC], next_at[COMPRESSED_MAGIC]
        candidates = [at for at in (plain, packed) if at != none_left]
        if not candidates:
            break
        at = min(candidates)
        if at == plain:
            ids, length = read_entries(lambda n, at=at: data[at : min(at + n, end)])
            found.append(Bundle(at, False, frozenset(filter(None, map(target_of, ids)))))
            position = at + max(length, len(BUNDLE_MAGIC))
            continue
        version, method, total = compressed_header(data[at : at + 32])
        header = CCOB_HEADER[version]
        if total is None:  # version 1 records no size: the payload runs to the next bundle
            following = [data.find(magic, at + header, end) for magic in (BUNDLE_MAGIC, COMPRESSED_MAGIC)]
            stop = min((x for x in following if x >= 0), default=end)
        else:
            stop = at + total
        if stop > end:
            raise ScanError(f"compressed bundle at {at} runs past its section")
        ids, _ = read_entries(decompressed_prefix(method, memoryview(data)[at + header : stop]))
        found.append(Bundle(at, True, frozenset(filter(None, map(target_of, ids)))))
        position = stop
    return found


def fatbin_section(path: Path) -> tuple[int, int] | None:
    """(offset, size) of a library's .hip_fatbin section in the file, or None without one."""
    with path.open("rb") as stream:
        try:
            elf = ELFFile(stream)
        except ELFError:
            return None
        section = elf.get_section_by_name(FATBIN_SECTION)
        if section is None:
            return None
        if section["sh_type"] == "SHT_NOBITS" or section["sh_offset"] + section["sh_size"] > elf.stream_len:
            raise ScanError(f"{FATBIN_SECTION} section has no data in the file")
        return section["sh_offset"], section["sh_size"]


def scan_library(path: Path) -> LibraryScan | None:
    """The bundles of one library, or None when it has no fat-binary section."""
    section = fatbin_section(path)
    if section is None:
        return None
    offset, size = section
    with path.open("rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return LibraryScan(str(path), bundles_in(data, offset, offset + size))


def shared_libraries(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.so*") if p.is_file() and not p.is_symlink() and ".so" in p.name)


def tensorflow_dir() -> Path | None:
    """Where the base's TensorFlow is installed; found without importing it."""
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def build_info(tf_dir: Path) -> dict:
    """tensorflow/python/platform/build_info.py's dict, read as data (never imported)."""
    path = tf_dir / "python" / "platform" / "build_info.py"
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError):
        return {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "build_info" for t in node.targets):
            value = node.value
            if isinstance(value, ast.Call) and value.args:  # collections.OrderedDict([...])
                value = value.args[0]
            try:
                return dict(ast.literal_eval(value))
            except (ValueError, TypeError):
                return {}
    return {}


def tensorflow_distribution(tf_dir: Path) -> importlib.metadata.Distribution | None:
    """The installed distribution that put TensorFlow in `tf_dir` (tensorflow-rocm, tensorflow, ...)."""
    found = {
        d.metadata["Name"].lower().replace("_", "-"): d
        for d in importlib.metadata.distributions(path=[str(tf_dir.parent)])
    }
    return next((found[name] for name in DISTRIBUTIONS if name in found), None)


def tensorflow_version(dist: importlib.metadata.Distribution | None) -> str:
    return f"{dist.metadata['Name']} {dist.version}" if dist is not None else "TensorFlow (version unknown)"


def tensorflow_id(dist: importlib.metadata.Distribution | None, libraries: list[Path]) -> str:
    """This TensorFlow build's identity: the sha256 of its wheel's RECORD (every file with its
    own hash), else of its libraries' names and sizes."""
    record = dist.read_text("RECORD") if dist is not None else None
    if record:
        return "sha256:" + hashlib.sha256(record.encode()).hexdigest()
    listing = "\n".join(f"{p.name} {p.stat().st_size}" for p in libraries)
    return "sha256:" + hashlib.sha256(listing.encode()).hexdigest()


def sort_key(target: str) -> tuple[int, str]:
    return (len(target), target)


@dataclass(frozen=True)
class Result:
    tensorflow: str
    tensorflow_id: str
    location: str
    rocm_build: bool
    targets: list[str]  # compiled for: kernels in every bundle
    partial: list[str]  # in some bundles only: not usable
    libraries: dict[str, dict]
    runtime_targets: list[str] | None  # XLA's kSupportedGfxVersions as found, or None
    runtime_source: str  # where it was read
    runtime_problem: str | None  # why it could not be read

    def as_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n"


def scan(tf_dir: Path) -> Result:
    libraries_here = shared_libraries(tf_dir)
    scans = [found for path in libraries_here if (found := scan_library(path)) is not None]
    bundles = [b for s in scans for b in s.bundles]
    every = frozenset.intersection(*(b.targets for b in bundles)) if bundles else frozenset()
    some = frozenset().union(*(b.targets for b in bundles))
    libraries = {
        str(Path(s.path).relative_to(tf_dir)): {
            "bundles": len(s.bundles),
            "compressed": sum(b.compressed for b in s.bundles),
            "targets": sorted(s.in_every_bundle, key=sort_key),
        }
        for s in scans
    }
    runtime = rocm_runtime_list.read(libraries_here, tf_dir)
    dist = tensorflow_distribution(tf_dir)
    return Result(
        tensorflow=tensorflow_version(dist),
        tensorflow_id=tensorflow_id(dist, libraries_here),
        location=str(tf_dir),
        rocm_build=build_info(tf_dir).get("is_rocm_build") is True,
        targets=sorted(every, key=sort_key),
        partial=sorted(some - every, key=sort_key),
        libraries=libraries,
        runtime_targets=list(runtime.names) if runtime.names is not None else None,
        runtime_source=runtime.source,
        runtime_problem=runtime.problem,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="where to write the result (JSON)")
    parser.add_argument("--require", action="store_true", help="fail when a ROCm TensorFlow has no GPU code")
    parser.add_argument("--tensorflow", type=Path, help="TensorFlow's package folder (default: find it)")
    args = parser.parse_args(argv)
    tf_dir = args.tensorflow or tensorflow_dir()
    if tf_dir is None or not tf_dir.is_dir():
        print("rocm_targets: ERROR: this base image has no TensorFlow for python3", file=sys.stderr)
        return 1
    try:
        result = scan(tf_dir)
    except (ScanError, rocm_runtime_list.ListError, ELFError, OSError, struct.error) as error:
        print(f"rocm_targets: ERROR: cannot read TensorFlow's GPU code in {tf_dir}: {error}", file=sys.stderr)
        return 1
    bundles = sum(lib["bundles"] for lib in result.libraries.values())
    compressed = sum(lib["compressed"] for lib in result.libraries.values())
    kind = "ROCm build" if result.rocm_build else "not a ROCm build"
    print(
        f"rocm_targets: {result.tensorflow} ({kind}) was compiled for: {' '.join(result.targets) or 'no GPU'} "
        f"({bundles} code-object bundles, {compressed} compressed, in {len(result.libraries)} libraries)"
    )
    if result.runtime_targets is not None:
        print(f"rocm_targets: it accepts at run time: {' '.join(result.runtime_targets)} ({result.runtime_source})")
    else:
        # Not fatal: the lab then learns the list the first time TensorFlow refuses a card.
        print(
            f"rocm_targets: WARNING: the list of GPUs it accepts at run time could not be read "
            f"({result.runtime_problem}); the GPU check will record it "
            "the first time TensorFlow refuses a card"
        )
    if result.partial:
        print(f"rocm_targets: WARNING: only some kernels exist for {' '.join(result.partial)}: not counted")
    if args.require and result.rocm_build and not result.targets:
        print(
            f"rocm_targets: ERROR: {result.tensorflow} is a ROCm build, but no GPU target has kernels in all of "
            f"its libraries ({bundles} bundles in {tf_dir}): this base cannot run on any AMD GPU; "
            "set LAB_ROCM_BASE_IMAGE to another rocm/tensorflow tag",
            file=sys.stderr,
        )
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(result.as_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
