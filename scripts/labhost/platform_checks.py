"""The doctor's checks for students' other systems: macOS (Docker Desktop, often Apple
silicon) and Windows through WSL2. Pure, like labhost.checks: facts in, one result out."""

from __future__ import annotations

import re

from labkit.i18n import _

from labhost.checks import OK, WARN, CheckResult, Context

# WSL2 mounts Windows drives under /mnt/<letter> (DrvFs, through 9P): slow for many small
# files and without Linux owners or modes (Microsoft's WSL docs: "store your files in the
# WSL file system"). The lab's bind mount and its ownership rules need a Linux folder.
WINDOWS_DRIVE = re.compile(r"^/mnt/[a-zA-Z](/|$)")
TENSORFLOW_METAL = "https://developer.apple.com/metal/tensorflow-plugin/"


def macos(ctx: Context) -> CheckResult | None:
    if ctx.system != "Darwin":
        return None
    return CheckResult(
        "macos",
        WARN,
        _("Docker on macOS has no GPU: the lab runs on the CPU (natively on Apple silicon, with the arm64 image)"),
        _("for the Mac's GPU (Metal), install TensorFlow outside Docker with tensorflow-metal: {url}").format(
            url=TENSORFLOW_METAL
        ),
    )


def wsl_work_folder(ctx: Context) -> CheckResult | None:
    if not ctx.host.is_wsl:
        return None
    on_windows = [path for path in (ctx.repo_path, ctx.work_path) if path and WINDOWS_DRIVE.match(path)]
    if not on_windows:
        return CheckResult("wsl2 files", OK, _("the course folder is in the Linux file system"))
    return CheckResult(
        "wsl2 files",
        WARN,
        _("{path} is on a Windows drive: slow for the lab, and files there have no Linux owner or permissions").format(
            path=on_windows[0]
        ),
        _("keep the course in the Linux file system: `cd ~ && git clone` it there (not under /mnt/c)"),
    )


CHECKS = (macos, wsl_work_folder)
