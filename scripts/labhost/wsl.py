"""What works on WSL2 with this lab's pinned images, said plainly. Pure.

WSL2 gives Linux no /dev/kfd and no /dev/dri render nodes: the Windows driver's GPU is
/dev/dxg. NVIDIA's Container Toolkit (and Docker Desktop) maps it into containers, so the
NVIDIA overlay's GPU reservation works there. ROCm reaches an AMD GPU on WSL only through
/dev/dxg with AMD's WSL runtime (librocdxg), for Radeon RX 7000 (RDNA3) and RX 9000 (RDNA4)
cards, and compose.rocm.yaml passes /dev/kfd and /dev/dri, which WSL2 does not have: so AMD
students on WSL2 run the CPU lab, unless the instructor's newer ROCm base supports WSL.
"""

from __future__ import annotations

# Cards ROCm on WSL supports (AMD's "ROCm on WSL" compatibility notes).
AMD_WSL_CARDS = "Radeon RX 7000 (RDNA3) and RX 9000 (RDNA4)"


def newer_rocm_base_for_wsl() -> str | None:
    """The instructor's newer ROCm base (LAB_ROCM_BASE_IMAGE), when it can reach an AMD GPU
    on WSL2; None while there is none. The one place to align with the newer base's
    definition (the `rocmimage` work adds it as a second known base): a base qualifies only
    if its image carries AMD's WSL runtime (librocdxg) and the lab passes /dev/dxg instead of
    /dev/kfd and /dev/dri, which compose.rocm.yaml does not do today."""
    return None


def plan_reason() -> str:
    return (
        "this is WSL2: there is no /dev/kfd, which the lab's ROCm image needs (AMD GPUs reach WSL2 "
        "only through /dev/dxg); the CPU lab runs"
    )


def summary(*, nvidia_driver: bool) -> tuple[str, str]:
    """(what works here, what to do) for the doctor's wsl2 line."""
    nvidia = (
        "NVIDIA: works through Docker's GPU reservation (the Windows NVIDIA driver is installed)"
        if nvidia_driver
        else "NVIDIA: works through Docker's GPU reservation once the Windows NVIDIA driver is installed"
    )
    newer = newer_rocm_base_for_wsl()
    amd = (
        f"AMD: the CPU lab with the pinned ROCm image; {AMD_WSL_CARDS} cards can use the instructor's newer "
        f"ROCm base ({newer})"
        if newer
        else f"AMD: the CPU lab (the pinned ROCm image needs /dev/kfd, which WSL2 lacks; ROCm on WSL supports only "
        f"{AMD_WSL_CARDS} through /dev/dxg)"
    )
    fix = (
        "for an AMD GPU, run the lab on a native Linux install; NVIDIA users: `scripts/lab setup` picks the NVIDIA "
        "stack once `nvidia-smi` works in WSL"
    )
    return f"WSL2. {nvidia}. {amd}", fix
