"""Compress a `docker save` stream so that each blob (layer, config, manifest) is its own
compressed frame, and say what each costs compressed: the size a class downloads for the lab
layer alone is then read off the hand-out itself, in the same pass that writes it.

zstd frames and gzip members may follow each other in one file; a reader (`zstd -d`, Python's
gzip, Go's gzip reader in `docker load`) returns their contents joined, which is the
original tar stream byte for byte. Frame borders only cost a few bytes and reset the
compressor's window, which matters little between layers of different content.

The tar is read header by header (POSIX ustar: 512-byte blocks; a PAX 'x' header names the
next member), checking each header's checksum as Go's archive/tar (what `docker load` reads
with) does. `pieces` labels every member's bytes with its header (labhost.archivescan reads
them); a member named `<id>/layer.tar` (Docker Engine before 25) or `blobs/sha256/<d>` (the
OCI layout newer engines write) gets its own frame. Which blobs are the image's layers only
manifest.json says (labhost.dockerload), at the end of the stream.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Protocol

BLOCK = 512
CHUNK = 1 << 20
# Typeflags: regular file ('0', or NUL in old tars), hard link, symlink, directory.
KINDS = {b"0": "file", b"\0": "file", b"1": "hardlink", b"2": "symlink", b"5": "directory"}


class Frame(Protocol):
    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Entry:
    """One tar member, as its header says."""

    name: str
    kind: str  # file, symlink, directory, hardlink, or other (devices, GNU extensions, ...)
    size: int
    link: str = ""  # a link's target, as written


class TarError(ValueError):
    """The stream is not a tar that Go's archive/tar (docker load) would read the same way."""


def _exact(read: Callable[[int], bytes], count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = read(count - len(data))
        if not chunk:
            raise EOFError(f"the tar stream ended {count - len(data)} bytes early")
        data += chunk
    return data


def _number(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # GNU/Go base-256, for members over 8 GiB
        return int.from_bytes(field[1:], "big")
    text = field.rstrip(b"\0 ").strip()
    return int(text, 8) if text else 0


def _name(header: bytes) -> str:
    name = header[0:100].split(b"\0", 1)[0].decode("utf-8", "replace")
    if header[257:262] == b"ustar":
        prefix = header[345:500].split(b"\0", 1)[0].decode("utf-8", "replace")
        if prefix:
            name = f"{prefix}/{name}"
    return name


def _pax_records(data: bytes) -> dict[str, str]:
    records = {}
    for key, value in re.findall(rb"\d+ ([^=\n]+)=([^\n]*)\n", data):
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return records


def _checksum_ok(header: bytes) -> bool:
    try:
        recorded = _number(header[148:156])
    except ValueError:
        return False
    unsigned = sum(header[:148]) + 8 * 32 + sum(header[156:])
    return recorded == unsigned


def is_blob(name: str) -> bool:
    """A member that gets its own frame: a layer or a blob of the OCI layout."""
    return name.endswith("/layer.tar") or name.startswith("blobs/sha256/")


def pieces(read: Callable[[int], bytes]) -> Iterator[tuple[Entry | None, bytes]]:
    """The tar stream in order, as (member or None, bytes). A member's own bytes carry its
    Entry (a member without bytes yields its Entry once with b""); headers, padding and the
    end marker carry None. Raises EOFError when the stream ends early and TarError on a
    header Go's reader refuses or on data after the end marker."""
    pax: dict[str, str] = {}
    while True:
        header = read(BLOCK)
        if len(header) < BLOCK:
            header += _exact(read, BLOCK - len(header)) if header else b""
            if not header:
                raise EOFError("the tar stream has no end marker")
        yield None, header
        if header == bytes(BLOCK):  # the end-of-archive blocks
            while chunk := read(CHUNK):
                if chunk.strip(b"\0"):
                    raise TarError("data after the end of the tar archive")
                yield None, chunk
            return
        if not _checksum_ok(header):
            raise TarError("a tar header with a wrong checksum")
        try:
            size, kind = _number(header[124:136]), header[156:157]
        except ValueError:
            raise TarError("a tar header with an unreadable size") from None
        padding = -size % BLOCK
        if kind in (b"x", b"g"):
            data = _exact(read, size)
            yield None, data + _exact(read, padding)
            if kind == b"x":
                pax = _pax_records(data)
            continue
        name = pax.get("path") or _name(header)
        link = pax.get("linkpath") or header[157:257].split(b"\0", 1)[0].decode("utf-8", "replace")
        size = int(pax["size"]) if pax.get("size", "").isdigit() else size
        padding = -size % BLOCK
        pax = {}
        entry = Entry(name, KINDS.get(kind, "other"), size, link)
        if not size:
            yield entry, b""
        left = size
        while left:
            chunk = read(min(CHUNK, left))
            if not chunk:
                raise EOFError(f"the tar stream ended inside {name}")
            yield entry, chunk
            left -= len(chunk)
        if padding:
            yield None, _exact(read, padding)


def _position(sink: IO[bytes]) -> int:
    sink.flush()
    return os.lseek(sink.fileno(), 0, os.SEEK_CUR)


class ZstdFrame:
    def __init__(self, sink: IO[bytes], level: int) -> None:
        sink.flush()
        self.process = subprocess.Popen(["zstd", "-q", "-T0", f"-{level}", "-c"], stdin=subprocess.PIPE, stdout=sink)

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        if self.process.wait() != 0:
            raise OSError(f"zstd exited {self.process.returncode}")


class GzipFrame:
    def __init__(self, sink: IO[bytes], level: int) -> None:
        # mtime=0: the same image gives the same file, whenever it is exported.
        self.stream = gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=level, mtime=0)

    def write(self, data: bytes) -> None:
        self.stream.write(data)

    def close(self) -> None:
        self.stream.close()  # ends this gzip member; the sink stays open


FRAMES: dict[str, Callable[[IO[bytes], int], Frame]] = {"zstd": ZstdFrame, "gzip": GzipFrame}


def write_framed(
    read: Callable[[int], bytes],
    sink: IO[bytes],
    *,
    compression: str,
    level: int,
    on_piece: Callable[[Entry | None, bytes], None] | None = None,
) -> tuple[int, dict[str, int]]:
    """Compress the tar stream from `read` into `sink`, one frame per blob (and one for each
    run of other bytes), handing every piece to `on_piece` too (labhost.archivescan reads the
    same pass). Returns the uncompressed size and each blob's compressed size, by member name."""
    new_frame = FRAMES[compression]
    compressed: dict[str, int] = {}
    total = 0
    frame: Frame | None = None
    label: str | None = None
    started = 0

    def finish() -> None:
        nonlocal frame
        if frame is None:
            return
        frame.close()
        frame = None
        if label is not None:
            compressed[label] = _position(sink) - started

    for entry, data in pieces(read):
        if on_piece is not None:
            on_piece(entry, data)
        piece_label = entry.name if entry is not None and entry.kind == "file" and is_blob(entry.name) else None
        if frame is None or piece_label != label:
            finish()
            label, started = piece_label, _position(sink)
            frame = new_frame(sink, level)
        frame.write(data)
        total += len(data)
    finish()
    return total, compressed
