"""Compress a `docker save` stream so that each layer is its own compressed frame, and say
what each layer costs compressed: the size a class downloads for the lab layer alone is then
read off the hand-out itself, in the same pass that writes it.

zstd frames and gzip members may follow each other in one file; a reader (`zstd -d`, Python's
gzip, Go's gzip reader in `docker load`) returns their contents joined, which is the
original tar stream byte for byte. Frame borders only cost a few bytes and reset the
compressor's window, which matters little between layers of different content.

The tar is read header by header (POSIX ustar: 512-byte blocks; a PAX 'x' header names the
next member): a member named `<id>/layer.tar` (Docker Engine before 25) or `blobs/sha256/<d>`
(the OCI layout newer engines write) is a layer; its SHA-256 is its diff ID.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Protocol

BLOCK = 512
CHUNK = 1 << 20


class Frame(Protocol):
    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Blob:
    name: str  # the member's name in the tar
    diff_id: str  # sha256:... of its bytes
    size: int
    compressed: int  # bytes of its frame


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


def _pax_path(data: bytes) -> str | None:
    for record in re.findall(rb"\d+ path=([^\n]*)\n", data):
        return record.decode("utf-8", "replace")
    return None


def is_layer(name: str) -> bool:
    return name.endswith("/layer.tar") or name.startswith("blobs/sha256/")


def pieces(read: Callable[[int], bytes]) -> Iterator[tuple[str | None, bytes]]:
    """The tar stream in order, as (layer member name or None, bytes). A layer's own bytes
    carry its name; headers, padding, other members and the end marker carry None."""
    next_name = None
    while True:
        header = read(BLOCK)
        if len(header) < BLOCK:
            header += _exact(read, BLOCK - len(header)) if header else b""
            if not header:
                return
        yield None, header
        if header == bytes(BLOCK):  # the end-of-archive blocks, and whatever follows
            while chunk := read(CHUNK):
                yield None, chunk
            return
        size, kind = _number(header[124:136]), header[156:157]
        padding = -size % BLOCK
        if kind in (b"x", b"g"):
            data = _exact(read, size)
            yield None, data + _exact(read, padding)
            next_name = _pax_path(data) if kind == b"x" else next_name
            continue
        name, next_name = next_name or _name(header), None
        label = name if kind in (b"0", b"\0") and is_layer(name) else None
        left = size
        while left:
            chunk = read(min(CHUNK, left))
            if not chunk:
                raise EOFError(f"the tar stream ended inside {name}")
            yield label, chunk
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
    read: Callable[[int], bytes], sink: IO[bytes], *, compression: str, level: int
) -> tuple[int, list[Blob]]:
    """Compress the tar stream from `read` into `sink`, one frame per layer (and one for each
    run of other bytes). Returns the uncompressed size and each layer's figures."""
    new_frame = FRAMES[compression]
    blobs: list[Blob] = []
    total = 0
    frame: Frame | None = None
    label: str | None = None
    digest = hashlib.sha256()
    size = 0
    started = 0

    def finish() -> None:
        nonlocal frame
        if frame is None:
            return
        frame.close()
        frame = None
        if label is not None:
            blobs.append(Blob(label, f"sha256:{digest.hexdigest()}", size, _position(sink) - started))

    for piece_label, data in pieces(read):
        if frame is None or piece_label != label:
            finish()
            label, digest, size, started = piece_label, hashlib.sha256(), 0, _position(sink)
            frame = new_frame(sink, level)
        frame.write(data)
        total += len(data)
        if label is not None:
            digest.update(data)
            size += len(data)
    finish()
    return total, blobs
