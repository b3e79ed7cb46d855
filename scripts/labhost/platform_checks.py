"""The doctor's checks for students' other systems: macOS (Docker Desktop, often Apple
silicon) and Windows through WSL2. Pure, like labhost.checks: facts in, one result out
(labhost.checkbase)."""

from __future__ import annotations

import re

from labkit.i18n import _

from labhost import arm64
from labhost.checkbase import FAIL, OK, WARN, CheckResult, Context

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


def cpu_base_architecture(ctx: Context) -> CheckResult | None:
    """On an arm64 engine, the CPU lab must be built on an arm64 base (labhost.arm64 says why)."""
    if not ctx.docker.usable or ctx.flavour != "cpu" or not ctx.base_image:
        return None
    verdict = arm64.judge_cpu_base(
        engine_architecture=ctx.docker.architecture,
        base_image=ctx.base_image,
        base_architecture=ctx.base_architecture,
    )
    if verdict is None:
        return None
    if verdict.ok:
        native = _("the CPU lab builds natively for arm64 on {base}").format(base=ctx.base_image)
        return CheckResult("arm64", OK, native)
    if verdict.problem is arm64.BaseProblem.NOT_BUILT:
        detail = _("the arm64 base {base} is not built yet").format(base=ctx.base_image)
    elif verdict.problem is arm64.BaseProblem.BUILT_FOR_OTHER:
        detail = _("this Docker runs arm64, but the base {base} is built for {architecture}").format(
            base=ctx.base_image, architecture=ctx.base_architecture
        )
    else:
        detail = _("this Docker runs arm64, but {base} exists for amd64 only").format(base=ctx.base_image)
    if verdict.command is None:
        fix = _("build an arm64 TensorFlow base from {recipe} and name it in LAB_BASE_IMAGE in .env").format(
            recipe=arm64.RECIPE
        )
    elif verdict.arm64_base == ctx.base_image:
        fix = _("build it once: {command}").format(command=verdict.command)
    else:
        fix = _("build the arm64 base once: {command}, then put LAB_BASE_IMAGE={image} in .env").format(
            command=verdict.command, image=verdict.arm64_base
        )
    # Emulated, TensorFlow aborts on its first AVX instruction: the lab cannot start at all.
    return CheckResult("arm64", FAIL, detail, fix)


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


CHECKS = (macos, cpu_base_architecture, wsl_work_folder)
