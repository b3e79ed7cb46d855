"""A World (scripts/lab's view of the computer) built from a fake host tree."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from fakehost import FIXTURES, REPO, FakeDocker, student
from labhost.world import World

GB = 1024**3


def make_world(tmp_path: Path, fixture: str, *, run: FakeDocker | None = None, env: str | None = None) -> World:
    """A copy of the repo's .env.example and compose.rocm.yaml, and a work folder."""
    repo = tmp_path / "repo"
    repo.mkdir(parents=True)
    shutil.copy(REPO / ".env.example", repo / ".env.example")
    shutil.copy(REPO / "compose.rocm.yaml", repo / "compose.rocm.yaml")
    (repo / "work").mkdir()
    if env is not None:
        (repo / ".env").write_text(env)
    root = FIXTURES / fixture
    world = World(
        repo=repo,
        root=root,
        environ={},
        out=io.StringIO(),
        err=io.StringIO(),
        run=run or FakeDocker(),
        user=student(root),
        port_free=lambda address, port: True,
        disk_free=lambda path: 100 * GB,
    )
    world.ran = []  # type: ignore[attr-defined]

    def interactive(argv, cwd):
        world.ran.append(list(argv))  # type: ignore[attr-defined]
        return 0

    world.interactive = interactive
    return world


def out(world: World) -> str:
    return world.out.getvalue()  # type: ignore[attr-defined]


def err(world: World) -> str:
    return world.err.getvalue()  # type: ignore[attr-defined]
