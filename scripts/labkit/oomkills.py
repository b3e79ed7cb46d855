"""How many processes the kernel's OOM killer ended in a container: `oom_kill` in the
container's memory cgroup, memory.events on cgroup v2 (the kernel's
Documentation/admin-guide/cgroup-v2.rst: "The number of processes belonging to this cgroup
killed by any kind of OOM killer") or memory.oom_control on v1 (Linux 4.13+). Read inside the
lab by its kernels (labkit.kernel_notes) and by the host through `docker exec`
(labhost.memory). Standard library only: the host imports it."""

from __future__ import annotations

from pathlib import Path

# cgroup v2 (one unified hierarchy) first, then v1's memory controller, as Docker mounts them.
EVENT_FILES = (Path("/sys/fs/cgroup/memory.events"), Path("/sys/fs/cgroup/memory/memory.oom_control"))


def parse_oom_kills(text: str) -> int | None:
    """`oom_kill N` from memory.events or memory.oom_control; None when absent."""
    for line in text.splitlines():
        key, _sep, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value)
    return None
