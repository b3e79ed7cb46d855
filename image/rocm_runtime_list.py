"""The GPU targets TensorFlow-ROCm accepts at run time, read from its own libraries.

TensorFlow refuses a card ("Ignoring visible gpu device ... The supported AMDGPU versions are
...") unless its target is on XLA's list `stream_executor::RocmComputeCapability::
kSupportedGfxVersions`, whatever kernels were compiled in. How that list sits in the binary
(read from real wheels: tensorflow-cpu 2.18.1 and 2.20.0 carry it too, in
libtensorflow_cc.so.2):

- The source: `static constexpr absl::string_view kSupportedGfxVersions[]{"gfx900", ...};`, a
  member of RocmComputeCapability (xla/stream_executor/device_description.h, moved to
  rocm/rocm_compute_capability.h in 2025). Inline functions of that header use it, so every
  library that calls them holds a copy, a weak OBJECT symbol
  `_ZN15stream_executor21RocmComputeCapability21kSupportedGfxVersionsE`, exported in the
  dynamic symbol table by TensorFlow's version scripts (`*stream_executor*`).
- Each element is a string view: two 64-bit words, the length and a pointer in libstdc++'s
  std::string_view (absl::string_view is that under C++17), the pointer first in absl's own
  and libc++'s. The array sits in .data.rel.ro; the pointers are run-time relocations
  (R_X86_64_RELATIVE, the string's address in the addend; lld, which ROCm's TensorFlow build
  links with, leaves zeros in the array itself, GNU ld and RELR tables keep the address there).
- The strings are in .rodata among every other literal. Other lists of the same class sit
  beside them (kGfx11Rx7900 holds gfx1102 where kSupportedGfxVersions does not), so the list is
  found by its symbol, never by looking for gfx names.

A build whose list cannot be read this way (no such symbol, copies that disagree, another
layout) is reported as such: the lab then uses what TensorFlow printed when it refused a card.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

SYMBOL = "_ZN15stream_executor21RocmComputeCapability21kSupportedGfxVersionsE"
SYMBOL_SHOWN = "stream_executor::RocmComputeCapability::kSupportedGfxVersions"
R_X86_64_RELATIVE = 8
STRING_VIEW = 16  # bytes per element: a 64-bit length and a 64-bit pointer
# An element's text: one gfx name, or several glued together (tensorflow-rocm 2.14.0.600 lost
# a comma in its source, so the compiler joined "gfx1030" "gfx1100" into one literal).
ENTRY = re.compile(rb"(?:gfx[0-9a-z]+(?:-[0-9a-z]+)*)+")
MAX_ENTRY = 64


class ListError(Exception):
    """A library holds the symbol, but not as the array of names XLA's source declares."""


@dataclass(frozen=True)
class Copy:
    library: str
    names: tuple[str, ...]


def defined_symbol(elf: ELFFile, name: str):
    """A symbol this library defines in its dynamic symbol table, found through its hash table
    (TensorFlow's .dynsym has hundreds of thousands of entries), or None."""
    for kind in ("SHT_GNU_HASH", "SHT_HASH"):
        for table in elf.iter_sections(type=kind):
            symbol = table.get_symbol(name)
            return symbol if symbol is not None and symbol["st_shndx"] != "SHN_UNDEF" else None
    for table in elf.iter_sections(type="SHT_DYNSYM"):
        for symbol in table.get_symbol_by_name(name) or []:
            if symbol["st_shndx"] != "SHN_UNDEF":
                return symbol
    return None


def read_at(elf: ELFFile, address: int, size: int) -> bytes | None:
    """`size` bytes at a virtual address, from the segment the loader maps there."""
    for offset in elf.address_offsets(address, size):
        elf.stream.seek(offset)
        data = elf.stream.read(size)
        return data if len(data) == size else None
    return None


