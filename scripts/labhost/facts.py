"""What the host looks like, read from files under a root folder.

Every path is read relative to `root`, so tests pass a fake host tree (tests/host/fixtures/*)
and the real command passes "/". Nothing here decides anything; plan.py and checks.py do.

Device nodes cannot live in a git checkout, so a fake tree describes them in
`dev/devices.json` ({"/dev/kfd": {"uid": 0, "gid": 110, "mode": "0660"}, ...}); on a real
host they are listed and stat()ed for real. Both go through a DeviceSource.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from labkit.hostfacts import devices as device_nodes
from labkit.hostfacts import kfd
from labkit.hostfacts.devices import DeviceFile
from labkit.hostfacts.kfd import KfdNode, parse_properties
from labkit.i18n import _

__all__ = ["DeviceFile", "KfdNode", "parse_properties"]  # the shared readers' types, used by labhost

PCI_VENDORS = {0x1002: "AMD", 0x10DE: "NVIDIA", 0x8086: "Intel"}
DEVICE_PATTERNS = device_nodes.PATTERNS
# Where the NVIDIA tools live: the usual PATH, plus WSL2's driver folder.
TOOL_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/lib/wsl/lib")
CDI_DIRS = ("/etc/cdi", "/var/run/cdi", "/run/cdi")


@dataclass(frozen=True)
class DrmCard:
    """One /sys/class/drm/cardN: a display/render device and its PCI ids."""

    name: str
    vendor_id: int
    device_id: int
    boot_vga: bool | None
    pci_slot: str | None = None  # PCI_SLOT_NAME from the device's uevent, e.g. 0000:0a:00.0

    @property
    def vendor(self) -> str:
        return PCI_VENDORS.get(self.vendor_id, f"0x{self.vendor_id:04x}")


@dataclass(frozen=True)
class User:
    uid: int
    gid: int
    groups: tuple[int, ...]
    name: str = ""


@dataclass(frozen=True)
class Group:
    name: str
    gid: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class HostFacts:
    root: Path
    user: User
    cards: tuple[DrmCard, ...] = ()
    kfd_nodes: tuple[KfdNode, ...] = ()
    kfd_present: bool = False
    devices: tuple[DeviceFile, ...] = ()
    proc_version: str = ""
    selinux_enforcing: bool | None = None
    os_release: Mapping[str, str] = field(default_factory=dict)
    groups: tuple[Group, ...] = ()
    daemon_json: Mapping | None = None
    daemon_json_error: str | None = None
    cdi_specs: tuple[str, ...] = ()
    tools: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_wsl(self) -> bool:
        return "microsoft" in self.proc_version.lower() or self.device("/dev/dxg") is not None

    def device(self, path: str) -> DeviceFile | None:
        return next((d for d in self.devices if d.path == path), None)

    def group_name(self, gid: int) -> str | None:
        return next((g.name for g in self.groups if g.gid == gid), None)

    def group(self, name: str) -> Group | None:
        return next((g for g in self.groups if g.name == name), None)


class DeviceSource(Protocol):
    def list(self) -> list[DeviceFile]: ...


@dataclass(frozen=True)
class RealDevices:
    """Device nodes of a real host, found by glob and stat()ed (the container's gate globs the same)."""

    root: Path

    def list(self) -> list[DeviceFile]:
        return device_nodes.stat_nodes(self.root)


@dataclass(frozen=True)
class SidecarDevices:
    """Device nodes described in a fake tree's dev/devices.json."""

    path: Path

    def list(self) -> list[DeviceFile]:
        try:
            table = json.loads(self.path.read_text(errors="replace"))
        except (OSError, ValueError, RecursionError):
            return []
        found = []
        for dev_path, meta in sorted(table.items()) if isinstance(table, dict) else []:
            if not any(fnmatch.fnmatch(dev_path, p) for p in DEVICE_PATTERNS):
                continue
            try:
                found.append(DeviceFile(dev_path, int(meta.get("uid", 0)), int(meta["gid"]), int(meta["mode"], 8)))
            except (AttributeError, KeyError, TypeError, ValueError):
                continue
        return found


def device_source(root: Path) -> DeviceSource:
    sidecar = root / "dev" / "devices.json"
    return SidecarDevices(sidecar) if _is_file(sidecar) else RealDevices(root)


def current_user() -> User:
    uid, gid = os.getuid(), os.getgid()
    try:
        import pwd

        name = pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        name = ""
    return User(uid, gid, tuple(sorted(set(os.getgroups()) | {gid})), name)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def _is_file(path: Path) -> bool:
    # Python before 3.12 raises on an unreadable folder (a PATH entry under /root, say).
    try:
        return path.is_file()
    except OSError:
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _int(text: str | None, base: int = 0) -> int | None:
    if text is None or not text.isascii():
        return None
    try:
        return int(text.strip(), base)
    except ValueError:
        return None


def read_cards(root: Path) -> tuple[DrmCard, ...]:
    cards = []
    drm = root / "sys" / "class" / "drm"
    try:
        listed = sorted(drm.glob("card*"), key=lambda p: p.name)
    except OSError:
        listed = []
    for card in listed:
        # card0-DP-1 and friends are connectors of card0, not devices.
        if not card.name[4:].isdigit():
            continue
        vendor = _int(_read(card / "device" / "vendor"), 16)
        if vendor is None:
            continue
        device = _int(_read(card / "device" / "device"), 16) or 0
        boot_vga = _int(_read(card / "device" / "boot_vga"))
        slot = _uevent(_read(card / "device" / "uevent") or "").get("PCI_SLOT_NAME")
        cards.append(DrmCard(card.name, vendor, device, None if boot_vga is None else bool(boot_vga), slot))
    return tuple(cards)


def _uevent(text: str) -> dict[str, str]:
    """A sysfs uevent file: KEY=value lines."""
    pairs = (line.partition("=") for line in text.splitlines())
    return {key.strip(): value.strip().lower() for key, sep, value in pairs if sep}


def read_kfd(root: Path) -> tuple[bool, tuple[KfdNode, ...]]:
    topology = kfd.read_topology(root)
    return topology.present, topology.nodes


def read_groups(root: Path) -> tuple[Group, ...]:
    groups = []
    for line in (_read(root / "etc" / "group") or "").splitlines():
        parts = line.strip().split(":")
        if len(parts) >= 3 and parts[2].isascii() and parts[2].isdigit():
            members = tuple(m for m in (parts[3].split(",") if len(parts) > 3 else []) if m)
            groups.append(Group(parts[0], int(parts[2]), members))
    return tuple(groups)


def read_os_release(root: Path) -> dict[str, str]:
    values = {}
    for line in (_read(root / "etc" / "os-release") or _read(root / "usr" / "lib" / "os-release") or "").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def read_daemon_json(root: Path) -> tuple[dict | None, str | None]:
    """The parsed file, or the one line the doctor prints about it, in the student's language
    (Python's own description of a JSON error stays as Python writes it)."""
    text = _read(root / "etc" / "docker" / "daemon.json")
    if text is None:
        return None, None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return None, _("/etc/docker/daemon.json is not valid JSON (line {line}: {error})").format(
            line=error.lineno, error=error.msg
        )
    except (ValueError, RecursionError):
        return None, _("/etc/docker/daemon.json is not valid JSON (nested too deeply to read)")
    if not isinstance(data, dict):
        return None, _("/etc/docker/daemon.json holds a JSON {type}, not an object ({example})").format(
            type=type(data).__name__, example="{...}"
        )
    return data, None


def find_tools(root: Path, names: tuple[str, ...]) -> dict[str, str]:
    found = {}
    dirs = list(TOOL_DIRS)
    if root == Path("/"):
        dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d] + dirs
    for name in names:
        for folder in dirs:
            candidate = root / folder.lstrip("/") / name
            if _is_file(candidate):
                found[name] = "/" + str(candidate.relative_to(root))
                break
    return found


