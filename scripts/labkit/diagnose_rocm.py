"""The GPU gate's AMD ROCm rules: device files, HSA_OVERRIDE_GFX_VERSION, and what
TensorFlow and the ROCm runtime print when they give up on a card.

Pure functions over labkit.verdicts.Facts. Each rule returns one verdict with one fix, or
None. Headlines are fixed strings (they are headings in docs/troubleshooting.md); whatever
depends on the machine (the target, the value to set) goes into the fix.

The log formats matched here, and where they come from:
- "Ignoring visible gpu device (device: 0, name: ..., pci bus id: ...) with AMDGPU version :
  gfx1031. The supported AMDGPU versions are gfx1030, gfx900, ...": LOG(INFO) in TensorFlow's
  tensorflow/core/common_runtime/gpu/gpu_device.cc; the list is
  RocmComputeCapability::supported_gfx_versions_str(), joined with ", ".
- "gfx1030gfx1100, gfx900, ...": tensorflow-rocm 2.14.0.600, a missing comma in that list
  (ROCm/tensorflow-upstream issues 2410, 2488, 2524).
- "failed call to hipInit: HIP_ERROR_...": LOG(ERROR) in XLA's stream_executor/rocm/rocm_driver.cc.
- "HSA_STATUS_ERROR_...: ...": hsa_status_string() in ROCR-Runtime.
- "No compatible code objects found for: gfx...": LogPrintfError in HIP's (ROCm/clr)
  code-object loader; "hipErrorNoBinaryForGpu: Unable to find code object for all current
  devices!" is the older runtime's abort (ROCm/tensorflow-upstream issue 1800).
- "Memory access fault by GPU node-1 (Agent handle: ...) on address ...": ROCR-Runtime's
  fault handler, printed just before the process aborts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labkit import gfx
from labkit.i18n import N_, _
from labkit.verdicts import Facts, Rule, Verdict, verdict

OVERRIDE = "HSA_OVERRIDE_GFX_VERSION"
# The image's two lists, put here by the gate. Compiled: the targets its TensorFlow has kernels
# for, read from its libraries' code objects when Dockerfile.rocm built the image
# (image/rocm_targets.py). Run time: XLA's kSupportedGfxVersions, the list TensorFlow prints as
# "supported AMDGPU versions" when it refuses a card (r2.18's names gfx900 and gfx906 without
# kernels for them; TensorFlow 2.20's lacked gfx1102, whose kernels it had), read from the same
# libraries, or what TensorFlow printed when it last refused a card here (labkit.seen_targets).
# A card runs only on a target on both (gfx.ImageTargets).
TARGETS_ENV = "LAB_ROCM_TF_TARGETS"
RUNTIME_TARGETS_ENV = "LAB_ROCM_TF_RUNTIME_TARGETS"
# Words a student reads are catalogue keys (N_), translated where a fix is built (_()), so
# every fix is in the student's language; commands and variable names stay as typed.
CPU_LAB = N_("`docker compose up` (the CPU lab)")
ROCM_BUILD = "`docker compose -f compose.yaml -f compose.rocm.yaml build`"
ROCM_REBUILD = "`docker compose -f compose.yaml -f compose.rocm.yaml build --pull`"
# The two group slots of compose.rocm.yaml must together cover both devices and must differ
# (compose refuses a group twice): `scripts/lab setup` computes them.
GID_FIX = {
    "/dev/kfd": N_(
        "LAB_KFD_GID to the number `stat -c %g /dev/kfd` prints (leave it out when the "
        "render node has that group too: one entry then covers both)"
    ),
    "render": N_("LAB_RENDER_GID to the number `stat -c %g /dev/dri/renderD128` prints"),
}

# Headlines: what the student reads, and the headings of docs/troubleshooting.md.
WSL2 = N_("This is WSL2, where ROCm containers cannot reach the GPU")
KFD_DRIVER_MISSING = N_("The amdgpu compute driver (/dev/kfd) is not available")
DEVICES_NOT_PASSED = N_("The AMD GPU devices were not passed into the container")
DEVICES_DENIED = N_("The container is not allowed to open the AMD GPU devices")
OVERRIDE_OTHER_MAJOR = N_("HSA_OVERRIDE_GFX_VERSION names another GPU generation than this card")
OVERRIDE_NOT_NEEDED = N_("HSA_OVERRIDE_GFX_VERSION is set for a card this image supports")
GLUED_BUILD = N_("This image's TensorFlow has a broken GPU list")
TARGETS_UNKNOWN = N_("This image does not record which GPUs its TensorFlow was compiled for")
SKIPPED_NEEDS_OVERRIDE = N_("TensorFlow skipped this GPU: it needs HSA_OVERRIDE_GFX_VERSION")
SKIPPED_RISKY_OVERRIDE = N_("TensorFlow skipped this GPU: the override that enables it is known to crash")
SKIPPED_UNUSABLE = N_("This AMD GPU is not supported by current ROCm images")
SKIPPED_NO_CODE = N_("This image's TensorFlow has no code for this GPU")
OVERRIDE_NOT_IN_LIST = N_("HSA_OVERRIDE_GFX_VERSION names a target this image does not support")
NO_CODE_OBJECT = N_("ROCm found no GPU code for this card in the image")
MEMORY_FAULT = N_("The GPU stopped with a memory access fault")
OUT_OF_RESOURCES = N_("The ROCm runtime could not start on this GPU")
HIP_INIT_FAILED = N_("The ROCm runtime found no usable GPU")

HEADLINES = (
    WSL2,
    KFD_DRIVER_MISSING,
    DEVICES_NOT_PASSED,
    DEVICES_DENIED,
    OVERRIDE_OTHER_MAJOR,
    OVERRIDE_NOT_NEEDED,
    GLUED_BUILD,
    TARGETS_UNKNOWN,
    SKIPPED_NEEDS_OVERRIDE,
    SKIPPED_RISKY_OVERRIDE,
    SKIPPED_UNUSABLE,
    SKIPPED_NO_CODE,
    OVERRIDE_NOT_IN_LIST,
    NO_CODE_OBJECT,
    MEMORY_FAULT,
    OUT_OF_RESOURCES,
    HIP_INIT_FAILED,
)

# The device description may itself hold parentheses ("AMD Radeon(TM) Graphics"), so the
# match runs lazily up to ") with AMDGPU version". The target may carry feature flags
# ("gfx90a:sramecc+:xnack-") in some builds; TensorFlow prints the part before the colon.
IGNORED_GPU = re.compile(
    r"Ignoring visible gpu device \((?P<device>.*?)\) with AMDGPU version : "
    r"(?P<target>gfx[0-9a-f]+)\S*?\. The supported AMDGPU versions are (?P<supported>.*?)\.?[ \t]*$",
    re.MULTILINE,
)
DEVICE_NAME = re.compile(r"name: (?P<name>.*?), pci bus id")
NO_CODE_OBJECT_PATTERN = re.compile(
    r"No compatible code objects found for: (?P<target>gfx[0-9a-f]+)"
    r"|hipErrorNoBinaryForGpu"
    r"|HSA_STATUS_ERROR_INVALID_ISA"
)
MEMORY_FAULT_PATTERN = re.compile(r"Memory access fault by GPU node-\d+")
HIP_INIT_PATTERN = re.compile(r"failed call to hipInit: (?P<error>\S+)")


@dataclass(frozen=True)
class IgnoredGpu:
    """One "Ignoring visible gpu device" line, taken apart."""

    device: str  # the card's marketing name, or TensorFlow's whole description
    target: str  # the gfx name TensorFlow saw (the override's, if one is set)
    supported_text: str  # the list exactly as printed, glued names included


def ignored_gpus(log: str) -> list[IgnoredGpu]:
    found = []
    for match in IGNORED_GPU.finditer(log):
        name = DEVICE_NAME.search(match["device"])
        device = name["name"].strip() if name and name["name"].strip() else match["device"]
        found.append(IgnoredGpu(device, match["target"], match["supported"].strip()))
    return found


def is_rocm(facts: Facts) -> bool:
    """The ROCm overlay started us, or the image's TensorFlow is a ROCm build."""
    return facts.flavour == "rocm" or str(facts.build.get("is_rocm_build")) == "True"


