"""Every file of a `docker save` archive, read once as it streams past: its SHA-256 and size
and, for a compressed layer, the SHA-256 and size of what it decompresses to (its diff ID and
its unpacked size); the small JSON files (manifest.json, index.json, oci-layout, image
configurations, OCI manifests and indexes) are kept to be read by labhost.dockerload.

Which files are layers only manifest.json and index.json say, and they come last in the
stream, so every file is digested as if it could be one. Layers are stored uncompressed by
the default image store and compressed (gzip, from a registry maybe zstd) by the containerd
image store; the compression is read from the file's first bytes, as Docker's own
DecompressStream does. zstd is read through the `zstd` program (Python 3.9 has no zstd).

Names are read the way both loaders read them: cleaned (`./a//b` is `a/b`); an absolute name,
one that climbs out with `..`, two files of the same name, a hard link or a device is refused,
since the default store (which unpacks to a folder) and containerd (which keys blobs by name)
would not read it the same way.
"""

from __future__ import annotations

import hashlib
import posixpath
import shutil
import subprocess
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from labhost import framing

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# containerd reads at most 20 MiB of manifest.json and oci-layout; configs and manifests are
# far smaller. What is kept in memory in all stays under KEPT_LIMIT.
JSON_LIMIT = 20 * 1024 * 1024
KEPT_LIMIT = 256 * 1024 * 1024
CHUNK = framing.CHUNK
METADATA = ("manifest.json", "index.json", "oci-layout", "repositories")


@dataclass(frozen=True)
class Member:
    name: str  # cleaned
    kind: str  # file or symlink (directories are not recorded)
    size: int
    digest: str = ""  # sha256:... of the file's bytes
    # sha256:... and length of the bytes it decompresses to (the same as above when it is
    # not compressed); "" when they could not be read (compression names why).
    content_digest: str = ""
    unpacked: int = 0
    compression: str = "none"  # none, gzip, zstd, or "unreadable: <why>"
    data: bytes | None = None  # kept for small JSON files
    target: str = ""  # a symlink's target, resolved against its folder and cleaned


@dataclass
class Scan:
    members: dict[str, Member] = field(default_factory=dict)
    problem: str | None = None  # why no engine would read the stream as we did
    total: int = 0  # bytes of the tar stream


def clean(name: str) -> str | None:
    """`name` as both loaders see it, or None when it is absolute or climbs out."""
    if not name or name.startswith("/"):
        return None
    cleaned = posixpath.normpath(name)
    if cleaned == ".." or cleaned.startswith("../"):
        return None
    return cleaned


class _ZstdDigest:
    """Feeds `zstd -dc` and hashes what comes out, on a thread (the pipe would block)."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self.process = subprocess.Popen(
            ["zstd", "-q", "-dc"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        while chunk := self.process.stdout.read(CHUNK):
            self.digest.update(chunk)
            self.size += len(chunk)

    def update(self, data: bytes) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(data)
        except BrokenPipeError:
            pass  # zstd gave up on bad data; finish() reports it

    def finish(self) -> bool:
        assert self.process.stdin is not None
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        self.reader.join()
        return self.process.wait() == 0


class _GzipDigest:
    """Hashes what a gzip file decompresses to; several gzip members follow each other as
    Go's reader (multistream) reads them."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self.inflater = zlib.decompressobj(wbits=31)
        self.broken = False

    def update(self, data: bytes) -> None:
        while data and not self.broken:
            try:
                out = self.inflater.decompress(data, CHUNK)
            except zlib.error:
                self.broken = True
                return
            self.digest.update(out)
            self.size += len(out)
            data = self.inflater.unconsumed_tail
            if self.inflater.eof:
                data = self.inflater.unused_data + data
                if data:
                    if not data.startswith(GZIP_MAGIC[: len(data)]):
                        self.broken = True  # Go's reader refuses what follows a member
                        return
                    self.inflater = zlib.decompressobj(wbits=31)

    def finish(self) -> bool:
        return not self.broken and self.inflater.eof and not self.inflater.unconsumed_tail