def relative_addends(elf: ELFFile, start: int, end: int) -> dict[int, int]:
    """{address: the address it is relocated to} for R_X86_64_RELATIVE entries in [start, end).
    The entries are read with struct, not one Python object each through pyelftools: TensorFlow's
    .rela.dyn holds about 700,000 of them (seconds against minutes)."""
    found: dict[int, int] = {}
    for section in elf.iter_sections(type="SHT_RELA"):
        if not section["sh_flags"] & 0x2:  # SHF_ALLOC: loaded, so the dynamic loader applies it
            continue
        elf.stream.seek(section["sh_offset"])
        data = elf.stream.read(section["sh_size"])
        usable = len(data) - len(data) % 24
        for offset, info, addend in struct.iter_unpack("<QQq", memoryview(data)[:usable]):
            if start <= offset < end and info & 0xFFFFFFFF == R_X86_64_RELATIVE:
                found[offset] = addend
    return found


def names_in(elf: ELFFile, symbol) -> tuple[str, ...]:
    """The strings of one string-view array, in order."""
    address, size = symbol["st_value"], symbol["st_size"]
    if size == 0 or size % STRING_VIEW:
        raise ListError(f"{SYMBOL_SHOWN} is {size} bytes, not an array of string views")
    raw = read_at(elf, address, size)
    if raw is None:
        raise ListError(f"{SYMBOL_SHOWN} lies outside the library's loaded segments")
    relocated = relative_addends(elf, address, address + size)
    words = [struct.unpack_from("<Q", raw, at)[0] for at in range(0, size, 8)]

    def decode(length_at: int, pointer_at: int) -> tuple[str, ...] | None:
        names = []
        for element in range(0, size, STRING_VIEW):
            length = words[(element + length_at) // 8]
            slot = address + element + pointer_at
            pointer = relocated.get(slot, words[(element + pointer_at) // 8])
            if not 0 < length <= MAX_ENTRY or pointer == 0:
                return None
            text = read_at(elf, pointer, length)
            if text is None or not ENTRY.fullmatch(text):
                return None
            names.append(text.decode("ascii"))
        return tuple(names)

    # libstdc++'s std::string_view (length, pointer) first: what TensorFlow's Linux builds use.
    layouts = [names for names in (decode(0, 8), decode(8, 0)) if names is not None]
    if len(layouts) != 1:
        raise ListError(f"{SYMBOL_SHOWN} does not hold gfx names as string views")
    return layouts[0]


def copy_in(path: Path) -> Copy | None:
    """The list one library defines, or None when it defines none (or is not an ELF file)."""
    with path.open("rb") as stream:
        try:
            elf = ELFFile(stream)
        except ELFError:
            return None
        if elf.elfclass != 64 or not elf.little_endian or elf["e_machine"] != "EM_X86_64":
            return None
        try:
            symbol = defined_symbol(elf, SYMBOL)
            return Copy(str(path), names_in(elf, symbol)) if symbol is not None else None
        except (ELFError, struct.error) as error:
            raise ListError(f"{path.name}: {error}") from error


@dataclass(frozen=True)
class RuntimeList:
    names: tuple[str, ...] | None  # None: not read (`problem` says why)
    source: str
    problem: str | None = None


def read(libraries: list[Path], root: Path) -> RuntimeList:
    """The list from TensorFlow's libraries: every copy must say the same."""
    copies: list[Copy] = []
    for library in libraries:
        try:
            found = copy_in(library)
        except ListError as error:
            return RuntimeList(None, "", f"{library.relative_to(root)}: {error}")
        if found is not None:
            copies.append(found)
    if not copies:
        return RuntimeList(None, "", f"no library of this TensorFlow defines {SYMBOL_SHOWN}")
    where = ", ".join(str(Path(c.library).relative_to(root)) for c in copies)
    if len({c.names for c in copies}) > 1:
        listed = "; ".join(f"{Path(c.library).relative_to(root)}: {' '.join(c.names)}" for c in copies)
        return RuntimeList(None, "", f"the copies of {SYMBOL_SHOWN} differ ({listed})")
    return RuntimeList(copies[0].names, f"{SYMBOL_SHOWN} in {where}")
