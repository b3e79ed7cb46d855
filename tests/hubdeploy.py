"""The class hub (deploy/compose.yaml) on the test engine: its images and a stack that
removes everything it made, students' containers and volumes included.

Names: the hub's compose project, HUB_PREFIX (students' containers <prefix>-<user>, volumes
<prefix>-work-<user>, networks <prefix>-net-<user>) and HUB_NETWORK are one uuid-based name
per stack, so a test stack can never touch a real deployment (courselab-*) or another test's.
The hub is at http://hub.localhost:PORT, HUB_PUBLIC_URL's default (hubclient.py).
"""

from __future__ import annotations

import contextlib
import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path

import dockerlab

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "standins"))

import hub_standin  # noqa: E402

HUB_IMAGE = dockerlab.standins.tagged(f"courselab-test/hub:{hub_standin.JUPYTERHUB_VERSION}")
ADMIN = "teacher"


@functools.cache
def build_hub_image() -> str:
    """deploy/hub/Dockerfile on the stand-in for the official JupyterHub image (once a run)."""
    base = hub_standin.ensure()
    dockerlab.run(
        [
            "docker",
            "build",
            "-q",
            "-f",
            str(REPO / "deploy" / "hub" / "Dockerfile"),
            "--build-arg",
            f"HUB_BASE_IMAGE={base}",
            "-t",
            HUB_IMAGE,
            str(REPO / "deploy" / "hub"),
        ]
    )
    return HUB_IMAGE


@dataclass
class HubStack(dockerlab.Stack):
    files: list[str] = field(default_factory=lambda: ["deploy/compose.yaml"])

    @property
    def prefix(self) -> str:
        return self.project

    @property
    def values(self) -> dict[str, str]:
        return {
            "HUB_IMAGE": HUB_IMAGE,
            "HUB_LAB_IMAGE": dockerlab.CPU_LAB_IMAGE,
            "HUB_ADMIN_USERS": ADMIN,
            "HUB_PORT": str(self.port),
            "HUB_PREFIX": self.prefix,
            "HUB_NETWORK": self.prefix,
            **self.settings,
        }

    @property
    def url(self) -> str:
        return f"http://hub.localhost:{self.port}"

    def logs(self, service: str = "hub") -> str:
        return super().logs(service)

    def container(self, user: str) -> str:
        return f"{self.prefix}-{user}"

    def volume(self, user: str) -> str:
        return f"{self.prefix}-work-{user}"

    def students_containers(self) -> list[str]:
        listed = dockerlab.run(
            ["docker", "ps", "-aq", "--filter", f"label=courselab.hub={self.prefix}"], check=False
        ).stdout.split()
        return listed

    def students_volumes(self) -> list[str]:
        listed = dockerlab.run(["docker", "volume", "ls", "-q", "--filter", f"name={self.prefix}-work-"], check=False)
        return [name for name in listed.stdout.split() if name.startswith(f"{self.prefix}-work-")]

    @contextlib.contextmanager
    def explained(self):
        """A failed assertion inside gets the hub's last log lines: why a page or a spawn failed."""
        try:
            yield
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- the hub's log, last lines:\n{self.logs()[-4000:]}") from error

    def students_networks(self) -> list[str]:
        listed = dockerlab.run(
            ["docker", "network", "ls", "-q", "--filter", f"label=courselab.hub.network={self.prefix}"], check=False
        )
        return listed.stdout.split()

    def down(self) -> None:
        """Students' containers first (they hold their networks), then the hub, then their
        networks and volumes."""
        containers = self.students_containers()
        if containers:
            dockerlab.run(["docker", "rm", "-f", "-v", *containers], check=False)
        super().down()
        networks = self.students_networks()
        if networks:
            dockerlab.run(["docker", "network", "rm", *networks], check=False)
        volumes = self.students_volumes()
        if volumes:
            dockerlab.run(["docker", "volume", "rm", "-f", *volumes], check=False)


@contextlib.contextmanager
def running_hub(tmp_path_factory, name: str, settings: dict[str, str]):
    """The hub image built (once a run), a hub stack up, and always torn down."""
    build_hub_image()
    stack = HubStack(dockerlab.make_workdir(tmp_path_factory, name), settings=settings)
    try:
        stack.up("hub")
        yield stack
    finally:
        stack.down()
