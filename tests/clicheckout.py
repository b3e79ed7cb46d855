"""A student's own copy of the course folder with a .env, for tests that run the real
`scripts/lab` against the real engine (tests/stack/test_host_cli.py, test_verify.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import dockerlab
import pytest
from dockerlab import REPO, free_port, make_workdir


class Checkout:
    """A student's copy of the repository with a .env, under a unique compose project, named
    in the environment of every command (COMPOSE_PROJECT_NAME) or, with project_from=".env",
    in the .env file only, as a student would name it."""

    def __init__(self, root, workdir, settings: dict[str, str], *, project_from: str = "environment"):
        self.root = root
        self.project = f"cltest-cli-{uuid.uuid4().hex[:8]}"
        self.project_from = project_from
        files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
        for name in filter(None, files.decode().split("\0")):
            if (REPO / name).is_file():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / name, root / name)
        self.port = free_port()
        self.token = f"cli-token-{uuid.uuid4().hex}"
        base = {
            "LAB_IMAGE": dockerlab.CPU_LAB_IMAGE,
            "LAB_UID": str(dockerlab.TEST_UID),
            "LAB_GID": str(dockerlab.TEST_GID),
            "LAB_WORK_DIR": str(workdir),
            "LAB_PORT": str(self.port),
            "JUPYTER_TOKEN": self.token,
            "LAB_FLAVOUR": "cpu",
        }
        if project_from == ".env":
            base["COMPOSE_PROJECT_NAME"] = self.project
        self.write_env({**base, **settings})

    def write_env(self, values: dict[str, str]) -> None:
        (self.root / ".env").write_text("# my settings\n" + "".join(f"{k}={v}\n" for k, v in values.items()))

    def lab(self, *args: str, timeout: float = 300, path: str | None = None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LAB_", "JUPYTER_", "COMPOSE_"))}
        if path is not None:
            env["PATH"] = path
        if self.project_from == "environment":
            env["COMPOSE_PROJECT_NAME"] = self.project
        command = [sys.executable, str(self.root / "scripts/lab"), *args]
        return subprocess.run(command, cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout)

    def containers(self) -> list[str]:
        listed = subprocess.run(
            ["docker", "ps", "-a", "-q", "--filter", f"label=com.docker.compose.project={self.project}"],
            capture_output=True,
            text=True,
            check=True,
        )
        return listed.stdout.split()

    def down(self) -> None:
        self.lab("down", "-v", "--timeout", "5")


@pytest.fixture(name="checkout")
def checkout_fixture(cpu_lab_image, tmp_path, tmp_path_factory):
    made = []

    def make(project_from: str = "environment", **settings: str) -> Checkout:
        root = tmp_path / f"course lab {len(made)}"
        root.mkdir()
        made.append(Checkout(root, make_workdir(tmp_path_factory), settings, project_from=project_from))
        return made[-1]

    yield make
    for each in made:
        each.down()
