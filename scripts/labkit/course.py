"""Course material from the image reaches the student's work folder without ever
overwriting what the student changed.

The plan is a pure function of three hash maps: what the image ships, what the work folder
holds, and what was last delivered (a manifest kept beside the copies). A file is copied
when it is missing, updated only when the student's copy is exactly what was delivered
before, and otherwise left alone.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from labkit import atomic

MANIFEST_NAME = ".course-manifest.json"


@dataclass(frozen=True)
class Action:
    kind: str  # "copy" (missing), "update" (unchanged by the student), "keep" (student edited)
    path: str  # relative to the course folder


def plan_sync(course: dict[str, str], work: dict[str, str], delivered: dict[str, str]) -> list[Action]:
    actions = []
    for path, course_hash in sorted(course.items()):
        work_hash = work.get(path)
        if work_hash is None:
            actions.append(Action("copy", path))
        elif work_hash == course_hash:
            continue
        elif delivered.get(path) == work_hash:
            actions.append(Action("update", path))
        else:
            actions.append(Action("keep", path))
    return actions


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hash_tree(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    hashes = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and relative != MANIFEST_NAME and ".ipynb_checkpoints" not in path.parts:
            hashes[relative] = file_hash(path)
    return hashes


def sync(source: Path, destination: Path) -> list[Action]:
    """Bring `source` (the image's course folder) into `destination` (the student's)."""
    course = hash_tree(source)
    work = hash_tree(destination)
    manifest_path = destination / MANIFEST_NAME
    try:
        delivered = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        delivered = {}
    actions = plan_sync(course, work, delivered)
    for action in actions:
        if action.kind in ("copy", "update"):
            source_file = source / action.path
            atomic.write_bytes(destination / action.path, source_file.read_bytes())
            shutil.copymode(source_file, destination / action.path)
            delivered[action.path] = course[action.path]
    for path, course_hash in course.items():
        if work.get(path) == course_hash:
            delivered[path] = course_hash
    if course:
        atomic.write_bytes(manifest_path, json.dumps(delivered, indent=1, sort_keys=True).encode())
    return actions
