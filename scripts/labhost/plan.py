"""Which stack this host should run: the flavour, the AMD GPU, and the override. Pure.

The override rule itself lives in labkit.gfx (the GPU gate in the container uses the same);
this module only picks the GPU. Which targets the image supports comes from
labhost.rocm_bases (read from the built image, else the list AMD documents for its base),
both of its lists: compiled for, and accepted at run time (labhost.targets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from labkit import gfx
from labkit.hostfacts import kfd
from labkit.hostfacts.devices import DeviceFile
from labkit.i18n import _

from labhost import wsl
from labhost.facts import DrmCard, HostFacts, KfdNode
from labhost.targets import SupportedTargets

# LLVM targets that only exist as integrated GPUs (APUs), from LLVM's AMDGPU processor table.
# KFD's own node properties cannot tell: it reports local_mem_size as 0 for every GPU.
INTEGRATED_TARGETS = frozenset(
    {
        "gfx801",
        "gfx902",
        "gfx909",
        "gfx90c",
        "gfx1013",
        "gfx1033",
        "gfx1035",
        "gfx1036",
        "gfx1103",
        "gfx1150",
        "gfx1151",
        "gfx1152",
        "gfx1153",
    }
)
# Fewer compute units than this is a display engine, not a compute device: the Ryzen 7000/9000
# desktop "AMD Radeon Graphics" (gfx1036) has 2, about 0.5 TFLOP/s of FP32 at 2.2 GHz
# (2 CUs x 64 lanes x 2 FLOP/FMA), while one AVX2 core does 32 FLOP per cycle, so a 6-core
# desktop CPU of the same generation matches it and every one with more cores beats it. The
# smallest iGPUs people do train on have 8 (Vega 8) to 12 (680M, 780M).
MIN_COMPUTE_UNITS = 4


@dataclass(frozen=True)
class AmdGpu:
    """One AMD GPU agent; `index` is its place among GPU agents, as ROCR_VISIBLE_DEVICES counts."""

    index: int
    node: int
    target: gfx.GfxTarget | None  # None: the kernel does not report gfx_target_version
    simd_count: int
    render_minor: int
    integrated: bool
    compute_units: int | None = None
    pci_slot: str | None = None

    @property
    def name(self) -> str:
        kind = _("integrated") if self.integrated else _("discrete")
        units = (
            _("{count} compute units").format(count=self.compute_units)
            if self.compute_units
            else _("{count} SIMDs").format(count=self.simd_count)
        )
        target = self.target.llvm_name if self.target else _("unknown target")
        return f"{target} ({kind}, {units}, /dev/dri/renderD{self.render_minor})"

    @property
    def display_only(self) -> bool:
        """Too small to beat the CPU at training (see MIN_COMPUTE_UNITS)."""
        return self.compute_units is not None and self.compute_units < MIN_COMPUTE_UNITS


class WarningKind(Enum):
    """What a plan warning is about, so the doctor files it under the right check without
    reading its words (which are in the student's language)."""

    SKIPPED_CARD = "skipped card"  # a card the kernel sees but ROCm's driver did not take: the gpu check
    CARD = "card"  # the card the lab uses (a risky override, shared memory): the rocm target check
    IMAGE = "image"  # the ROCm image's TensorFlow (a broken target list): the rocm target check


@dataclass(frozen=True)
class PlanWarning:
    kind: WarningKind
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Plan:
    flavour: str
    reason: str
    gpu: AmdGpu | None = None
    decision: gfx.OverrideDecision | None = None
    visible_devices: str | None = None
    warnings: tuple[PlanWarning, ...] = ()
    # What setup writes: a value to set, or None for "must not be set".
    env: dict[str, str | None] = field(default_factory=dict)


def is_integrated(node: KfdNode) -> bool:
    target = node.target
    # Old APUs (Kaveri, Carrizo) showed up as one node with CPU cores and SIMDs.
    return (target is not None and target.llvm_name in INTEGRATED_TARGETS) or node.prop("cpu_cores_count") > 0


def amd_gpus(nodes: tuple[KfdNode, ...]) -> list[AmdGpu]:
    """The GPU agents as ROCm numbers them (labkit.hostfacts.kfd: the gate reads the same)."""
    return [
        AmdGpu(
            index,
            node.node,
            node.target,
            node.prop("simd_count"),
            node.prop("drm_render_minor"),
            is_integrated(node),
            node.compute_units,
            node.pci_slot,
        )
        for index, node in enumerate(kfd.gpu_agents(nodes))
    ]


def decide(gpu: AmdGpu, supported: SupportedTargets) -> gfx.OverrideDecision:
    if gpu.target is None:
        return gfx.OverrideDecision(
            "unknown",
            None,
            False,
            _(
                "the kernel does not say which GPU target this is (no gfx_target_version in KFD's topology): "
                "update the kernel"
            ),
        )
    return gfx.decide_override(gpu.target, supported.image)


def choose_amd(gpus: list[AmdGpu], supported: SupportedTargets) -> tuple[AmdGpu | None, gfx.OverrideDecision | None]:
    """The GPU to use: a usable discrete one first (the most SIMDs), else a usable integrated
    one; a display-only iGPU comes last (the plan then prefers the CPU)."""
    if not gpus:
        return None, None
    decisions = {gpu.index: decide(gpu, supported) for gpu in gpus}
    ranked = sorted(
        gpus,
        key=lambda g: (not decisions[g.index].usable, g.display_only, g.integrated, -g.simd_count, g.index),
    )
    best = ranked[0]
    return best, decisions[best.index]


def skipped_cards(facts: HostFacts, gpus: list[AmdGpu]) -> list[DrmCard]:
    """AMD cards the kernel's DRM side has but ROCm's driver (KFD) did not register.

    Matched by PCI address (the card's uevent PCI_SLOT_NAME against KFD's domain and
    location_id); where either is unknown, only a surplus of cards can be seen."""
    amd = [card for card in facts.cards if card.vendor == "AMD"]
    if not facts.kfd_present:
        return amd
    slots = {gpu.pci_slot for gpu in gpus}
    if all(card.pci_slot for card in amd) and None not in slots:
        return [card for card in amd if card.pci_slot not in slots]
    return amd[len(gpus) :] if len(amd) > len(gpus) else []


def skipped_note(cards: list[DrmCard], *, kfd_present: bool) -> str:
    names = ", ".join(f"{c.name} (PCI {c.pci_slot or '?'}, 1002:{c.device_id:04x})" for c in cards)
    if not kfd_present:
        return _(
            "the kernel sees the AMD GPU {names}, but the amdgpu driver's compute part (KFD) is not loaded "
            "(no /sys/class/kfd): `sudo dmesg | grep -i kfd` says why; a kernel built without CONFIG_HSA_AMD has none"
        ).format(names=names)
    # amdkfd's own words (drivers/gpu/drm/amd/amdkfd/kfd_device.c): "kfd kfd: amdgpu: skipped
    # device 1002:67df, PCI rejects atomics" (slot or board without PCIe atomics) and
    # "... GC IP 0b0004 not supported in kfd" / "TAHITI not supported in kfd" (kernel too old
    # for the chip, or a chip ROCm never supported).
    return _(
        "the kernel sees the AMD GPU {names}, but ROCm's driver (amdkfd) did not register it: "
        "`sudo dmesg | grep kfd` says why: 'skipped device ..., PCI rejects atomics' (the slot or board "
        "lacks PCIe atomics: try another slot) or '... not supported in kfd' (a kernel too old for this GPU: "
        "update the kernel)"
    ).format(names=names)


def _nvidia_present(facts: HostFacts) -> bool:
    return (
        any(card.vendor == "NVIDIA" for card in facts.cards)
        or facts.device("/dev/nvidia0") is not None
        or (facts.is_wsl and "nvidia-smi" in facts.tools)
    )


def make_plan(facts: HostFacts, supported: SupportedTargets) -> Plan:
    """Decide the stack for this host. The CPU lab is always the fallback, with the reason why."""
    warnings: list[PlanWarning] = []
    if supported.broken:
        warnings.append(
            PlanWarning(
                WarningKind.IMAGE,
                _(
                    "the ROCm image's TensorFlow prints its targets glued together ('gfx1030gfx1100'): it is the "
                    "broken tensorflow-rocm 2.14.0.600 build, which rejects overridden cards; pin another image"
                ),
            )
        )
    if _nvidia_present(facts):
        return Plan("nvidia", _("an NVIDIA GPU is present"), warnings=tuple(warnings), env=_base_env("nvidia"))

    gpus = amd_gpus(facts.kfd_nodes)
    if facts.is_wsl:
        return Plan("cpu", wsl.plan_reason(), warnings=tuple(warnings), env=_base_env("cpu"))
    skipped = skipped_cards(facts, gpus)
    if skipped:
        warnings.append(PlanWarning(WarningKind.SKIPPED_CARD, skipped_note(skipped, kfd_present=facts.kfd_present)))
    if not gpus:
        if skipped:
            reason = _("{note}; the CPU lab runs").format(note=skipped_note(skipped, kfd_present=facts.kfd_present))
        elif facts.cards:
            vendors = ", ".join(sorted({c.vendor for c in facts.cards}))
            reason = _("no GPU this lab can use ({vendors}); the CPU lab runs").format(vendors=vendors)
        else:
            reason = _("no GPU found; the CPU lab runs")
        return Plan("cpu", reason, warnings=(), env=_base_env("cpu"))

    gpu, decision = choose_amd(gpus, supported)
    assert gpu is not None and decision is not None
    if not decision.usable:
        names = ", ".join(g.name for g in gpus)
        return Plan("cpu", f"{names}: {decision.reason}", gpu, decision, warnings=tuple(warnings), env=_base_env("cpu"))
    if gpu.display_only:
        reason = _(
            "the only GPU, {gpu}, is a display engine: with {units} compute units it trains "
            "slower than the CPU (ROCm could use it with HSA_OVERRIDE_GFX_VERSION={value}, "
            "but the CPU lab is faster); the CPU lab runs"
        ).format(gpu=gpu.name, units=gpu.compute_units, value=decision.override or _("unset"))
        # No decision: no override is recommended for a card the lab does not use.
        return Plan("cpu", reason, gpu, None, warnings=tuple(warnings), env=_base_env("cpu"))

    visible = str(gpu.index) if len(gpus) > 1 else None
    reason = decision.reason
    if visible is not None:
        others = ", ".join(g.name for g in gpus if g is not gpu)
        reason += _("; uses GPU {index} {gpu} only (ROCR_VISIBLE_DEVICES={visible}), not {others}").format(
            index=gpu.index, gpu=gpu.name, visible=visible, others=others
        )
    if decision.warning:
        warnings.append(PlanWarning(WarningKind.CARD, decision.warning))
    if gpu.integrated:
        warnings.append(
            PlanWarning(
                WarningKind.CARD,
                _("an integrated GPU shares the computer's memory; large models and batches may not fit"),
            )
        )
    env = _base_env("rocm")
    env["HSA_OVERRIDE_GFX_VERSION"] = decision.override
    # One GPU: a stale index copied from another computer would hide it. Two: ROCR picks one,
    # and HIP_VISIBLE_DEVICES must go, because the two filters stack.
    env["ROCR_VISIBLE_DEVICES"] = visible
    if visible is not None:
        env["HIP_VISIBLE_DEVICES"] = None
    env.update(
        gpu_group_ids(
            kfd_device=facts.device("/dev/kfd"), render_device=facts.device(f"/dev/dri/renderD{gpu.render_minor}")
        )
    )
    return Plan("rocm", reason, gpu, decision, visible, tuple(warnings), env)


def gpu_group_ids(*, kfd_device: DeviceFile | None, render_device: DeviceFile | None) -> dict[str, str | None]:
    """The numeric groups compose.rocm.yaml adds, one slot per device: the group that opens it,
    or none at all when the device is open to everyone (mode 666) or opens for root only
    (the doctor's device check says what to do then). Root's group (0) is never handed to
    the lab. On current hosts /dev/kfd and the render node share `render`, so one group
    covers both and LAB_KFD_GID stays unset (compose refuses the same group twice); an old
    LAB_VIDEO_GID goes then too (labhost.envsetup renames old names)."""
    render_gid = render_device.group_to_add if render_device else None
    kfd_gid = kfd_device.group_to_add if kfd_device else None
    return {
        "LAB_RENDER_GID": str(render_gid) if render_gid is not None else None,
        "LAB_KFD_GID": str(kfd_gid) if kfd_gid is not None and kfd_gid != render_gid else None,
    }


def _base_env(flavour: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {"LAB_FLAVOUR": flavour}
    if flavour != "rocm":
        # A leftover override from another card must not reach ROCm (and means nothing elsewhere).
        env["HSA_OVERRIDE_GFX_VERSION"] = None
    return env
