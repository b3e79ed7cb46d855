"""The GPU gate's diagnosis: the probe's data in, one verdict and one fix out.

Pure functions only: no TensorFlow, no files, no processes. Each rule looks at the facts
and either returns a Verdict or passes; the first rule that speaks wins. The headline of
every failing verdict is also a heading in docs/troubleshooting.md, so a student can search
for the exact line they saw.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from labkit import diagnose_common, diagnose_nvidia, diagnose_rocm
from labkit.i18n import N_, _

# The vocabulary lives in labkit.verdicts so the vendor rule modules can use it without an
# import cycle; it is re-exported here, the module everyone imports.
from labkit.verdicts import TROUBLESHOOTING, Facts, GateStatus, Rule, Verdict, slug, verdict

__all__ = [
    "TROUBLESHOOTING",
    "Facts",
    "GateDecision",
    "GateStatus",
    "RULES",
    "Rule",
    "Verdict",
    "diagnose",
    "gate_policy",
    "slug",
    "verdict",
]


def probe_timed_out(facts: Facts) -> Verdict | None:
    if not facts.timed_out:
        return None
    return verdict(
        GateStatus.FAIL,
        N_("The GPU check did not finish in time"),
        _(
            "a wedged GPU driver is the usual cause: reboot the computer, then start the lab again; "
            "raise LAB_GATE_TIMEOUT in .env only if the machine is just slow"
        ),
    )


def host_command(command: str) -> str:
    """A command for the lab's container, typed on the host in the lab's folder: the lab has
    not started, so there is no JupyterLab terminal to type it in. `docker compose run` reads
    .env (COMPOSE_FILE names the GPU's compose file), so it is the same on every flavour."""
    program, *arguments = shlex.split(command)
    return shlex.join(["docker", "compose", "run", "--rm", "--entrypoint", program, "lab", *arguments])


def shadowing_fix(facts: Facts) -> str | None:
    """Where each copy that hides one of the image's modules is, with the command that removes
    it; None when there is none (then the image itself is to blame)."""
    if not facts.shadowing:
        return None
    copies = "; ".join(
        _("{name} in {where} hides the image's: remove it with `{command}`").format(
            name=copy["name"], where=copy["where"], command=host_command(copy["command"])
        )
        for copy in facts.shadowing
    )
    return _("{copies}, then start the lab again").format(copies=copies)


def tensorflow_missing(facts: Facts) -> Verdict | None:
    error = str(facts.probe.get("error") or "")
    if not error.startswith("import tensorflow failed"):
        return None
    return verdict(
        GateStatus.FAIL,
        N_("TensorFlow could not be imported"),
        shadowing_fix(facts)
        or _("rebuild the image with `docker compose build --pull`; if it persists, report the image tag"),
    )


def probe_crashed(facts: Facts) -> Verdict | None:
    if facts.probe and facts.exit_code == 0:
        return None
    return verdict(
        GateStatus.FAIL,
        N_("The GPU check crashed before reporting"),
        shadowing_fix(facts)
        or _("send the output of the check (exit code {code}) to your instructor").format(code=facts.exit_code),
    )


def gpu_wrong_numbers(facts: Facts) -> Verdict | None:
    broken = [g for g in facts.gpus if g.get("error") is None and not (g.get("matmul_ok") and g.get("conv_ok"))]
    if not broken or facts.working_gpus:
        return None
    return verdict(
        GateStatus.FAIL,
        N_("The GPU computed wrong results"),
        _(
            "the driver or the override does not match the card: remove HSA_OVERRIDE_GFX_VERSION "
            "or update the GPU driver, then start again"
        ),
    )


def gpu_works(facts: Facts) -> Verdict | None:
    working = facts.working_gpus
    if not working:
        return None
    names = ", ".join(str(g.get("device_name") or g.get("name")) for g in working)
    return verdict(GateStatus.GPU, _("TensorFlow works on the GPU: {names}").format(names=names), _("nothing to fix"))


def cpu_by_design(facts: Facts) -> Verdict | None:
    if facts.flavour != "cpu" or facts.gpus:
        return None
    return verdict(
        GateStatus.CPU,
        N_("No GPU in the CPU lab: TensorFlow runs on the CPU"),
        _(
            "to use a GPU, start with the overlay for your card, e.g. "
            "`docker compose -f compose.yaml -f compose.rocm.yaml up`"
        ),
    )


def gpu_overlay_without_gpu(facts: Facts) -> Verdict | None:
    if facts.gpus:
        return None
    return verdict(
        GateStatus.FAIL,
        N_("TensorFlow sees no GPU"),
        _("run the lab's doctor on the host (`python3 scripts/lab doctor`) to find out why"),
    )


def gpu_failed(facts: Facts) -> Verdict | None:
    return verdict(
        GateStatus.FAIL,
        N_("The GPU check failed"),
        _("send the output of the check to your instructor"),
    )


# Order matters: a hung or missing TensorFlow first; then the vendor rules, which explain a
# crash or a missing GPU from the device files, the environment and the runtime's own log
# lines (so they sit before `probe_crashed`, whose message says nothing about the cause);
# then what works, then the general fallbacks. The vendor rules stay silent while a GPU
# works, except the ones about an override that must never be set.
RULES: list[Rule] = [
    probe_timed_out,
    tensorflow_missing,
    *diagnose_rocm.RULES,
    *diagnose_nvidia.RULES,
    *diagnose_common.RULES,
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
    if found.status is GateStatus.GPU:
        return GateDecision(True, 0)
    if found.status is GateStatus.CPU and not require_gpu:
        return GateDecision(True, 0)
    return GateDecision(False, 3)