def override_setting(facts: Facts) -> str | None:
    """The override as the container got it: None when absent, "" when set but empty."""
    value = facts.env.get(OVERRIDE)
    return None if value is None else str(value)


def compiled_targets(facts: Facts) -> list[gfx.GfxTarget]:
    """The targets the image's TensorFlow has kernels for (empty when the image did not say)."""
    return gfx.parse_target_list(facts.env.get(TARGETS_ENV, ""))


def printed_targets(facts: Facts) -> list[gfx.GfxTarget] | None:
    """The list TensorFlow printed when it refused a card, or None when it refused none.
    A glued list (the broken build) is not a list: glued names are dropped by the parser,
    and the rule for that build speaks before anything relies on this."""
    for ignored in ignored_gpus(facts.log):
        return gfx.parse_target_list(ignored.supported_text)
    return None


def image_targets(facts: Facts) -> gfx.ImageTargets:
    """The image's two lists as this start knows them: the run-time list TensorFlow printed in
    this very run, else the one the gate found (read from the image, or seen before)."""
    runtime = printed_targets(facts)
    if runtime is None and facts.env.get(RUNTIME_TARGETS_ENV, "").strip():
        runtime = gfx.parse_target_list(facts.env[RUNTIME_TARGETS_ENV])
    return gfx.ImageTargets(tuple(compiled_targets(facts)), tuple(runtime) if runtime is not None else None)


