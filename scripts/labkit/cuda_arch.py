"""Which of a TensorFlow build's CUDA kernels an NVIDIA card can run: pure functions.

The build info (tf.sysconfig.get_build_info()["cuda_compute_capabilities"]) lists what the
wheel carries: `sm_XY` is machine code (SASS) for compute capability X.Y, `compute_XY` is PTX,
which the driver compiles for the card on first use. TensorFlow 2.20.0's list is
['sm_60', 'sm_70', 'sm_80', 'sm_89', 'compute_90'].

CUDA's compatibility rules (CUDA C++ Programming Guide, "Binary Compatibility" and
"PTX Compatibility"): SASS for X.Y runs on a card X.Z with Z >= Y (same major only), except
the architecture-specific `sm_XYa` targets, which run on X.Y alone; PTX for X.Y can be
compiled for any card of compute capability X.Y or higher.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ARCH_PATTERN = re.compile(r"\b(sm|compute)_(\d+)(\d)(a|f)?\b")
CAPABILITY_PATTERN = re.compile(r"(\d+)\s*[.,]\s*(\d+)")


@dataclass(frozen=True, order=True)
class Arch:
    major: int
    minor: int
    kind: str  # "sass" or "ptx"
    specific: bool = False  # sm_90a: this exact capability only

    @property
    def name(self) -> str:
        prefix = "sm" if self.kind == "sass" else "compute"
        return f"{prefix}_{self.major}{self.minor}{'a' if self.specific else ''}"


def parse_archs(text: str) -> tuple[Arch, ...]:
    """Build info's list, as a list or as its string form ("['sm_60', ..., 'compute_90']")."""
    found = []
    for prefix, major, minor, suffix in ARCH_PATTERN.findall(str(text)):
        kind = "sass" if prefix == "sm" else "ptx"
        found.append(Arch(int(major), int(minor), kind, suffix == "a"))
    return tuple(found)


def parse_capability(text: object) -> tuple[int, int] | None:
    """A card's compute capability from TensorFlow's device details: (8, 6), "(8, 6)", "8.6"."""
    if isinstance(text, (tuple, list)) and len(text) == 2:
        return int(text[0]), int(text[1])
    match = CAPABILITY_PATTERN.search(str(text or ""))
    return (int(match[1]), int(match[2])) if match else None


def sass_for(card: tuple[int, int], archs: tuple[Arch, ...]) -> Arch | None:
    """The prebuilt machine code that runs on this card, if any."""
    major, minor = card
    fitting = [
        arch
        for arch in archs
        if arch.kind == "sass"
        and arch.major == major
        and (arch.minor == minor if arch.specific else arch.minor <= minor)
    ]
    return max(fitting, default=None)


def ptx_for(card: tuple[int, int], archs: tuple[Arch, ...]) -> Arch | None:
    """The newest PTX the driver may compile for this card, if any."""
    fitting = [arch for arch in archs if arch.kind == "ptx" and (arch.major, arch.minor) <= card]
    return max(fitting, default=None)


@dataclass(frozen=True)
class Coverage:
    card: tuple[int, int]
    sass: Arch | None
    ptx: Arch | None

    @property
    def ptx_only(self) -> bool:
        return self.sass is None and self.ptx is not None

    @property
    def none(self) -> bool:
        return self.sass is None and self.ptx is None

    @property
    def card_text(self) -> str:
        return f"{self.card[0]}.{self.card[1]}"


def coverage(card: tuple[int, int], archs: tuple[Arch, ...]) -> Coverage:
    return Coverage(card, sass_for(card, archs), ptx_for(card, archs))


def sass_list(archs: tuple[Arch, ...]) -> str:
    return ", ".join(arch.name for arch in archs if arch.kind == "sass") or "none"
