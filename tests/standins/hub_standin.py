"""Build the test-only stand-in for the official JupyterHub image (Dockerfile.jupyterhub).

(Not named jupyterhub.py: on sys.path it would shadow the real jupyterhub package.)

It reuses the Debian rootfs of the other stand-ins (build.py) and is cached the same way:
rebuilt only when its recipe (the Dockerfile, the versions, the rootfs) changed. The versions
come from deploy/hub/requirements-hub.txt, the one place the deployment pins JupyterHub.

    python3 tests/standins/hub_standin.py    build it if missing, print its name
"""

from __future__ import annotations

import re
from pathlib import Path

import build

HERE = Path(__file__).resolve().parent
HUB_REQUIREMENTS = HERE.parent.parent / "deploy" / "hub" / "requirements-hub.txt"
# The version upstream's Dockerfile installs (`npm install -g configurable-http-proxy@^4.2.0`).
CHP_VERSION = "4.6.3"


def pinned_version(requirements: Path, package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)", requirements.read_text(), re.MULTILINE)
    if match is None:
        raise SystemExit(f"[standins] {requirements} pins no {package}==VERSION")
    return match.group(1)


JUPYTERHUB_VERSION = pinned_version(HUB_REQUIREMENTS, "jupyterhub")
IMAGE = build.tagged(f"courselab-standin/jupyterhub:{JUPYTERHUB_VERSION}")


def rootfs_image() -> str:
    """The rootfs the lab stand-ins are built on (build.ensure() makes sure it exists)."""
    key = build.digest(build.SUITE.encode(), build.PACKAGES.encode(), build.ca_bundle())
    return f"courselab-standin/debian-rootfs:{key}"


def ensure() -> str:
    build.ensure()
    rootfs = rootfs_image()
    dockerfile = (HERE / "Dockerfile.jupyterhub").read_bytes()
    recipe = build.digest(rootfs.encode(), dockerfile, JUPYTERHUB_VERSION.encode(), CHP_VERSION.encode())
    build.build(
        IMAGE,
        recipe,
        "Dockerfile.jupyterhub",
        {"ROOTFS_IMAGE": rootfs, "JUPYTERHUB_VERSION": JUPYTERHUB_VERSION, "CHP_VERSION": CHP_VERSION},
    )
    return IMAGE


if __name__ == "__main__":
    print(ensure())
