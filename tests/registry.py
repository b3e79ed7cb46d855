"""A throwaway local image registry (Debian's docker-registry, the CNCF distribution server)
on 127.0.0.1, whose access log shows every request the engine makes: the way the tests
observe pulls and pushes. The engine treats 127.0.0.0/8 registries as insecure (plain HTTP)
by default, so nothing has to be configured."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from dockerlab import free_port, http_get, wait_for

CONFIG = """version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def requests_for(self, repository: str) -> list[str]:
        """Access-log lines for one repository's manifests (what a pull or push asks first)."""
        return [line for line in self.log().splitlines() if f"/v2/{repository}/manifests/" in line]


def registry_problem() -> str | None:
    if shutil.which("docker-registry") is None:
        return "docker-registry is not installed (apt-get install docker-registry)"
    return None


@pytest.fixture(scope="session")
def local_registry(tmp_path_factory, docker_engine):
    # Not `from conftest import require`: with several conftest.py files in one run, the name
    # `conftest` is whichever was imported last (tests/config's, measured). Same rule here.
    problem = registry_problem()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI requires the local registry, but {problem}")
        pytest.skip(problem)
    folder = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = folder / "config.yml"
    config.write_text(CONFIG.format(root=folder / "data", port=port))
    log_path = folder / "registry.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: http_get(f"http://127.0.0.1:{port}/v2/")[0] == 200, timeout=30, what="the local registry")
        yield Registry(f"127.0.0.1:{port}", log_path)
    finally:
        process.terminate()
        process.wait(timeout=10)
