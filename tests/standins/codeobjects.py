"""Test-only: GPU code objects in the formats a ROCm TensorFlow wheel carries them.

The ROCm stand-in bases cannot have real AMD GPU kernels (no ROCm compiler here), so this
writes what HIP's toolchain writes, byte for byte in layout:

- per target, an AMDGPU code object: an ELF64 header with EM_AMDGPU (224), OSABI
  ELFOSABI_AMDGPU_HSA (64), ABI version 3 (code object v5) and the processor in e_flags
  (EF_AMDGPU_MACH_*, LLVM's llvm/BinaryFormat/ELF.h), followed by filler "code";
- per translation unit, a clang offload bundle (`__CLANG_OFFLOAD_BUNDLE__`, entry count,
  then offset/size/id-length/id per entry; ids `host-x86_64-unknown-linux-gnu-` and
  `hipv4-amdgcn-amd-amdhsa--gfxNNNN`; code objects 4096-aligned as HIP bundles are), or
  the compressed form `--offload-compress` writes (magic `CCOB`, version, method, sizes,
  truncated MD5, zstd payload; clang/lib/Driver/OffloadBundler.cpp);
- all bundles back to back in a `.hip_fatbin` section appended to a real TensorFlow
  library, as the linker leaves them in the ROCm wheel's libraries;
- with --runtime-library, the run-time list AMD's build accepts: a library compiled by
  xla_lists.py (XLA's kSupportedGfxVersions, as the ROCm build lays it out, with code objects
  of its own), installed beside TensorFlow's and listed in the wheel's RECORD, while
  tensorflow-cpu's own copy of upstream XLA's list is retired (xla_lists.retire_symbol), so the
  image holds one list, as AMD's wheels do.

    python3 codeobjects.py install --tensorflow DIR --targets "gfx908 ..." --libraries a.so,b.so
                                   --units N --format plain|ccob2|ccob3 [--rocm-build-info]
                                   [--runtime-library FILE]
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import shutil
import struct
import zlib
from pathlib import Path

BUNDLE_MAGIC = b"__CLANG_OFFLOAD_BUNDLE__"
HOST_ID = "host-x86_64-unknown-linux-gnu-"
ALIGNMENT = 4096
EM_AMDGPU = 224
ELFOSABI_AMDGPU_HSA = 64
ELFABIVERSION_AMDGPU_HSA_V5 = 3
# EF_AMDGPU_MACH_* from LLVM's llvm/include/llvm/BinaryFormat/ELF.h.
MACH = {
    "gfx900": 0x02C, "gfx906": 0x02F, "gfx908": 0x030, "gfx90a": 0x03F, "gfx90c": 0x032,
    "gfx940": 0x040, "gfx941": 0x04B, "gfx942": 0x04C, "gfx950": 0x04F,
    "gfx1010": 0x033, "gfx1030": 0x036, "gfx1031": 0x037, "gfx1032": 0x038, "gfx1035": 0x03D,
    "gfx1100": 0x041, "gfx1101": 0x046, "gfx1102": 0x047, "gfx1103": 0x044,
    "gfx1150": 0x043, "gfx1151": 0x04A, "gfx1200": 0x048, "gfx1201": 0x04E,
}  # fmt: skip
SHT_PROGBITS = 1


def filler(seed: str, size: int) -> bytes:
    """Deterministic bytes that compress about as well as machine code does."""
    out, counter = bytearray(), 0
    while len(out) < size:
        digest = hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        out += digest[:8] + bytes(digest[8] & 0x1F for _ in range(24))  # repetitive, like ISA
        counter += 1
    return bytes(out[:size])


def code_object(processor: str, unit: int) -> bytes:
    header = bytearray(64)
    header[:4] = b"\x7fELF"
    header[4:9] = bytes([2, 1, 1, ELFOSABI_AMDGPU_HSA, ELFABIVERSION_AMDGPU_HSA_V5])
    struct.pack_into("<HHI", header, 16, 3, EM_AMDGPU, 1)  # ET_DYN, machine, version
    struct.pack_into("<I", header, 48, MACH[processor])  # e_flags
    struct.pack_into("<H", header, 52, 64)  # e_ehsize
    return bytes(header) + filler(f"{processor}:{unit}", 2048 + 512 * (unit % 4))


def bundle(entries: list[tuple[str, bytes]]) -> bytes:
    """An uncompressed clang offload bundle of these (id, code object) entries."""
    header_size = len(BUNDLE_MAGIC) + 8 + sum(24 + len(entry_id) for entry_id, _ in entries)
    offset = header_size
    table, blobs = bytearray(), bytearray()
    for entry_id, data in entries:
        if data:
            padded = -offset % ALIGNMENT
            blobs += bytes(padded)
            offset += padded
        table += struct.pack("<QQQ", offset, len(data), len(entry_id)) + entry_id.encode()
        blobs += data
        offset += len(data)
    return BUNDLE_MAGIC + struct.pack("<Q", len(entries)) + bytes(table) + bytes(blobs)


def hip_bundle(targets: list[str], unit: int) -> bytes:
    entries = [(HOST_ID, b"")] + [(f"hipv4-amdgcn-amd-amdhsa--{t}", code_object(t, unit)) for t in targets]
    return bundle(entries)


def compressed(data: bytes, *, version: int, method: str = "zstd", level: int = 19) -> bytes:
    """The CCOB form of a bundle, as clang-offload-bundler --compress writes it."""
    if method == "zstd":
        import zstandard  # test-only dependency (requirements-dev.txt, or installed by the stand-in build)

        payload, method_id = zstandard.ZstdCompressor(level=level).compress(data), 1
    else:
        payload, method_id = zlib.compress(data, 9), 0
    truncated_md5 = int.from_bytes(hashlib.md5(data).digest()[:8], "little")  # noqa: S324 - the format's hash
    if version == 1:
        sizes = struct.pack("<I", len(data))
    elif version == 2:
        sizes = struct.pack("<II", 4 + 2 + 2 + 4 + 4 + 8 + len(payload), len(data))
    else:
        sizes = struct.pack("<QQ", 4 + 2 + 2 + 8 + 8 + 8 + len(payload), len(data))
    return b"CCOB" + struct.pack("<HH", version, method_id) + sizes + struct.pack("<Q", truncated_md5) + payload


def fatbin(bundles: list[bytes]) -> bytes:
    """The .hip_fatbin section of a linked library: each unit's bundle, 4096-aligned."""
    out = bytearray()
    for item in bundles:
        out += bytes(-len(out) % ALIGNMENT) + item
    return bytes(out)