def supported_targets(facts: Facts) -> list[gfx.GfxTarget]:
    """The targets a card can run as in this image: on both lists (gfx.ImageTargets.runnable).
    Never the printed list alone: it names targets without kernels."""
    return list(image_targets(facts).runnable)


def card_target(facts: Facts) -> gfx.GfxTarget | None:
    """The card's real target: KFD's, or TensorFlow's when no override could disguise it."""
    for name in facts.kfd_targets:
        target = gfx.from_llvm_name(name)
        if target is not None:
            return target
    if override_setting(facts) is None:
        for ignored in ignored_gpus(facts.log):
            return gfx.from_llvm_name(ignored.target)
    return None


def _why(decision: gfx.OverrideDecision) -> str:
    """The reason for a recommended override, without repeating the value itself."""
    donor = gfx.from_override(decision.override or "")
    return _("{target} is not in this image's list and runs as {donor}").format(
        target=decision.target, donor=donor.llvm_name if donor else "?"
    )


def advice_for(target: gfx.GfxTarget | None, image: gfx.ImageTargets, *, current: str | None) -> str:
    """The one thing to do about the override for this card, as a clause of a fix.
    `current` is the override in effect (None when unset). In the student's language: the
    decision's reason is already (gfx.decide_override translates it)."""
    if target is None:
        if current:
            return _(
                "delete HSA_OVERRIDE_GFX_VERSION from .env, start again, "
                "and the lab names the right value for your card"
            )
        return _(
            "run `python3 scripts/lab doctor` on the host: it reads the card's target and names the "
            "HSA_OVERRIDE_GFX_VERSION value"
        )
    decision = gfx.decide_override(target, image)
    if decision.override and decision.override == (current or "").strip():
        # The rule's own answer is already set and the card still fails: nothing else to borrow.
        why = decision.warning or _("{target} does not run reliably as its stand-in").format(target=decision.target)
        return _("{current} is already the only override for {target}, and {why}: delete it and use {cpu_lab}").format(
            current=current, target=decision.target, why=why, cpu_lab=_(CPU_LAB)
        )
    if decision.override:
        advice = _("set HSA_OVERRIDE_GFX_VERSION={value} in .env ({why})").format(
            value=decision.override, why=_why(decision)
        )
        return (
            _("{advice}; note: {warning}").format(advice=advice, warning=decision.warning)
            if decision.warning
            else advice
        )
    if decision.usable and current:
        return _("delete HSA_OVERRIDE_GFX_VERSION from .env ({reason})").format(reason=decision.reason)
    if decision.usable:
        # Supported, no override, and still no kernels: the image is not what it recorded.
        return _("{reason}, so the image itself is broken: rebuild it with {command}").format(
            reason=decision.reason, command=ROCM_REBUILD
        )
    if current:
        return _("delete HSA_OVERRIDE_GFX_VERSION from .env; {reason}").format(reason=decision.reason)
    return decision.reason


