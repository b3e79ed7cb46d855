"""What works on WSL2 with this lab, said plainly. Pure.

WSL2 gives Linux no /dev/kfd and no /dev/dri render nodes: the Windows driver's GPU is
/dev/dxg. NVIDIA's Container Toolkit (and Docker Desktop) maps it into containers, so the
NVIDIA overlay's GPU reservation works there.

ROCm reaches an AMD GPU on WSL2 only through /dev/dxg, with AMD's librocdxg (ROCm/librocdxg,
README: "Load the AMD ROCDXG library", "Container Launch - WSL-Specific Flags", "WSL
Compatibility Matrix"): ROCm's runtime loads librocdxg.so from ROCm 7.1 on, when
HSA_ENABLE_DXG_DETECTION=1, and a container needs /dev/dxg plus librocdxg.so and WSL's
libdxcore.so inside it (AMD's example mounts both from the WSL host; librocdxg must match the
container's ROCm release). The pinned base (ROCm 6.4.1) predates that runtime. The newer base's
ROCm is recent enough, but compose.rocm.yaml passes /dev/kfd and /dev/dri and none of what
librocdxg needs, so the doctor does not offer the newer base on WSL2 while that is so: it reads
compose.rocm.yaml instead of assuming.
"""

from __future__ import annotations

import re

from labkit.i18n import N_, _

from labhost.rocm_bases import NEWER_BASE, RocmBase

# librocdxg 1.1.0's compatibility matrix (ROCm 7.2.x): these Radeon cards and Ryzen APUs only.
AMD_WSL_CARDS = "Radeon RX 7800 XT, RX 7900, RX 9060 and RX 9070 cards and Ryzen AI 9 and Ryzen AI Max APUs"
# The ROCm release whose runtime first loads librocdxg (librocdxg README, WSL Compatibility Matrix).
DXG_RUNTIME_SINCE = (7, 1)
# What a ROCm container on WSL2 needs from compose (AMD's WSL-specific flags), and how each
# would appear in compose.rocm.yaml's own text. librocdxg.so is asked for as a mount, AMD's way:
# no rocm/tensorflow image is known to carry it (an image that did would need this rule to read
# the image instead).
WSL_NEEDS = (
    (N_("pass /dev/dxg"), re.compile(r"/dev/dxg\b")),
    (N_("mount librocdxg.so"), re.compile(r"librocdxg\.so")),
    (N_("mount WSL's libdxcore.so"), re.compile(r"libdxcore\.so")),
    (N_("set HSA_ENABLE_DXG_DETECTION=1"), re.compile(r"HSA_ENABLE_DXG_DETECTION[\s\"':=]+1\b")),
)
COMMENT = re.compile(r"(^|\s)#.*$", re.MULTILINE)


def runtime_loads_librocdxg(base: RocmBase) -> bool:
    """Whether the base's ROCm release has the runtime that loads librocdxg on WSL2."""
    parts = base.rocm_version.split(".")
    numbers = tuple(int(p) for p in parts[:2] if p.isdigit())
    return len(numbers) == 2 and numbers >= DXG_RUNTIME_SINCE


def missing_for_wsl(compose_rocm_text: str) -> tuple[str, ...]:
    """What compose.rocm.yaml does not give a ROCm container for WSL2 (comments do not count)."""
    text = COMMENT.sub("", compose_rocm_text)
    return tuple(what for what, pattern in WSL_NEEDS if not pattern.search(text))


def newer_rocm_base_for_wsl(compose_rocm_text: str) -> RocmBase | None:
    """The instructor's newer ROCm base (rocm_bases.NEWER_BASE), when it can reach an AMD GPU on
    WSL2 through this lab: its runtime loads librocdxg and compose.rocm.yaml gives the container
    what librocdxg needs. None otherwise, which is the case today."""
    if not runtime_loads_librocdxg(NEWER_BASE) or missing_for_wsl(compose_rocm_text):
        return None
    return NEWER_BASE


def plan_reason() -> str:
    return _(
        "this is WSL2: there is no /dev/kfd, which the lab's ROCm image needs (AMD GPUs reach WSL2 "
        "only through /dev/dxg); the CPU lab runs"
    )


def _amd(compose_rocm_text: str) -> str:
    newer = newer_rocm_base_for_wsl(compose_rocm_text)
    if newer is not None:
        return _(
            "AMD: the CPU lab with the pinned ROCm image; {cards} can use the instructor's newer ROCm base "
            "({image}) with AMD's librocdxg for ROCm {version} installed in WSL"
        ).format(cards=AMD_WSL_CARDS, image=newer.base_image, version=newer.rocm_version)
    route = _("ROCm reaches only {cards} on WSL2, through /dev/dxg and AMD's librocdxg").format(cards=AMD_WSL_CARDS)
    if not runtime_loads_librocdxg(NEWER_BASE):
        return _("AMD: the CPU lab (the ROCm images need /dev/kfd, which WSL2 lacks; {route})").format(route=route)
    *most, last = (_(what) for what in missing_for_wsl(compose_rocm_text))
    missing = _("{items} or {last}").format(items=", ".join(most), last=last) if most else last
    return _(
        "AMD: the CPU lab (the ROCm images need /dev/kfd, which WSL2 lacks; {route}: the instructor's newer base "
        "has a runtime that loads it (ROCm {version}), but compose.rocm.yaml does not {missing})"
    ).format(route=route, version=NEWER_BASE.rocm_version, missing=missing)


def summary(*, nvidia_driver: bool, compose_rocm_text: str) -> tuple[str, str]:
    """(what works here, what to do) for the doctor's wsl2 line."""
    nvidia = (
        _("NVIDIA: works through Docker's GPU reservation (the Windows NVIDIA driver is installed)")
        if nvidia_driver
        else _("NVIDIA: works through Docker's GPU reservation once the Windows NVIDIA driver is installed")
    )
    fix = _(
        "for an AMD GPU, run the lab on a native Linux install; NVIDIA users: `scripts/lab setup` picks the NVIDIA "
        "stack once `nvidia-smi` works in WSL"
    )
    return f"WSL2. {nvidia}. {_amd(compose_rocm_text)}", fix
