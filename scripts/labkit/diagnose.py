"""The GPU gate's diagnosis: the probe's data in, one verdict and one fix out.

Pure functions only: no TensorFlow, no files, no processes. Each rule looks at the facts
and either returns a Verdict or passes; the first rule that speaks wins. The headline of
every failing verdict is also a heading in docs/troubleshooting.md, so a student can search
for the exact line they saw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

TROUBLESHOOTING = "docs/troubleshooting.md"


@dataclass(frozen=True)
class Facts:
    """Everything the gate learnt: the probe's JSON, its log, and the container's view."""

    probe: Mapping  # the probe's JSON object ({} when it produced none)
    log: str = ""  # TensorFlow's and the runtime's own stderr lines
    timed_out: bool = False
    exit_code: int | None = 0
    flavour: str = "cpu"  # cpu, nvidia or rocm: which compose overlay started us
    env: Mapping[str, str] = field(default_factory=dict)
    # Device files seen in the container: path -> "ok" (openable) or "denied".
    devices: Mapping[str, str] = field(default_factory=dict)

    @property
    def gpus(self) -> list[Mapping]:
        return list(self.probe.get("gpus") or [])

    @property
    def working_gpus(self) -> list[Mapping]:
        return [g for g in self.gpus if g.get("matmul_ok") and g.get("conv_ok")]


@dataclass(frozen=True)
class Verdict:
    """status: 'gpu' (a GPU works), 'cpu' (no GPU, by design or not), or 'fail'."""

    status: str
    headline: str
    fix: str
    anchor: str = ""  # heading slug in docs/troubleshooting.md

    @property
    def doc_link(self) -> str:
        return f"{TROUBLESHOOTING}#{self.anchor}" if self.anchor else TROUBLESHOOTING


def slug(headline: str) -> str:
    """GitHub's heading anchor for a headline, so verdicts link to their section."""
    kept = "".join(c for c in headline.lower() if c.isalnum() or c in " -_")
    return kept.strip().replace(" ", "-")


def verdict(status: str, headline: str, fix: str) -> Verdict:
    return Verdict(status, headline, fix, slug(headline) if status != "gpu" else "")


Rule = Callable[[Facts], "Verdict | None"]


def probe_timed_out(facts: Facts) -> Verdict | None:
    if not facts.timed_out:
        return None
    return verdict(
        "fail",
        "The GPU check did not finish in time",
        "a wedged GPU driver is the usual cause: reboot the computer, then start the lab again; "
        "raise LAB_GATE_TIMEOUT in .env only if the machine is just slow",
    )


def tensorflow_missing(facts: Facts) -> Verdict | None:
    error = str(facts.probe.get("error") or "")
    if not error.startswith("import tensorflow failed"):
        return None
    return verdict(
        "fail",
        "TensorFlow could not be imported",
        "rebuild the image with `docker compose build --pull`; if it persists, report the image tag",
    )


def probe_crashed(facts: Facts) -> Verdict | None:
    if facts.probe and facts.exit_code == 0:
        return None
    return verdict(
        "fail",
        "The GPU check crashed before reporting",
        f"send the output of the check (exit code {facts.exit_code}) to your instructor",
    )


def gpu_wrong_numbers(facts: Facts) -> Verdict | None:
    broken = [g for g in facts.gpus if g.get("error") is None and not (g.get("matmul_ok") and g.get("conv_ok"))]
    if not broken or facts.working_gpus:
        return None
    return verdict(
        "fail",
        "The GPU computed wrong results",
        "the driver or the override does not match the card: remove HSA_OVERRIDE_GFX_VERSION "
        "or update the GPU driver, then start again",
    )


def gpu_works(facts: Facts) -> Verdict | None:
    working = facts.working_gpus
    if not working:
        return None
    names = ", ".join(str(g.get("device_name") or g.get("name")) for g in working)
    return verdict("gpu", f"TensorFlow works on the GPU: {names}", "nothing to fix")


def cpu_by_design(facts: Facts) -> Verdict | None:
    if facts.flavour != "cpu" or facts.gpus:
        return None
    return verdict(
        "cpu",
        "No GPU in the CPU lab: TensorFlow runs on the CPU",
        "to use a GPU, start with the overlay for your card, e.g. "
        "`docker compose -f compose.yaml -f compose.rocm.yaml up`",
    )


def gpu_overlay_without_gpu(facts: Facts) -> Verdict | None:
    if facts.gpus:
        return None
    return verdict(
        "fail",
        "TensorFlow sees no GPU",
        "run the lab's doctor on the host (`python3 scripts/lab doctor`) to find out why",
    )


def gpu_failed(facts: Facts) -> Verdict | None:
    return verdict(
        "fail",
        "The GPU check failed",
        "send the output of the check to your instructor",
    )


# Order matters: specific causes first, then what works, then the general fallbacks.
# Vendor-specific rules (ROCm, NVIDIA) are inserted before `gpu_wrong_numbers`.
RULES: list[Rule] = [
    probe_timed_out,
    tensorflow_missing,
    probe_crashed,
    gpu_works,
    gpu_wrong_numbers,
    cpu_by_design,
    gpu_overlay_without_gpu,
    gpu_failed,
]


def diagnose(facts: Facts, rules: list[Rule] | None = None) -> Verdict:
    for rule in rules or RULES:
        found = rule(facts)
        if found is not None:
            return found
    raise AssertionError("the last rule always answers")


@dataclass(frozen=True)
class GateDecision:
    proceed: bool
    exit_code: int


def gate_policy(found: Verdict, *, require_gpu: bool) -> GateDecision:
    """GPU overlays (or LAB_REQUIRE_GPU=true) refuse to start without a working GPU."""
    if found.status == "gpu":
        return GateDecision(True, 0)
    if found.status == "cpu" and not require_gpu:
        return GateDecision(True, 0)
    return GateDecision(False, 3)