def _no_working_gpu(facts: Facts) -> bool:
    # A working GPU outranks any complaint about another one (an ignored iGPU beside a
    # working dGPU is the normal case on many desktops).
    return not facts.working_gpus


# --- device files -------------------------------------------------------------------------


def kfd_missing(facts: Facts) -> Verdict | None:
    """No /dev/kfd: say which of the three usual reasons the rest of the facts point at."""
    if facts.flavour != "rocm" or "/dev/kfd" in facts.devices or not _no_working_gpu(facts):
        return None
    if "/dev/dxg" in facts.devices:
        # WSL2 exposes GPUs through /dev/dxg only; ROCm's Linux runtime needs /dev/kfd.
        return verdict(
            "fail",
            WSL2,
            _(
                "ROCm in Docker on WSL2 is not supported by this lab: use {cpu_lab}, or native Linux for the AMD GPU"
            ).format(cpu_lab=_(CPU_LAB)),
        )
    if any(path.startswith("/dev/dri/renderD") for path in facts.devices):
        # The overlay passes /dev/dri and /dev/kfd together: render nodes alone mean the
        # graphics half of amdgpu is there but its compute interface (KFD) is not.
        return verdict(
            "fail",
            KFD_DRIVER_MISSING,
            _(
                "on the host, `ls -l /dev/kfd` must show the device: install the "
                "amdgpu driver with compute support (a kernel with HSA_AMD, or amdgpu-dkms), reboot, "
                "start again"
            ),
        )
    return verdict(
        "fail",
        DEVICES_NOT_PASSED,
        # Docker's own words ('error gathering device information') stay English in every language.
        _(
            "start the lab with both files: "
            "`docker compose -f compose.yaml -f compose.rocm.yaml up`; if that fails with "
            "'error gathering device information', the host's amdgpu driver is not loaded"
        ),
    )


def devices_denied(facts: Facts) -> Verdict | None:
    if not is_rocm(facts) or not _no_working_gpu(facts):
        return None
    denied = [
        path
        for path, state in facts.devices.items()
        if state == "denied" and (path == "/dev/kfd" or path.startswith("/dev/dri/renderD"))
    ]
    if not denied:
        return None
    settings = []
    if "/dev/kfd" in denied:
        settings.append(_(GID_FIX["/dev/kfd"]))
    if any(path != "/dev/kfd" for path in denied):
        settings.append(_(GID_FIX["render"]))
    both = (
        _("{first} and {second}").format(first=settings[0], second=settings[1]) if len(settings) == 2 else settings[0]
    )
    return verdict(
        "fail",
        DEVICES_DENIED,
        _("in .env set {settings} (run `stat` on the host), then start again; denied here: {denied}").format(
            settings=both, denied=", ".join(sorted(denied))
        ),
    )


# --- HSA_OVERRIDE_GFX_VERSION -------------------------------------------------------------


def override_other_major(facts: Facts) -> Verdict | None:
    """Never across major versions: newer ROCm rejects it, and it has crashed the driver."""
    value = gfx.from_override(override_setting(facts) or "")
    card = card_target(facts)
    if not is_rocm(facts) or value is None or card is None or value.major == card.major:
        return None
    return verdict(
        "fail",
        OVERRIDE_OTHER_MAJOR,
        _("HSA_OVERRIDE_GFX_VERSION={value} pretends this {card} is a {target}: {advice}").format(
            value=value.override_value,
            card=card.llvm_name,
            target=value.llvm_name,
            advice=advice_for(card, image_targets(facts), current=override_setting(facts)),
        ),
    )