def read_cdi_specs(root: Path) -> tuple[str, ...]:
    specs = []
    for folder in CDI_DIRS:
        path = root / folder.lstrip("/")
        try:
            names = sorted(p.name for p in path.iterdir()) if _is_dir(path) else []
        except OSError:
            names = []
        specs += [f"{folder}/{name}" for name in names if name.endswith((".yaml", ".yml", ".json"))]
    return tuple(specs)


def gather(root: Path = Path("/"), *, user: User | None = None, devices: DeviceSource | None = None) -> HostFacts:
    """Read every host fact the doctor and setup need. Missing files are simply absent facts."""
    root = Path(root)
    kfd_present, nodes = read_kfd(root)
    daemon, daemon_error = read_daemon_json(root)
    enforce = _int(_read(root / "sys" / "fs" / "selinux" / "enforce"))
    return HostFacts(
        root=root,
        user=user or current_user(),
        cards=read_cards(root),
        kfd_nodes=nodes,
        kfd_present=kfd_present,
        devices=tuple((devices or device_source(root)).list()),
        proc_version=(_read(root / "proc" / "version") or "").strip(),
        selinux_enforcing=None if enforce is None else enforce == 1,
        os_release=read_os_release(root),
        groups=read_groups(root),
        daemon_json=daemon,
        daemon_json_error=daemon_error,
        cdi_specs=read_cdi_specs(root),
        tools=find_tools(
            root, ("nvidia-smi", "nvidia-container-runtime-hook", "nvidia-ctk", "nvidia-container-runtime")
        ),
    )


def can_open(device: DeviceFile, user: User) -> bool:
    """Whether `user` may open `device` for reading and writing, by its mode bits (as open(2) checks)."""
    if user.uid == 0:
        return True
    if device.uid == user.uid:
        bits = (device.mode >> 6) & 0o7
    elif device.gid in user.groups or device.gid == user.gid:
        bits = (device.mode >> 3) & 0o7
    else:
        bits = device.mode & 0o7
    return bits & 0o6 == 0o6
