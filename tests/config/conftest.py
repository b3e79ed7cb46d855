"""Run the real `docker compose ... config` on the repository's compose files.

`config` only reads and merges files: it needs the compose CLI, not a running engine, and it
starts nothing. Each call gets its own project name, its own .env (never the developer's own
.env in the repository) and a process environment stripped of the lab's variables, so what
the test writes is all compose sees.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Overlay combinations by name, in the order a student passes them with -f.
STACKS: dict[str, tuple[str, ...]] = {
    "base": ("compose.yaml",),
    "rocm": ("compose.yaml", "compose.rocm.yaml"),
    "nvidia": ("compose.yaml", "compose.nvidia.yaml"),
    "rocm-debug": ("compose.yaml", "compose.rocm.yaml", "compose.rocm-debug.yaml"),
}


# The host environment compose may see: enough to find docker and its config, nothing the
# compose files read.
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "XDG_RUNTIME_DIR")


@dataclass(frozen=True)
class Rendered:
    """One `docker compose config` run: its exit status, its output, and the merged model."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def model(self) -> dict:
        assert self.returncode == 0, f"{' '.join(self.command)} exited {self.returncode}:\n{self.stderr}"
        return json.loads(self.stdout)

    def service(self, name: str) -> dict:
        return self.model["services"][name]


class Compose:
    def __init__(self, tmp_path: Path) -> None:
        self._tmp_path = tmp_path

    def config(
        self,
        stack: str,
        *,
        dotenv: str = "",
        env: dict[str, str] | None = None,
    ) -> Rendered:
        """Render `stack` (a key of STACKS) with `dotenv` as its .env and `env` as the shell's
        variables; the train profile is on, so both services are in the model."""
        env_file = self._tmp_path / f"{uuid.uuid4().hex[:8]}.env"
        env_file.write_text(dotenv)
        command = ["docker", "compose", "--project-name", f"courselab-cfgtest-{uuid.uuid4().hex[:10]}"]
        for name in STACKS[stack]:
            command += ["-f", str(REPO / name)]
        command += ["--env-file", str(env_file), "--profile", "train", "config", "--format", "json"]
        process_env = {key: os.environ[key] for key in _PASSED_THROUGH if key in os.environ}
        process_env.update(env or {})
        result = subprocess.run(command, capture_output=True, text=True, env=process_env, cwd=REPO, timeout=60)
        return Rendered(command, result.returncode, result.stdout, result.stderr)


@pytest.fixture
def compose(compose_cli, tmp_path) -> Compose:
    # compose_cli (tests/conftest.py) skips, or fails in CI, without the compose CLI.
    return Compose(tmp_path)
