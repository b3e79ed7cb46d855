"""Write a file so that a crash at any moment leaves the old version or the new one, never
a truncated mix: write a temporary file in the same folder, fsync it, rename it over the
target (rename within one filesystem is atomic).

The one writer of files for both sides: notebooks and course files in the container, the
generated token on the cache volume, and .env and reports on the host."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _current_umask() -> int:
    """Linux shows the umask in /proc/self/status; os.umask could only read it by setting
    it, which races with other threads (the Jupyter server has several)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


@contextmanager
def replacing(
    path: str | os.PathLike, *, text: bool = False, encoding: str = "utf-8", mode: int | None = None
) -> Iterator:
    """Yield a stream; on a clean exit its content replaces `path` in one step. The new file
    gets `mode`, else keeps the old one's permission bits (or gets the usual ones for a new
    file)."""
    target = Path(path)
    if target.is_symlink():
        target = target.parent / os.readlink(target)
    if mode is None:
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_current_umask()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".~{target.name}.", suffix=".tmp")
    try:
        options = {"encoding": encoding, "newline": "\n"} if text else {}
        with os.fdopen(handle, "w" if text else "wb", **options) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with replacing(path) as stream:
        stream.write(data)


def write_text(path: str | os.PathLike, text: str, *, mode: int | None = None) -> None:
    with replacing(path, text=True, mode=mode) as stream:
        stream.write(text)


def create_exclusive(path: str | os.PathLike, text: str, *, mode: int = 0o600) -> bool:
    """Create `path` with `text`, complete or not at all; False (and nothing written) when
    it exists already. A hard link of a finished temporary file is the atomic "create if
    absent": a reader never sees the file half-written, and of two racing writers one wins."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".~{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        try:
            os.link(temporary, target)
        except FileExistsError:
            return False
        return True
    finally:
        Path(temporary).unlink(missing_ok=True)
