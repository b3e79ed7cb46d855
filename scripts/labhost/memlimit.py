"""The lab's memory limit (LAB_MEMORY_LIMIT), sized from the memory of the machine Docker runs
containers on. Pure decision; `scripts/lab setup` writes it into .env.

The rule: leave the desktop max(2 GiB, a quarter of the memory), give the lab the rest, in
whole GiB, at least 1 GiB. Why: without a limit, a notebook that asks for too much memory
makes the whole computer swap until the desktop freezes (students then power off and lose
unsaved work elsewhere); with one, only that kernel is killed and `scripts/lab ps` says so.
2 GiB keeps a desktop and a browser with JupyterLab responsive on small laptops; a quarter
leaves room for the page cache and other programs on larger ones. 8 GiB -> 6g, 16 -> 12g,
32 -> 24g. The lab's own tmpfs folders (/tmp, HOME) count against it.

The memory is Docker's (`docker info` MemTotal): on Docker Desktop and WSL2 that is the VM's,
smaller than the computer's, and the VM is what a runaway container would freeze.
"""

from __future__ import annotations

from pathlib import Path

GIB = 1 << 30
DESKTOP_MIN = 2 * GIB


def limit_for(total: int) -> int:
    """Bytes the lab may use on a machine with `total` bytes of memory."""
    reserve = max(DESKTOP_MIN, total // 4)
    return max(GIB, (total - reserve) // GIB * GIB)


def env_value(limit: int) -> str:
    return f"{limit // GIB}g"


def setting(current: str | None, total: int | None) -> str | None:
    """What setup writes to LAB_MEMORY_LIMIT, or None to leave the line alone: a limit the
    student chose stays; "0" (the default: none) or no line gets the sized one."""
    if total is None or total <= 0:
        return None
    if current not in (None, "", "0"):
        return None
    return env_value(limit_for(total))


def meminfo_total(root: Path) -> int | None:
    """MemTotal from /proc/meminfo (kB), when Docker could not be asked."""
    try:
        text = (root / "proc" / "meminfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1]) * 1024
    return None
