"""The GPU device nodes: which exist, who owns them, and which group (if any) opens them.

The same glob runs on the host (labhost, to write .env's group ids) and in the container
(the gate, to tell "not passed in" from "not allowed"). Device numbers are not checked:
/dev/kfd is a character device whatever its major is.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

# /dev/dxg is WSL2's GPU (DirectX) device: no ROCm or CUDA device file exists there.
PATTERNS = ("/dev/kfd", "/dev/dri/renderD*", "/dev/nvidia*", "/dev/dxg")
ROOT_GID = 0


@dataclass(frozen=True)
class DeviceFile:
    path: str
    uid: int
    gid: int
    mode: int

    @property
    def open_to_everyone(self) -> bool:
        """rw for "other": any user opens it, so no group is needed (and none should be added)."""
        return self.mode & 0o006 == 0o006

    @property
    def group_to_add(self) -> int | None:
        """The numeric group the lab needs to open this device, or None when it needs none.

        Root's group is never given to the lab: a device only root's group may open is a host
        setup problem (a udev rule), not something to fix by handing out group 0."""
        if self.open_to_everyone or self.mode & 0o060 != 0o060 or self.gid == ROOT_GID:
            return None
        return self.gid


def glob_nodes(root: Path = Path("/"), patterns: tuple[str, ...] = PATTERNS) -> list[Path]:
    """Paths under `root` matching the patterns, as found on disk, sorted per pattern."""
    found = []
    for pattern in patterns:
        try:
            found += sorted(Path(root).glob(pattern.lstrip("/")))
        except OSError:
            continue
    return found


def stat_nodes(root: Path = Path("/"), patterns: tuple[str, ...] = PATTERNS) -> list[DeviceFile]:
    """The device nodes under `root` (character or block devices only), stat()ed."""
    root = Path(root)
    found = []
    for path in glob_nodes(root, patterns):
        try:
            st = path.stat()
        except OSError:
            continue
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            host_path = "/" + str(path.relative_to(root))
            found.append(DeviceFile(host_path, st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)))
    return found


def access(root: Path = Path("/"), patterns: tuple[str, ...] = PATTERNS) -> dict[str, str]:
    """path -> "ok" when this process may open it for reading and writing, else "denied".

    Device nodes only (stat_nodes): /dev/nvidia* also matches /dev/nvidia-caps, a folder
    (drwxr-xr-x root, recorded on an H200 host) that no user may write, which would read as a
    denied GPU device."""
    root = Path(root)
    return {
        node.path: "ok" if os.access(root / node.path.lstrip("/"), os.R_OK | os.W_OK) else "denied"
        for node in stat_nodes(root, patterns)
    }