def add_section(path: Path, name: str, data: bytes) -> None:
    """Append a non-loaded section to a 64-bit little-endian ELF file in place.

    Only bytes at the end change, plus the header's section-table fields: the loader reads
    program headers, never section headers, so the library still loads as before."""
    with path.open("r+b") as stream:
        elf = stream.read(64)
        assert elf[:4] == b"\x7fELF" and elf[4] == 2 and elf[5] == 1, f"{path} is not ELF64 LE"
        (shoff,) = struct.unpack_from("<Q", elf, 0x28)
        entsize, count, names_index = struct.unpack_from("<HHH", elf, 0x3A)
        stream.seek(shoff)
        table = bytearray(stream.read(entsize * count))
        names_header = list(struct.unpack_from("<IIQQQQIIQQ", table, names_index * entsize))
        stream.seek(names_header[4])
        names = stream.read(names_header[5])

        stream.seek(0, io.SEEK_END)
        end = stream.tell()
        data_offset = end + (-end % ALIGNMENT)
        stream.write(bytes(data_offset - end) + data)
        new_names = names + name.encode() + b"\0"
        names_offset = stream.tell()
        stream.write(new_names)
        names_header[4], names_header[5] = names_offset, len(new_names)
        struct.pack_into("<IIQQQQIIQQ", table, names_index * entsize, *names_header)
        table += struct.pack("<IIQQQQIIQQ", len(names), SHT_PROGBITS, 0, 0, data_offset, len(data), 0, 0, ALIGNMENT, 0)
        table_offset = stream.tell() + (-stream.tell() % 8)
        stream.write(bytes(table_offset - stream.tell()) + bytes(table))
        stream.seek(0x28)
        stream.write(struct.pack("<Q", table_offset))
        stream.seek(0x3C)
        stream.write(struct.pack("<H", count + 1))


