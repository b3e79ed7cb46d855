"""What a `scripts/lab` command touches (repository, host root, environment, output, Docker,
the terminal), gathered in one object so tests can swap any of it."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from labkit.i18n import _

from labhost import compose, docker, facts
from labhost.envfile import EnvFile

REPO = Path(__file__).resolve().parents[2]
LONG_TIMEOUT = 1800.0  # seconds: a first GPU run compiles kernels (MIOpen, CUDA JIT) before it answers


def interactive(argv: Sequence[str], cwd: Path) -> int:
    """Run a command on the terminal (its output is the student's to read)."""
    try:
        return subprocess.run(list(argv), cwd=cwd, check=False).returncode
    except FileNotFoundError:
        print(_("{command}: command not found; run `scripts/lab doctor`").format(command=argv[0]), file=sys.stderr)
        return 127


def port_free(address: str, port: int) -> bool:
    host = address.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def disk_free(path: str | None) -> int | None:
    for candidate in (path, "/var/lib/docker", "/"):
        if candidate:
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                continue
    return None


@dataclass
class World:
    """Everything a command touches, so tests can swap any of it."""

    repo: Path = REPO
    root: Path = Path("/")
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    out: TextIO = sys.stdout
    err: TextIO = sys.stderr
    run: docker.Runner | None = None
    # For commands that may take minutes (scripts/lab verify's benchmark and notebook).
    run_long: docker.Runner | None = None
    interactive: Callable[[Sequence[str], Path], int] = interactive
    user: facts.User | None = None
    devices: facts.DeviceSource | None = None
    port_free: Callable[[str, int], bool] = port_free
    disk_free: Callable[[str | None], int | None] = disk_free
    system: str = field(default_factory=platform.system)  # "Linux", "Darwin" (macOS)

    def __post_init__(self) -> None:
        if self.run is None:
            self.run = lambda argv: docker.subprocess_runner(argv, cwd=str(self.repo))
        if self.run_long is None:
            self.run_long = lambda argv: docker.subprocess_runner(argv, timeout=LONG_TIMEOUT, cwd=str(self.repo))

    @property
    def env_path(self) -> Path:
        return self.repo / ".env"

    def say(self, message: str = "") -> None:
        print(message, file=self.out)

    def show(self, argv: Sequence[str]) -> None:
        """Print the command about to run, the way a student would type it."""
        self.say(f"$ {compose.shown(argv)}")


def read_env(world: World) -> EnvFile | None:
    return EnvFile.read(world.env_path) if world.env_path.is_file() else None
