"""Inside JupyterLab, say why the last kernel died when the lab ran out of memory.

A notebook that asks for more memory than the lab may use (LAB_MEMORY_LIMIT) has its kernel
killed by the Linux OOM killer; JupyterLab itself only says "the kernel died". The container's
memory cgroup counts those kills (labkit.oomkills).

Loaded into every kernel as an IPython extension (image/ipython/ipython_kernel_config.py):
a new kernel reads the count, compares it with the count the previous kernel saw (a file in
/tmp, shared by the container's kernels), and when it grew, the first cell the student runs
shows the message. Standard library only; the IPython shell is passed in.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from labkit.i18n import _
from labkit.oomkills import EVENT_FILES, parse_oom_kills

LIMIT_FILES = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
SEEN_FILE = Path(os.environ.get("LAB_OOM_SEEN_FILE", "/tmp/.lab-oom-kills-seen"))  # noqa: S108
# v1 reports "no limit" as a huge number (PAGE_COUNTER_MAX pages); anything above this is none.
NO_LIMIT = 2**60


def parse_limit(text: str) -> int | None:
    """memory.max ("max" or bytes) or memory.limit_in_bytes; None when there is no limit."""
    value = text.strip()
    if not value.isdigit() or int(value) >= NO_LIMIT:
        return None
    return int(value)


def read_first(paths: tuple[Path, ...], parse) -> int | None:
    for path in paths:
        try:
            return parse(path.read_text())
        except OSError:
            continue
    return None


def new_kills(now: int | None, seen: int | None) -> int:
    """Kills since the previous kernel started (pure). A first kernel has nothing to compare."""
    if now is None or seen is None or now <= seen:
        return 0
    return now - seen


def message(kills: int, limit: int | None) -> str:
    allowed = _(" (the lab may use {gib:.1f} GiB)").format(gib=limit / 1024**3) if limit else ""
    return _(
        "The lab ran out of memory{allowed} and stopped {kills} process(es): most likely this notebook's "
        "previous kernel, so its variables are gone. Fix: use less memory (a smaller batch size, fewer images "
        "in memory), or raise LAB_MEMORY_LIMIT in .env and restart the lab."
    ).format(allowed=allowed, kills=kills)


def remember(count: int | None, path: Path | None = None) -> int | None:
    """Store `count` for the next kernel; return what the previous kernel stored."""
    path = path or SEEN_FILE
    try:
        seen = int(path.read_text().strip())
    except (OSError, ValueError):
        seen = None
    if count is not None:
        try:
            path.write_text(f"{count}\n")
        except OSError:
            pass
    return seen


def load_ipython_extension(shell) -> None:
    now = read_first(EVENT_FILES, parse_oom_kills)
    kills = new_kills(now, remember(now))
    if not kills:
        return
    text = message(kills, read_first(LIMIT_FILES, parse_limit))

    def show(*_args) -> None:
        shell.events.unregister("pre_run_cell", show)
        print(f"⚠ {text}", file=sys.stderr, flush=True)

    shell.events.register("pre_run_cell", show)