def override_not_needed(facts: Facts) -> Verdict | None:
    """Never override a card the image supports natively (its target on both lists): that has
    crashed ROCm. A card with kernels that TensorFlow refuses is not such a card."""
    value = override_setting(facts)
    card = card_target(facts)
    if not is_rocm(facts) or not value or card is None or card not in image_targets(facts).runnable:
        return None
    return verdict(
        "fail",
        OVERRIDE_NOT_NEEDED,
        _(
            "delete HSA_OVERRIDE_GFX_VERSION from .env: this image runs {card} natively, "
            "and overriding a supported card has crashed ROCm"
        ).format(card=card.llvm_name),
    )


# --- what TensorFlow and the runtime print ------------------------------------------------


def glued_build(facts: Facts) -> Verdict | None:
    """tensorflow-rocm 2.14.0.600 lost a comma: "gfx1030gfx1100" matches no card at all."""
    if not _no_working_gpu(facts):
        return None
    if not any(gfx.has_glued_targets(ignored.supported_text) for ignored in ignored_gpus(facts.log)):
        return None
    return verdict(
        "fail",
        GLUED_BUILD,
        _(
            "this is the tensorflow-rocm 2.14.0.600 build, which refuses gfx1030 and "
            "gfx1100 cards even with an override: set LAB_ROCM_BASE_IMAGE in .env to a rocm/tensorflow tag with "
            "TensorFlow 2.16 or newer (ask your instructor for the class's tag) and rebuild: {command}"
        ).format(command=ROCM_BUILD),
    )


def targets_unknown(facts: Facts) -> Verdict | None:
    """A card needs an override decision, but the image never recorded its compiled targets
    (built by an older Dockerfile.rocm, or not by ours): guessing from the printed list is
    how students got overrides for targets without kernels, so ask for a rebuild instead."""
    if not is_rocm(facts) or compiled_targets(facts) or not _no_working_gpu(facts):
        return None
    if not ignored_gpus(facts.log) and not NO_CODE_OBJECT_PATTERN.search(facts.log):
        return None
    return verdict(
        "fail",
        TARGETS_UNKNOWN,
        _(
            "rebuild the image with {command} (the build reads the GPU targets from TensorFlow's "
            "own libraries), then start again"
        ).format(command=ROCM_BUILD),
    )


def _pick_ignored(ignored: list[IgnoredGpu]) -> IgnoredGpu:
    """With an iGPU and a dGPU both refused, advise about the one worth rescuing: of those an
    override can rescue, the newest target (on such desktops the discrete card)."""
    rescuable = [
        (target, item)
        for item in ignored
        if (target := gfx.from_llvm_name(item.target)) is not None and gfx.donor_for(target) is not None
    ]
    if not rescuable:
        return ignored[0]
    return max(rescuable, key=lambda pair: pair[0])[1]


def _other_generations(ignored: list[IgnoredGpu], chosen: gfx.GfxTarget) -> list[str]:
    """Refused cards of another family: the override is process-wide and would hit them too."""
    others = (gfx.from_llvm_name(item.target) for item in ignored)
    return sorted({t.llvm_name for t in others if t is not None and t.family != chosen.family})


def gpu_skipped(facts: Facts) -> Verdict | None:
    """TensorFlow refused the card's target: recommend exactly what the override rule allows."""
    ignored = ignored_gpus(facts.log)
    if not ignored or not _no_working_gpu(facts):
        return None
    chosen = _pick_ignored(ignored)
    seen = gfx.from_llvm_name(chosen.target)
    image = image_targets(facts)
    if seen is None or seen in image.runnable:
        return None
    override = gfx.from_override(override_setting(facts) or "")
    if override is not None and override == seen:
        # TensorFlow saw the override, not the card: the override itself is the problem.
        return verdict(
            "fail",
            OVERRIDE_NOT_IN_LIST,
            _(
                "HSA_OVERRIDE_GFX_VERSION={value} makes the card look like {target}, which this image lacks: {advice}"
            ).format(
                value=override.override_value,
                target=seen.llvm_name,
                advice=advice_for(card_target(facts), image, current=override_setting(facts)),
            ),
        )
    decision = gfx.decide_override(seen, image)
    where = f"{chosen.device} ({seen.llvm_name})"
    if decision.override:
        fix = _("add HSA_OVERRIDE_GFX_VERSION={value} to .env and start again ({why})").format(
            value=decision.override, why=_why(decision)
        )
        others = _other_generations(ignored, seen)
        if others:
            fix = _(
                "{fix}; this computer also has a {others} GPU, so also set ROCR_VISIBLE_DEVICES in .env "
                "to the index of the {target} (`rocminfo` lists them) to keep the override off it"
            ).format(fix=fix, others=", ".join(others), target=seen.llvm_name)
        if decision.warning:
            risky = _("{where}: to try it, {fix}; {warning}").format(where=where, fix=fix, warning=decision.warning)
            return verdict("fail", SKIPPED_RISKY_OVERRIDE, risky)
        return verdict("fail", SKIPPED_NEEDS_OVERRIDE, fix)
    if seen.llvm_name in gfx.UNUSABLE_TARGETS:
        return verdict("fail", SKIPPED_UNUSABLE, f"{where}: {decision.reason}")
    no_code = _("{where}: {reason}; until then use {cpu_lab}").format(
        where=where, reason=decision.reason, cpu_lab=_(CPU_LAB)
    )
    return verdict("fail", SKIPPED_NO_CODE, no_code)


