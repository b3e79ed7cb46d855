"""AMD GPU targets: KFD topology numbers, LLVM names, and the HSA override rule.

Pure functions only. The facts behind the rules are in the project's DESIGN notes:
- KFD reports gfx_target_version = major*10000 + minor*100 + stepping (decimal);
  the LLVM name is gfx{major}{minor}{stepping as hex digit}, e.g. 100301 -> gfx1031.
- An unsupported target may borrow a supported target of the same family and major version
  through HSA_OVERRIDE_GFX_VERSION; never one the image already supports, never across
  major versions, never empty.
- An image's TensorFlow has two lists (ImageTargets): the targets it has kernels for, and the
  targets XLA accepts at run time (it refuses any other card). "Supported" means on both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labkit.i18n import N_, _

OVERRIDE_PATTERN = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
LLVM_NAME_PATTERN = re.compile(r"^gfx([0-9]{1,2})([0-9a-f])([0-9a-f])$")


@dataclass(frozen=True, order=True)
class GfxTarget:
    major: int
    minor: int
    stepping: int

    @property
    def llvm_name(self) -> str:
        return f"gfx{self.major}{self.minor:x}{self.stepping:x}"

    @property
    def override_value(self) -> str:
        """The HSA_OVERRIDE_GFX_VERSION spelling of this target, e.g. 10.3.0."""
        return f"{self.major}.{self.minor}.{self.stepping}"

    @property
    def family(self) -> tuple[int, int]:
        return (self.major, self.minor)


def from_kfd_version(value: int) -> GfxTarget | None:
    """Decode KFD's gfx_target_version; 0 (CPU nodes) gives None."""
    if value <= 0:
        return None
    return GfxTarget(value // 10000, (value // 100) % 100, value % 100)


def from_kfd_properties(text: str) -> GfxTarget | None:
    """The target of one KFD topology node, from the text of its `properties` file.

    The file holds one "name value" pair a line; CPU nodes say gfx_target_version 0.
    KFD describes the silicon, so this is the card's real target even under an override.
    """
    for line in text.splitlines():
        key, _sep, value = line.strip().partition(" ")
        if key == "gfx_target_version" and value.strip().isdigit():
            return from_kfd_version(int(value.strip()))
    return None


def from_llvm_name(name: str) -> GfxTarget | None:
    """Parse 'gfx1031', 'gfx90c' or 'gfx90a:xnack-' (feature suffixes are ignored)."""
    base = name.strip().lower().split(":", 1)[0]
    # Three-digit names (gfx803, gfx90c) have a one-digit major; four-digit ones two.
    digits = base[3:] if base.startswith("gfx") else ""
    if len(digits) == 3:
        major, rest = digits[0], digits[1:]
    elif len(digits) == 4:
        major, rest = digits[:2], digits[2:]
    else:
        return None
    if not major.isdigit() or not all(c in "0123456789abcdef" for c in rest):
        return None
    return GfxTarget(int(major), int(rest[0], 16), int(rest[1], 16))


def from_override(value: str) -> GfxTarget | None:
    """Parse an HSA_OVERRIDE_GFX_VERSION value such as '10.3.0'; anything else gives None."""
    match = OVERRIDE_PATTERN.match(value.strip())
    if not match:
        return None
    return GfxTarget(*(int(part) for part in match.groups()))


# Targets no current ROCm TensorFlow image can use, with the reason a student is told
# (English keys of the catalogue: decide_override translates them when it builds its reason).
UNUSABLE_TARGETS: dict[str, str] = {
    "gfx803": N_("Polaris (RX 470/480/570/580) support was removed from ROCm; use the CPU lab"),
    "gfx1010": N_("RDNA1 (RX 5700) is not supported by current ROCm images; use the CPU lab"),
    "gfx1011": N_("RDNA1 (Radeon Pro 5600M) is not supported by current ROCm images; use the CPU lab"),
    "gfx1012": N_("RDNA1 (RX 5500) is not supported by current ROCm images; use the CPU lab"),
}

# Targets that work with an override but are known to misbehave; the student is warned.
UNRELIABLE_WITH_OVERRIDE: dict[str, str] = {
    "gfx1103": N_(
        "the Radeon 780M with HSA_OVERRIDE_GFX_VERSION=11.0.0 is known to page-fault "
        "under load; save often, or use the CPU lab for long runs"
    ),
}


@dataclass(frozen=True)
class OverrideDecision:
    """What to do about HSA_OVERRIDE_GFX_VERSION for one card and one image."""

    target: str
    override: str | None  # the value to set, or None for "leave it unset"
    usable: bool
    reason: str
    warning: str | None = None


@dataclass(frozen=True)
class ImageTargets:
    """What one image's TensorFlow can run: the targets it was compiled for, and the targets it
    accepts at run time (XLA's list, the one it prints when it refuses a card), or None when
    that list is not known. Every decision about a card goes through `runnable`, on the host
    (setup, the doctor) and in the container (the GPU check) alike."""

    compiled: tuple[GfxTarget, ...]
    runtime: tuple[GfxTarget, ...] | None = None

    @property
    def runnable(self) -> tuple[GfxTarget, ...]:
        """Targets with kernels that TensorFlow also accepts; with the run-time list unknown,
        the compiled list alone (the GPU check learns the other the first time it is refused)."""
        if self.runtime is None:
            return self.compiled
        return tuple(target for target in self.compiled if target in self.runtime)

    def refused(self, target: GfxTarget) -> bool:
        """Compiled in, but off the list TensorFlow accepts: kernels it will never use."""
        return self.runtime is not None and target in self.compiled and target not in self.runtime


def donor_for(target: GfxTarget) -> GfxTarget | None:
    """The supported target an unsupported card may borrow: its generation's base chip.

    RDNA2 (gfx1031-1036) -> gfx1030, RDNA3 (gfx1101-1103) -> gfx1100, RDNA4 -> gfx1200,
    Vega APUs (gfx902, gfx909, gfx90c) -> gfx900. gfx908/90a/94x share major 9 with Vega but
    are CDNA datacentre parts, so the same major version alone is not enough.
    """
    if target.family in {(10, 3), (11, 0), (12, 0)}:
        return GfxTarget(target.major, target.minor, 0)
    if target.family == (9, 0) and target.stepping in {0x2, 0x9, 0xC}:
        return GfxTarget(9, 0, 0)
    return None


def decide_override(target: GfxTarget, image: ImageTargets) -> OverrideDecision:
    """Pick the override for `target` on this image: none when the card runs natively (its
    target on both lists), else a donor of its family on both lists, else the CPU lab. The
    only decision function: setup, the doctor and the GPU check all call it. The reason and
    warning are in the student's language (read at call time)."""
    name = target.llvm_name
    runnable = image.runnable
    if name in UNUSABLE_TARGETS:
        return OverrideDecision(name, None, False, _(UNUSABLE_TARGETS[name]))
    if target in runnable:
        # Overriding a target the image supports has crashed ROCm: never do it.
        return OverrideDecision(name, None, True, _("{target} is supported by this image natively").format(target=name))
    donor = donor_for(target)
    if donor is None or donor == target:
        return OverrideDecision(
            name,
            None,
            False,
            _(
                "{target} is not supported by this image and has no safe stand-in target; "
                "an override across families or major versions crashes ROCm"
            ).format(target=name),
        )
    if donor not in runnable:
        return OverrideDecision(
            name,
            None,
            False,
            _(
                "{target} could run as {donor}, but this image supports neither; "
                "pin an image whose TensorFlow lists one of them"
            ).format(target=name, donor=donor.llvm_name),
        )
    risk = UNRELIABLE_WITH_OVERRIDE.get(name)
    if image.refused(target):
        # The RX 7600 on TensorFlow 2.20 before ROCm/tensorflow-upstream#3181: kernels, but refused.
        reason = _(
            "{target} has kernels in this image, but its TensorFlow does not accept it; it runs as {donor} "
            "with HSA_OVERRIDE_GFX_VERSION={value}"
        )
    else:
        reason = _("{target} is not in this image's list; it runs as {donor} with HSA_OVERRIDE_GFX_VERSION={value}")
    return OverrideDecision(
        name,
        donor.override_value,
        True,
        reason.format(target=name, donor=donor.llvm_name, value=donor.override_value),
        _(risk) if risk else None,
    )


def parse_target_list(text: str) -> list[GfxTarget]:
    """Parse a target list as TensorFlow prints it ('gfx1030 gfx1100', 'gfx908, gfx90a').

    Glued names (the broken tensorflow-rocm 2.14.0.600 printed 'gfx1030gfx1100') do not
    parse here; see `has_glued_targets`.
    """
    targets = []
    for token in re.split(r"[\s,;]+", text):
        target = from_llvm_name(token) if token else None
        if target is not None:
            targets.append(target)
    return targets


def has_glued_targets(text: str) -> bool:
    """True when two gfx names are stuck together, as the broken 2.14.0.600 build prints."""
    return re.search(r"gfx[0-9a-f]+gfx[0-9a-f]+", text) is not None
