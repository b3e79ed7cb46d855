"""Which stack this host should run: the flavour, the AMD GPU, and the override. Pure.

The override rule itself lives in labkit.gfx (the GPU gate in the container uses the same);
this module only picks the GPU. Which targets the image supports comes from
labhost.rocm_bases (read from the built image, else the list AMD documents for its base).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from labkit import gfx

from labhost.facts import HostFacts, KfdNode

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


@dataclass(frozen=True)
class AmdGpu:
    """One AMD GPU agent; `index` is its place among GPU agents, as ROCR_VISIBLE_DEVICES counts."""

    index: int
    node: int
    target: gfx.GfxTarget
    simd_count: int
    render_minor: int
    integrated: bool

    @property
    def name(self) -> str:
        kind = "integrated" if self.integrated else "discrete"
        return f"{self.target.llvm_name} ({kind}, {self.simd_count} SIMDs, /dev/dri/renderD{self.render_minor})"


@dataclass(frozen=True)
class SupportedTargets:
    targets: tuple[gfx.GfxTarget, ...]
    source: str
    text: str = ""

    @property
    def broken(self) -> bool:
        return gfx.has_glued_targets(self.text)


@dataclass(frozen=True)
class Plan:
    flavour: str
    reason: str
    gpu: AmdGpu | None = None
    decision: gfx.OverrideDecision | None = None
    visible_devices: str | None = None
    warnings: tuple[str, ...] = ()
    # What setup writes: a value to set, or None for "must not be set".
    env: dict[str, str | None] = field(default_factory=dict)


def is_integrated(node: KfdNode) -> bool:
    target = gfx.from_kfd_version(node.prop("gfx_target_version"))
    # Old APUs (Kaveri, Carrizo) showed up as one node with CPU cores and SIMDs.
    return (target is not None and target.llvm_name in INTEGRATED_TARGETS) or node.prop("cpu_cores_count") > 0


def amd_gpus(nodes: tuple[KfdNode, ...]) -> list[AmdGpu]:
    gpus = []
    for node in sorted((n for n in nodes if n.is_gpu), key=lambda n: n.node):
        target = gfx.from_kfd_version(node.prop("gfx_target_version"))
        assert target is not None
        gpus.append(
            AmdGpu(
                len(gpus),
                node.node,
                target,
                node.prop("simd_count"),
                node.prop("drm_render_minor"),
                is_integrated(node),
            )
        )
    return gpus


def choose_amd(gpus: list[AmdGpu], supported: SupportedTargets) -> tuple[AmdGpu | None, gfx.OverrideDecision | None]:
    """The GPU to use: a usable discrete one first (the most SIMDs), else a usable integrated one."""
    if not gpus:
        return None, None
    decisions = {gpu.index: gfx.decide_override(gpu.target, list(supported.targets)) for gpu in gpus}
    ranked = sorted(gpus, key=lambda g: (not decisions[g.index].usable, g.integrated, -g.simd_count, g.index))
    best = ranked[0]
    return best, decisions[best.index]


def _nvidia_present(facts: HostFacts) -> bool:
    return (
        any(card.vendor == "NVIDIA" for card in facts.cards)
        or facts.device("/dev/nvidia0") is not None
        or (facts.is_wsl and "nvidia-smi" in facts.tools)
    )


def make_plan(facts: HostFacts, supported: SupportedTargets) -> Plan:
    """Decide the stack for this host. The CPU lab is always the fallback, with the reason why."""
    warnings: list[str] = []
    if supported.broken:
        warnings.append(
            "the ROCm image's TensorFlow prints its targets glued together ('gfx1030gfx1100'): it is the broken "
            "tensorflow-rocm 2.14.0.600 build, which rejects overridden cards; pin another image"
        )
    if _nvidia_present(facts):
        return Plan("nvidia", "an NVIDIA GPU is present", warnings=tuple(warnings), env=_base_env("nvidia"))

    gpus = amd_gpus(facts.kfd_nodes)
    if facts.is_wsl and (gpus or any(card.vendor == "AMD" for card in facts.cards) or facts.device("/dev/dxg")):
        reason = (
            "this is WSL2: AMD GPUs there go through /dev/dxg, and the lab's ROCm stack needs /dev/kfd "
            "from a native Linux install; the CPU lab runs"
        )
        return Plan("cpu", reason, warnings=tuple(warnings), env=_base_env("cpu"))
    if not gpus:
        amd_cards = [c for c in facts.cards if c.vendor == "AMD"]
        if amd_cards and not facts.kfd_present:
            reason = "an AMD GPU is present but the amdgpu driver exposes no ROCm (KFD) devices; the CPU lab runs"
        elif facts.cards:
            vendors = ", ".join(sorted({c.vendor for c in facts.cards}))
            reason = f"no GPU this lab can use ({vendors}); the CPU lab runs"
        else:
            reason = "no GPU found; the CPU lab runs"
        return Plan("cpu", reason, warnings=tuple(warnings), env=_base_env("cpu"))

    gpu, decision = choose_amd(gpus, supported)
    assert gpu is not None and decision is not None
    if not decision.usable:
        names = ", ".join(g.name for g in gpus)
        return Plan("cpu", f"{names}: {decision.reason}", gpu, decision, warnings=tuple(warnings), env=_base_env("cpu"))

    visible = str(gpu.index) if len(gpus) > 1 else None
    reason = decision.reason
    if visible is not None:
        others = ", ".join(g.name for g in gpus if g is not gpu)
        reason += f"; uses GPU {gpu.index} {gpu.name} only (ROCR_VISIBLE_DEVICES={visible}), not {others}"
    if decision.warning:
        warnings.append(decision.warning)
    if gpu.integrated:
        warnings.append("an integrated GPU shares the computer's memory; large models and batches may not fit")
    env = _base_env("rocm")
    env["HSA_OVERRIDE_GFX_VERSION"] = decision.override
    # One GPU: a stale index copied from another computer would hide it. Two: ROCR picks one,
    # and HIP_VISIBLE_DEVICES must go, because the two filters stack.
    env["ROCR_VISIBLE_DEVICES"] = visible
    if visible is not None:
        env["HIP_VISIBLE_DEVICES"] = None
    kfd = facts.device("/dev/kfd")
    render = facts.device(f"/dev/dri/renderD{gpu.render_minor}")
    env.update(gpu_group_ids(kfd.gid if kfd else None, render.gid if render else None))
    return Plan("rocm", reason, gpu, decision, visible, tuple(warnings), env)


def gpu_group_ids(kfd_gid: int | None, render_gid: int | None) -> dict[str, str | None]:
    """The numeric groups compose.rocm.yaml adds: the render node's, and /dev/kfd's only where
    it differs (older hosts give /dev/kfd to video; current ones give both to render, and
    compose refuses the same group twice). LAB_VIDEO_GID, the old name, is removed."""
    ids: dict[str, str | None] = {"LAB_VIDEO_GID": None, "LAB_KFD_GID": None}
    if render_gid is not None:
        ids["LAB_RENDER_GID"] = str(render_gid)
    if kfd_gid is not None and kfd_gid != render_gid:
        ids["LAB_KFD_GID"] = str(kfd_gid)
    return ids


def _base_env(flavour: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {"LAB_FLAVOUR": flavour}
    if flavour != "rocm":
        # A leftover override from another card must not reach ROCm (and means nothing elsewhere).
        env["HSA_OVERRIDE_GFX_VERSION"] = None
    return env
