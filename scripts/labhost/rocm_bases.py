"""The ROCm base images this lab knows, and when a card needs the newer one. Pure.

Two bases: the pinned one (compose.rocm.yaml's default) and a newer one an instructor may
choose for cards the pinned TensorFlow has no kernels for (the gfx1150/gfx1151 Strix
laptops reached TensorFlow-ROCm only in 2.19/2.20 builds). The lab image's name says
which base it was built on. Each base carries the GPU target list AMD's build recipe
gives its TensorFlow wheel: the doctor may use it only while the image is not built, and
says so ("documented, not read"); a built image records what its own libraries contain
(image/rocm_targets.py), and that always wins.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass

from labkit import gfx, seen_targets
from labkit.i18n import N_, _

from labhost.targets import SupportedTargets

# Where Dockerfile.rocm puts what image/rocm_targets.py read from TensorFlow's libraries.
TARGETS_FILE = "/opt/lab/rocm-tf-targets.json"
TARGETS_FILE_LABEL = "io.courselab.rocm.tf-targets-file"


@dataclass(frozen=True)
class RocmBase:
    base_image: str  # LAB_ROCM_BASE_IMAGE
    lab_image: str  # LAB_ROCM_IMAGE: the name says which base it was built on
    rocm_version: str
    tensorflow: str
    documented_targets: tuple[str, ...]
    source: str  # where the documented list comes from (a catalogue key: shown through _())

    @property
    def env(self) -> dict[str, str]:
        """The .env lines that choose this base."""
        return {"LAB_ROCM_BASE_IMAGE": self.base_image, "LAB_ROCM_IMAGE": self.lab_image}


# AMD's TensorFlow install page lists rocm/tensorflow:rocm6.4.1-py3.12-tf2.18-dev for ROCm
# 6.4 (TensorFlow 2.16-2.18). Its wheel's targets: GPU_DEVICE_TARGETS in
# ROCm/tensorflow-upstream tensorflow/tools/tf_sig_build_dockerfiles/setup.rocm.sh on
# r2.18-rocm-enhanced, after PRs #2832 (gfx1101) and #2836 (gfx1102).
PINNED_BASE = RocmBase(
    base_image="rocm/tensorflow:rocm6.4.1-py3.12-tf2.18-dev",
    lab_image="courselab.invalid/lab:2.18-rocm6.4.1",
    rocm_version="6.4.1",
    tensorflow="2.18",
    documented_targets=tuple(
        "gfx908 gfx90a gfx940 gfx941 gfx942 gfx1030 gfx1100 gfx1101 gfx1102 gfx1200 gfx1201".split()
    ),
    source=N_("AMD's build recipe for TensorFlow r2.18 (ROCm/tensorflow-upstream setup.rocm.sh, PRs #2832, #2836)"),
)

# AMD's TensorFlow install page, "validated for ROCm 7.2.4": rocm/tensorflow:rocm7.2.4-py3.12-
# tf2.20-dev (Ubuntu 24.04, Python 3.12, digest sha256:3ed1ade56a3eb3645082933e293ade4c804adb
# 92a206bea85e277b13a6edc5c2 there). Its wheel's targets: GPU_DEVICE_TARGETS of AMD's wheel
# build images (tf_sig_build_dockerfiles/Dockerfile.rocm.manylinux_2_28 and .ub24: gfx908
# gfx90a gfx942 gfx950 gfx1030 gfx1100 gfx1101 gfx1102 gfx1200 gfx1201) plus gfx1150 and
# gfx1151 from PR #3181 "Enable gfx115x support" (TF 2.20, March 2026; #3182 for 2.19).
NEWER_BASE = RocmBase(
    base_image="rocm/tensorflow:rocm7.2.4-py3.12-tf2.20-dev",
    lab_image="courselab.invalid/lab:2.20-rocm7.2.4",
    rocm_version="7.2.4",
    tensorflow="2.20",
    documented_targets=tuple(
        "gfx908 gfx90a gfx942 gfx950 gfx1030 gfx1100 gfx1101 gfx1102 gfx1150 gfx1151 gfx1200 gfx1201".split()
    ),
    source=N_("AMD's build recipe for TensorFlow 2.20 (ROCm/tensorflow-upstream manylinux_2_28 images, PR #3181)"),
)

KNOWN_BASES = (PINNED_BASE, NEWER_BASE)
COMPOSE_DEFAULT = re.compile(r"\$\{LAB_ROCM_BASE_IMAGE:-([^}]+)\}")
IMAGE_DEFAULT = re.compile(r"\$\{LAB_ROCM_IMAGE:-([^}]+)\}")


def known_base(base_image: str) -> RocmBase | None:
    return next((base for base in KNOWN_BASES if base.base_image == base_image), None)


def configured(values: dict[str, str], compose_rocm_text: str) -> tuple[str, str]:
    """(base image, lab image) the ROCm stack builds: .env's values, else compose's defaults."""
    base = COMPOSE_DEFAULT.search(compose_rocm_text)
    image = IMAGE_DEFAULT.search(compose_rocm_text)
    return (
        values.get("LAB_ROCM_BASE_IMAGE") or (base.group(1) if base else PINNED_BASE.base_image),
        values.get("LAB_ROCM_IMAGE") or (image.group(1) if image else PINNED_BASE.lab_image),
    )


def targets_from_file(text: str, image: str) -> SupportedTargets | None:
    """The lists a built image recorded (TARGETS_FILE's JSON), or None if it is not that. An
    image built before the run-time list was read has only the compiled one."""
    try:
        data = json.loads(text)
        names = data["targets"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(names, list):
        return None
    joined = " ".join(str(name) for name in names)
    runtime = data.get("runtime_targets")
    if isinstance(runtime, list) and runtime:
        runtime_text = " ".join(str(name) for name in runtime)
        runtime_targets: tuple[gfx.GfxTarget, ...] | None = tuple(gfx.parse_target_list(runtime_text))
        runtime_source = _("read from image {image} ({where})").format(
            image=image, where=data.get("runtime_source", "")
        )
    else:
        runtime_text, runtime_targets = "", None
        problem = data.get("runtime_problem")
        runtime_source = (
            _("not readable from image {image} ({problem})").format(image=image, problem=problem)
            if problem
            else _("not recorded by image {image}: rebuild it").format(image=image)
        )
    return SupportedTargets(
        tuple(gfx.parse_target_list(joined)),
        _("read from image {image} (its TensorFlow's own libraries)").format(image=image),
        joined,
        runtime_targets,
        runtime_source,
        runtime_text,
        str(data.get("tensorflow_id") or ""),
    )


def with_seen(supported: SupportedTargets, seen: seen_targets.Seen | None) -> SupportedTargets:
    """The image's lists with the run-time list TensorFlow printed when it refused a card on
    this computer (the GPU check recorded it): that is what TensorFlow did, so it wins."""
    if seen is None:
        return supported
    return dataclasses.replace(
        supported,
        runtime=tuple(seen.targets),
        runtime_text=seen.printed,
        runtime_source=_("printed by TensorFlow when it refused a card here ({when})").format(when=seen.seen_at),
    )


def documented(base_image: str, why: str) -> SupportedTargets:
    """The list AMD's recipe documents for a known base, marked as not read from an image.
    `why` says why the image could not be read (not built, no Docker, built before this). The
    run-time list is not documented anywhere: unknown until the image is built."""
    unknown = _("unknown until the image is built ({why})").format(why=why)
    base = known_base(base_image)
    if base is None:
        return SupportedTargets(
            (),
            _("unknown: {why}, and {base} is not a base this lab knows; build the image").format(
                why=why, base=base_image
            ),
            runtime_source=unknown,
        )
    text = " ".join(base.documented_targets)
    return SupportedTargets(
        tuple(gfx.parse_target_list(text)),
        _("documented for {base}, not read from the image ({why}): {source}").format(
            base=base_image, why=why, source=_(base.source)
        ),
        text,
        runtime_source=unknown,
    )


@dataclass(frozen=True)
class Recommendation:
    base: RocmBase
    target: str
    detail: str
    fix: str


# The consumer GPUs students bring (Radeon RX 6000/7000/9000 cards and Ryzen iGPUs), for what
# an instructor must know before moving a class to another base.
CONSUMER_TARGETS = tuple(
    gfx.parse_target_list(
        "gfx90c gfx1030 gfx1031 gfx1032 gfx1033 gfx1034 gfx1035 gfx1036 gfx1100 gfx1101 gfx1102 gfx1103 "
        "gfx1150 gfx1151 gfx1152 gfx1153 gfx1200 gfx1201"
    )
)


def consumer_overrides(image: gfx.ImageTargets) -> dict[str, list[str]]:
    """{override value: the consumer targets that need it} on an image with these lists."""
    needed: dict[str, list[str]] = {}
    for target in CONSUMER_TARGETS:
        decision = gfx.decide_override(target, image)
        if decision.override:
            needed.setdefault(decision.override, []).append(target.llvm_name)
    return needed


def overrides_clause(supported: SupportedTargets) -> str:
    """Which consumer cards need HSA_OVERRIDE_GFX_VERSION on this image: from both of its lists,
    so only once the run-time list is known (the image is built and it was read or seen)."""
    if supported.runtime is None:
        return _(
            "which consumer cards need HSA_OVERRIDE_GFX_VERSION there is not known yet: its run-time list is {why}"
        ).format(why=supported.runtime_source)
    needed = consumer_overrides(supported.image)
    if not needed:
        return _("no consumer card needs HSA_OVERRIDE_GFX_VERSION there")
    groups = "; ".join(f"{value}: {', '.join(names)}" for value, names in needed.items())
    return _("there these consumer cards need HSA_OVERRIDE_GFX_VERSION: {groups}").format(groups=groups)


def recommend_newer(
    targets: list[gfx.GfxTarget],
    current: SupportedTargets,
    current_base: str,
    newer: SupportedTargets,
) -> Recommendation | None:
    """The newer base, when one of these cards cannot use the current image at all (not even
    with an override) and the newer base can. None when nothing would change."""
    if current_base == NEWER_BASE.base_image:
        return None
    for target in targets:
        now = gfx.decide_override(target, current.image)
        then = gfx.decide_override(target, newer.image)
        if now.usable or not then.usable:
            continue
        how = (
            _("natively")
            if then.override is None
            else _("with HSA_OVERRIDE_GFX_VERSION={value}").format(value=then.override)
        )
        settings = " and ".join(f"{key}={value}" for key, value in NEWER_BASE.env.items())
        return Recommendation(
            NEWER_BASE,
            target.llvm_name,
            _(
                "{target} has no kernels in {current}; {newer} (TensorFlow {tensorflow}) runs it {how} "
                "(its targets {source}); {overrides}"
            ).format(
                target=target.llvm_name,
                current=current_base,
                newer=NEWER_BASE.base_image,
                tensorflow=NEWER_BASE.tensorflow,
                how=how,
                source=newer.source,
                overrides=overrides_clause(newer),
            ),
            _(
                "ask your instructor for the newer ROCm base (docs/rocm-bases.md): {settings} in .env, "
                "then `scripts/lab setup` and `scripts/lab up` (a large download; ask for an offline copy)"
            ).format(settings=settings),
        )
    return None