def no_code_object(facts: Facts) -> Verdict | None:
    """The runtime looked for kernels built for this target and found none."""
    match = NO_CODE_OBJECT_PATTERN.search(facts.log)
    if match is None or not _no_working_gpu(facts):
        return None
    value = override_setting(facts)
    card = card_target(facts)
    if card is None and match["target"] and not value:
        # Without an override the runtime names the card's own target.
        card = gfx.from_llvm_name(match["target"])
    advice = advice_for(card, image_targets(facts), current=value)
    if value:
        fix = _("HSA_OVERRIDE_GFX_VERSION={value} does not fit this card: {advice}").format(value=value, advice=advice)
        return verdict("fail", NO_CODE_OBJECT, fix)
    return verdict("fail", NO_CODE_OBJECT, advice)


def memory_fault(facts: Facts) -> Verdict | None:
    if not MEMORY_FAULT_PATTERN.search(facts.log) or not _no_working_gpu(facts):
        return None
    value = override_setting(facts)
    if value:
        advice = advice_for(card_target(facts), image_targets(facts), current=value)
        fix = _("the card crashed while running as HSA_OVERRIDE_GFX_VERSION={value}: {advice}").format(
            value=value, advice=advice
        )
        return verdict("fail", MEMORY_FAULT, fix)
    return verdict(
        "fail",
        MEMORY_FAULT,
        _(
            "update the host's kernel and amdgpu driver and reboot; if it repeats, "
            "use {cpu_lab} and send this report to your instructor"
        ).format(cpu_lab=_(CPU_LAB)),
    )


def out_of_resources(facts: Facts) -> Verdict | None:
    """HSA_STATUS_ERROR_OUT_OF_RESOURCES at start-up: the runtime could not open the GPU at
    all (an empty override is caught before this rule; rocminfo fails the same way)."""
    if "HSA_STATUS_ERROR_OUT_OF_RESOURCES" not in facts.log or not _no_working_gpu(facts):
        return None
    return verdict(
        "fail",
        OUT_OF_RESOURCES,
        _(
            "run `rocminfo` on the host: if it fails the same way, the card is "
            "not supported by the host's ROCm or amdgpu driver (update it and reboot); if it works, close "
            "other programs using the GPU and start again"
        ),
    )


def hip_init_failed(facts: Facts) -> Verdict | None:
    match = HIP_INIT_PATTERN.search(facts.log)
    if match is None or not _no_working_gpu(facts):
        return None
    return verdict(
        "fail",
        HIP_INIT_FAILED,
        _(
            "hipInit said {error}: run `rocminfo` on the host, and "
            "`python3 scripts/lab doctor` to check the driver, the device files and the group ids"
        ).format(error=match["error"]),
    )


# Order: what the container cannot reach, then settings that must never be used, then what
# the software printed, most specific first.
RULES: list[Rule] = [
    kfd_missing,
    devices_denied,
    override_other_major,
    override_not_needed,
    glued_build,
    targets_unknown,
    gpu_skipped,
    no_code_object,
    memory_fault,
    out_of_resources,
    hip_init_failed,
]
