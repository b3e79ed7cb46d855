"""Where the engine keeps images, and how much room `docker load` needs there. Pure, with a
thin `gather` that asks `docker info` and looks at two paths on the host.

The default image store keeps images under DockerRootDir; `docker load` first unpacks the
whole archive into the engine's temporary folder (<DockerRootDir>/tmp, moby
image/tarexport/load.go), then registers each layer: the archive's tar and the unpacked
layers, at once. The containerd image store (`docker info` DriverStatus: driver-type
io.containerd.snapshotter.v1) keeps images in containerd's root: every file of the archive
goes into its content store as it is (containerd's importer), and the layers are unpacked
into its snapshotter beside them. Either way the peak is the archive's tar plus the unpacked
layers, on the file system that holds the store.

Which containerd: Engine 27+ says its address in `docker info` (.Containerd.Address). dockerd
uses the system containerd (/run/containerd/containerd.sock, root /var/lib/containerd unless
/etc/containerd/config.toml sets `root`) when it runs, else starts its own, whose root is
<DockerRootDir>/containerd/daemon (moby cmd/dockerd initContainerd, supervisor). Older
engines do not say which; the same rule is applied to what this host has.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from labhost import docker

SNAPSHOTTER = ["driver-type", "io.containerd.snapshotter.v1"]
SYSTEM_SOCKETS = ("/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock")
SYSTEM_ROOT = "/var/lib/containerd"
CONTAINERD_CONFIG = "etc/containerd/config.toml"
# Directories, file-system blocks and the engine's own records on top of the bytes.
SPACE_FACTOR = 1.1
ROOT_LINE = re.compile(r'^\s*root\s*=\s*"([^"]+)"\s*$')


@dataclass(frozen=True)
class Store:
    containerd: bool  # the containerd image store (else the default, graph-driver one)
    image_dir: str | None  # the folder whose file system holds the images


def containerd_root(config_text: str | None) -> str:
    """The `root` of containerd's config.toml (a top-level key, before any [table]), else
    containerd's default."""
    for line in (config_text or "").splitlines():
        if line.strip().startswith("["):
            break
        match = ROOT_LINE.match(line)
        if match:
            return match.group(1)
    return SYSTEM_ROOT


def decide(info: Mapping, *, system_socket_exists: bool, containerd_config: str | None) -> Store:
    root = info.get("DockerRootDir") if isinstance(info.get("DockerRootDir"), str) else None
    status = info.get("DriverStatus")
    containerd = isinstance(status, list) and SNAPSHOTTER in status
    if not containerd:
        return Store(False, root)
    section = info.get("Containerd")
    address = section.get("Address") if isinstance(section, dict) else None
    if isinstance(address, str) and address:
        system = address in SYSTEM_SOCKETS or not address.endswith("/containerd/containerd.sock")
    else:
        system = system_socket_exists
    if system:
        return Store(True, containerd_root(containerd_config))
    return Store(True, f"{root}/containerd/daemon" if root else None)


def load_need(*, tar_size: int, unpacked: int) -> int:
    """Bytes `docker load` of an archive needs on the image store's file system."""
    return int((tar_size + unpacked) * SPACE_FACTOR)


def gather(run: docker.Runner, root: Path) -> Store | None:
    """The engine's store, or None when `docker info` does not answer."""
    done = run(["docker", "info", "--format", "{{json .}}"])
    if done.returncode != 0:
        return None
    try:
        info = json.loads(done.stdout.strip() or "{}")
    except ValueError:
        return None
    if not isinstance(info, dict):
        return None
    try:
        config = (root / CONTAINERD_CONFIG).read_text(errors="replace")
    except OSError:
        config = None
    sockets = any((root / socket.lstrip("/")).exists() for socket in SYSTEM_SOCKETS)
    return decide(info, system_socket_exists=sockets, containerd_config=config)
