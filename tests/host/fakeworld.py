"""A World (scripts/lab's view of the computer) built from a fake host tree."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from fakehost import FIXTURES, R2_18, REPO, FakeDocker, student
from labhost.world import World

GB = 1024**3


def make_world(tmp_path: Path, fixture: str, *, run: FakeDocker | None = None, env: str | None = None) -> World:
    """A copy of the repo's .env.example, a Dockerfile.rocm pinned to r2.18, a work folder."""
    repo = tmp_path / "repo"
    repo.mkdir(parents=True)
    shutil.copy(REPO / ".env.example", repo / ".env.example")
    (repo / "Dockerfile.rocm").write_text(f'ARG BASE_IMAGE=rocm/tensorflow:test\nARG ROCM_TF_TARGETS="{R2_18}"\n')
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
