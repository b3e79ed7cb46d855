"""Remove files that a lab-layer package installs but nothing in the lab ever uses
(image/lab-layer-trim.txt), in the same build step that installed them, so they never reach
the image. Standard library only; run with the lab venv's python after the lock is installed.

    python layertrim.py TRIM_LIST

Each line of the list names a distribution and a path under the venv (`jupyterhub
share/jupyterhub`). The step refuses, in one line, rather than trim by guesswork:
- a distribution the lock did not install, or a path that distribution installed nothing
  under (the package changed: re-check what the lab needs before trimming it again);
- a file under that path which another package (or nobody) installed.
It deletes the files and drops them from the distribution's RECORD, so the installed
metadata lists exactly what is there (`pip show -f`, `pip uninstall` stay truthful).
"""

from __future__ import annotations

import csv
import io
import os
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

FIX = "Fix: re-check what the lab needs from it and update image/lab-layer-trim.txt."


@dataclass(frozen=True)
class Trim:
    distribution: str
    path: PurePosixPath  # relative to the venv (sys.prefix)


@dataclass(frozen=True)
class Plan:
    remove: tuple[str, ...]  # RECORD paths (as written there) of the files to delete
    foreign: tuple[str, ...]  # files on disk under the path that this distribution did not install


class TrimRefused(Exception):
    pass


def parse(text: str) -> list[Trim]:
    trims = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        path = PurePosixPath(parts[1]) if len(parts) == 2 else None
        if path is None or path.is_absolute() or ".." in path.parts or path == PurePosixPath("."):
            raise TrimRefused(f"line {number}: expected `DISTRIBUTION PATH-UNDER-THE-VENV`, got {raw.strip()!r}")
        trims.append(Trim(parts[0], path))
    return trims


def plan(*, target: Path, installed: dict[str, Path], on_disk: list[Path]) -> Plan:
    """Pure: which of a distribution's files (RECORD path -> resolved file) lie under `target`,
    and which files found under `target` are not among them."""
    inside = {record: path for record, path in installed.items() if path == target or target in path.parents}
    owned = set(inside.values())
    return Plan(
        remove=tuple(sorted(inside)),
        foreign=tuple(sorted(str(path) for path in on_disk if path not in owned)),
    )


def without(record_text: str, removed: set[str]) -> str:
    """The RECORD CSV without the rows of the removed files."""
    rows = [row for row in csv.reader(io.StringIO(record_text)) if row and row[0] not in removed]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def normal(path: Path) -> Path:
    # RECORD names data files relative to site-packages (../../../share/...): fold the `..`
    # without following symlinks, so both sides compare as the same spelling.
    return Path(os.path.normpath(path))


def files_under(target: Path) -> list[Path]:
    if target.is_file() or target.is_symlink():
        return [target]
    return [path for path in target.rglob("*") if path.is_file() or path.is_symlink()]


def apply(trim: Trim, *, prefix: Path, path: list[str] | None = None) -> tuple[int, int]:
    """Delete one trim's files (the distribution found on `path`, default sys.path); returns
    (files, bytes)."""
    dist = next(iter(metadata.distributions(name=trim.distribution, path=path or sys.path)), None)
    if dist is None:
        raise TrimRefused(f"{trim.distribution} is not installed, so there is nothing of it to trim. {FIX}")
    target = normal(prefix / trim.path)
    files = dist.files or []
    installed = {str(file): normal(Path(file.locate())) for file in files}
    found = plan(target=target, installed=installed, on_disk=[normal(path) for path in files_under(target)])
    if not found.remove:
        raise TrimRefused(f"{trim.distribution} installed nothing under {trim.path}. {FIX}")
    if found.foreign:
        raise TrimRefused(
            f"{trim.path} holds {len(found.foreign)} file(s) {trim.distribution} did not install "
            f"(first: {found.foreign[0]}). {FIX}"
        )
    size = 0
    for record in found.remove:
        path = installed[record]
        size += path.lstat().st_size
        path.unlink()
    if target.is_dir():
        for folder in sorted((p for p in target.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            folder.rmdir()
        target.rmdir()
    record_file = next(
        Path(file.locate()) for file in files if file.name == "RECORD" and file.parent.name.endswith(".dist-info")
    )
    record_file.write_text(without(record_file.read_text(), set(found.remove)))
    return len(found.remove), size


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    prefix = Path(sys.prefix)
    try:
        for trim in parse(Path(argv[0]).read_text()):
            files, size = apply(trim, prefix=prefix)
            print(
                f"lab layer: removed {trim.distribution}'s {trim.path}: {files} file(s), {size / 1e6:.1f} MB "
                "(image/lab-layer-trim.txt says why)"
            )
    except TrimRefused as refused:
        print(f"lab layer: trim refused: {refused}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
