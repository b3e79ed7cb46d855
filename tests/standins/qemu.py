"""Run linux/arm64 containers on this amd64 machine: QEMU user emulation through binfmt_misc.

Debian's qemu-user-static ships the emulator and a binfmt.d entry for it
(/usr/lib/binfmt.d/qemu-aarch64.conf, flags "OPF": F = the kernel opens the interpreter when
the entry is registered, so it works inside containers whose root has no QEMU). systemd
registers it at boot; a CI machine or a container without systemd does not, so this module
mounts binfmt_misc and registers the entry itself, the same line systemd-binfmt would write.

    python3 tests/standins/qemu.py      register (root), then print what is registered
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

BINFMT = Path("/proc/sys/fs/binfmt_misc")
ENTRY = "qemu-aarch64"
CONF = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")


def registered() -> bool:
    entry = BINFMT / ENTRY
    try:
        return entry.read_text().splitlines()[0].strip() == "enabled"
    except OSError:
        return False


def ensure() -> str | None:
    """Register the arm64 emulator if it is not; returns why it cannot be, or None."""
    if registered():
        return None
    if not CONF.exists() or shutil.which("qemu-aarch64-static") is None:
        return "QEMU user emulation is not installed (apt-get install qemu-user-static)"
    if not (BINFMT / "register").exists():
        mounted = subprocess.run(
            ["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], capture_output=True, text=True, check=False
        )
        if mounted.returncode != 0:
            return f"cannot mount binfmt_misc ({mounted.stderr.strip() or 'mount failed'}); run as root"
    line = next((text for text in CONF.read_text().splitlines() if text.startswith(":")), "")
    try:
        (BINFMT / "register").write_text(line)
    except OSError as error:
        if not registered():
            return f"cannot register {ENTRY} with binfmt_misc ({error}); run as root"
    return None if registered() else f"{ENTRY} did not register with binfmt_misc"


if __name__ == "__main__":
    why = ensure()
    if why:
        sys.exit(f"[qemu] {why}")
    print((BINFMT / ENTRY).read_text())