class _Reading:
    """One regular file being read."""

    def __init__(self, name: str, size: int) -> None:
        self.name, self.size = name, size
        self.digest = hashlib.sha256()
        self.head = b""  # the first bytes, until the compression is known
        self.inner: _GzipDigest | _ZstdDigest | None = None
        self.compression: str | None = None
        self.kept: bytearray | None = None

    def _decide(self, head: bytes, kept_room: int) -> None:
        if head.startswith(GZIP_MAGIC):
            self.compression, self.inner = "gzip", _GzipDigest()
        elif head.startswith(ZSTD_MAGIC):
            if shutil.which("zstd") is None:
                self.compression = "unreadable: zstd is not installed"
            else:
                self.compression, self.inner = "zstd", _ZstdDigest()
        else:
            self.compression = "none"
            looks_json = head.lstrip(b" \t\r\n")[:1] in (b"{", b"[")
            if (looks_json or posixpath.basename(self.name) in METADATA) and self.size <= min(JSON_LIMIT, kept_room):
                self.kept = bytearray()

    def update(self, data: bytes, kept_room: int) -> None:
        self.digest.update(data)
        if self.compression is None:
            self.head += data
            if len(self.head) < 4 and len(self.head) < self.size:
                return
            data, self.head = self.head, b""
            self._decide(data, kept_room)
        if self.inner is not None:
            self.inner.update(data)
        if self.kept is not None:
            self.kept += data

    def finish(self, kept_room: int) -> Member:
        if self.compression is None:  # shorter than 4 bytes
            data, self.head = self.head, b""
            self._decide(data, kept_room)
            if self.kept is not None:
                self.kept += data
        digest = f"sha256:{self.digest.hexdigest()}"
        compression = self.compression or "none"
        if self.inner is None:
            content, unpacked = ("" if compression.startswith("unreadable") else digest), self.size
        elif self.inner.finish():
            content, unpacked = f"sha256:{self.inner.digest.hexdigest()}", self.inner.size
        else:
            content, unpacked, compression = "", 0, f"unreadable: not valid {compression} data"
        data = bytes(self.kept) if self.kept is not None else None
        return Member(self.name, "file", self.size, digest, content, unpacked, compression, data)


class Scanner:
    """Feed it framing.pieces' (entry, bytes) in order; `finish` gives the Scan."""

    def __init__(self) -> None:
        self.scan = Scan()
        self.current: framing.Entry | None = None
        self.reading: _Reading | None = None
        self.kept = 0

    def _refuse(self, problem: str) -> None:
        if self.scan.problem is None:
            self.scan.problem = problem

    def _close_member(self) -> None:
        if self.reading is not None:
            member = self.reading.finish(KEPT_LIMIT - self.kept)
            self.kept += len(member.data or b"")
            self._add(member)
        self.reading, self.current = None, None

    def _add(self, member: Member) -> None:
        if member.name in self.scan.members:
            self._refuse(f"two files named {member.name}")
        self.scan.members[member.name] = member

    def _open_member(self, entry: framing.Entry) -> None:
        self.current = entry
        name = clean(entry.name)
        if name is None:
            self._refuse(f"a file named {entry.name!r} outside the archive")
            return
        if entry.kind == "file":
            self.reading = _Reading(name, entry.size)
        elif entry.kind == "symlink":
            target = clean(posixpath.join(posixpath.dirname(name), entry.link)) if entry.link[:1] != "/" else None
            if target is None:
                self._refuse(f"a link {name} pointing outside the archive")
                return
            self._add(Member(name, "symlink", 0, target=target))
        elif entry.kind != "directory":
            self._refuse(f"{name} is a {entry.kind} entry, which docker save never writes")

    def feed(self, entry: framing.Entry | None, data: bytes) -> None:
        self.scan.total += len(data)
        if entry is not self.current:
            self._close_member()
            if entry is not None:
                self._open_member(entry)
        if self.reading is not None and data:
            self.reading.update(data, KEPT_LIMIT - self.kept)

    def finish(self) -> Scan:
        self._close_member()
        return self.scan


def scan_stream(read: Callable[[int], bytes], on_piece: Callable | None = None) -> Scan:
    """Read a whole tar stream; a stream no engine would read is a Scan with a problem."""
    scanner = Scanner()
    try:
        for entry, data in framing.pieces(read):
            scanner.feed(entry, data)
            if on_piece is not None:
                on_piece(entry, data)
    except (EOFError, framing.TarError) as error:
        scan = scanner.finish()
        scan.problem = str(error) or "the tar stream ended early"
        return scan
    return scanner.finish()