def refresh_record(tf_dir: Path, changed: list[Path]) -> None:
    """Keep pip's RECORD true for files this script changed or added (size and sha256)."""
    site = tf_dir.parent
    for record in site.glob("tensorflow*.dist-info/RECORD"):
        rows = list(csv.reader(record.read_text().splitlines()))
        listed = {site / row[0] for row in rows}
        rows += [[str(path.relative_to(site)), "", ""] for path in changed if path not in listed]
        for row in rows:
            path = site / row[0]
            if path in changed:
                digest = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()
                row[1], row[2] = f"sha256={digest}", str(path.stat().st_size)
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        record.write_text(text.getvalue())


def rocm_build_info(tf_dir: Path) -> Path:
    """build_info.py as a ROCm wheel has it: is_rocm_build True (tf.sysconfig.get_build_info)."""
    path = tf_dir / "python" / "platform" / "build_info.py"
    text = path.read_text()
    assert "('is_rocm_build', False)" in text, "unexpected build_info.py"
    path.write_text(text.replace("('is_rocm_build', False)", "('is_rocm_build', True)"))
    return path


# Where the stand-in puts AMD's run-time list: a name no TensorFlow wheel has, so that it is
# plainly the stand-in's.
RUNTIME_LIBRARY = "libxla_rocm_standin.so"


def install(args: argparse.Namespace) -> None:
    tf_dir = Path(args.tensorflow)
    targets = args.targets.split()
    changed = []
    libraries = args.libraries.split(",")
    if args.runtime_library:
        import xla_lists  # beside this file in the stand-in's build context

        for library in sorted(tf_dir.rglob("*.so*")):
            if library.is_file() and xla_lists.retire_symbol(library):
                changed.append(library)
                print(f"codeobjects: {library.relative_to(tf_dir)}: upstream XLA's kSupportedGfxVersions retired")
        shutil.copy(args.runtime_library, tf_dir / RUNTIME_LIBRARY)
        libraries.append(RUNTIME_LIBRARY)
    for index, library in enumerate(libraries):
        units = [hip_bundle(targets, unit) for unit in range(args.units >> index or 1)]
        if args.format != "plain":
            units = [compressed(unit, version=int(args.format[-1])) for unit in units]
        path = tf_dir / library
        add_section(path, ".hip_fatbin", fatbin(units))
        changed.append(path)
        print(f"codeobjects: {library}: {len(units)} {args.format} bundles for {' '.join(targets)}")
    if args.rocm_build_info:
        changed.append(rocm_build_info(tf_dir))
    refresh_record(tf_dir, list(dict.fromkeys(changed)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    command = sub.add_parser("install", help="add GPU code objects to an installed TensorFlow")
    command.add_argument("--tensorflow", required=True)
    command.add_argument("--targets", required=True)
    command.add_argument("--libraries", required=True, help="comma-separated, relative to --tensorflow")
    command.add_argument("--units", type=int, default=64, help="bundles in the first library (halved per next)")
    command.add_argument("--format", choices=["plain", "ccob2", "ccob3"], default="plain")
    command.add_argument("--rocm-build-info", action="store_true")
    command.add_argument("--runtime-library", help="a library from xla_lists.build_library: AMD's run-time list")
    install(parser.parse_args())


if __name__ == "__main__":
    main()
