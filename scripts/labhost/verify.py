"""`scripts/lab verify`'s record: what ran on this computer, as one redacted JSON a maintainer
can add to docs/hardware/ as evidence. Pure: outputs in, record out.

Redacted: tokens (from .env, from the container, and anything that looks like one), the
user's name, home folder, the course folder and work folder paths, and the host name. What
stays is what identifies the hardware and software: GPU ids and targets, compute units, the
kernel release, the distribution, Docker/Compose/TensorFlow versions, the settings the lab
used, and the figures.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from labkit.hostfacts import kfd

from labhost import report
from labhost.facts import HostFacts
from labhost.plan import Plan, amd_gpus

SCHEMA = "courselab.verify/1"
NOTEBOOK = "01-check-gpu.ipynb"
CONTAINER_NOTEBOOK = f"/home/lab/work/course/{NOTEBOOK}"
BENCH_REPORT = "/tmp/courselab-verify-bench.json"  # noqa: S108 - inside the container
BENCH_STEPS = 20
# The settings that decide what the GPU does; their values go into the record as set.
SETTINGS = (
    "LAB_FLAVOUR",
    "HSA_OVERRIDE_GFX_VERSION",
    "ROCR_VISIBLE_DEVICES",
    "HIP_VISIBLE_DEVICES",
    "TF_FORCE_GPU_ALLOW_GROWTH",
    "LAB_MEMORY_LIMIT",
)


def benchmark_command(*, steps: int = BENCH_STEPS, report_path: str = BENCH_REPORT) -> list[str]:
    """The short benchmark, run in the lab's container through the entrypoint (the same .env
    check and GPU check as the lab). The one place that names how the benchmark is started."""
    return [
        "python",
        "-P",  # as the image's ENTRYPOINT: the work folder (exec's current folder) is not Python's path
        "-s",
        "-m",
        "labkit",
        "bench",
        "--data",
        "synthetic",
        "--steps",
        str(steps),
        "--repeats",
        "1",
        "--json",
        report_path,
    ]


def notebook_command(path: str = CONTAINER_NOTEBOOK) -> list[str]:
    """Run the first notebook top to bottom in the lab's own kernel; the executed notebook
    comes back on stdout (nbconvert ships with JupyterLab's server)."""
    return ["jupyter", "nbconvert", "--to", "notebook", "--execute", "--stdout", path]


@dataclass(frozen=True)
class Step:
    """One part of the run: its exit code and what it printed (stdout)."""

    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    seconds: float | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


@dataclass(frozen=True)
class Outcome:
    flavour: str
    started: Step
    gate: Step = field(default_factory=lambda: Step(None))
    bench: Step = field(default_factory=lambda: Step(None))
    notebook: Step = field(default_factory=lambda: Step(None))

    @property
    def passed(self) -> bool:
        return all(step.ok for step in (self.started, self.gate, self.bench, self.notebook))


def last_json_object(text: str) -> dict:
    """The JSON object a command printed after its log lines ({} when there is none)."""
    start = text.find("{")
    while start != -1:
        try:
            data = json.loads(text[start:])
        except ValueError:
            start = text.find("{", start + 1)
            continue
        return data if isinstance(data, dict) else {}
    return {}


def gate_summary(step: Step) -> dict:
    data = last_json_object(step.stdout)
    verdict = data.get("verdict") if isinstance(data.get("verdict"), dict) else {}
    probe = data.get("probe") if isinstance(data.get("probe"), dict) else {}
    return {
        "exit_code": step.exit_code,
        "seconds": step.seconds,
        "status": verdict.get("status"),
        "headline": verdict.get("headline"),
        "fix": verdict.get("fix") if verdict.get("status") != "gpu" else None,
        "tensorflow": probe.get("tensorflow"),
        "python": probe.get("python"),
        "build": {k: v for k, v in (probe.get("build") or {}).items() if k in ("is_rocm_build", "is_cuda_build")},
        "rocm_version": probe.get("rocm_version"),
        "cuda_driver": probe.get("cuda_driver"),
        "gpus": [
            {key: gpu.get(key) for key in ("device_name", "matmul_ok", "conv_ok", "error")}
            for gpu in probe.get("gpus") or []
            if isinstance(gpu, dict)
        ],
        "devices": data.get("devices") if isinstance(data.get("devices"), dict) else {},
    }


def bench_summary(step: Step) -> dict:
    data = last_json_object(step.stdout)
    rows = [row for row in data.get("rows") or [] if isinstance(row, dict)]
    keep = ("device", "kind", "data", "steps_per_second", "images_per_second", "speedup_vs_cpu")
    return {
        "exit_code": step.exit_code,
        "seconds": step.seconds,
        "command": " ".join(benchmark_command(steps=_steps(data))),
        "settings": data.get("settings") if isinstance(data.get("settings"), dict) else {},
        "rows": [{key: row.get(key) for key in keep if key in row} for row in rows],
        "notes": [note for note in data.get("notes") or [] if isinstance(note, str)],
        "error": None if step.ok else _tail(step.stderr or step.stdout),
    }


def _steps(bench_report: Mapping) -> int:
    settings = bench_report.get("settings")
    steps = settings.get("steps") if isinstance(settings, dict) else None
    return steps if isinstance(steps, int) else BENCH_STEPS


def notebook_summary(step: Step) -> dict:
    executed = last_json_object(step.stdout)
    cells = [c for c in executed.get("cells") or [] if isinstance(c, dict) and c.get("cell_type") == "code"]
    outputs = [o for cell in cells for o in cell.get("outputs") or [] if isinstance(o, dict)]
    errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in outputs if o.get("output_type") == "error"]
    printed = "".join(
        "".join(o["text"]) if isinstance(o.get("text"), list) else str(o.get("text", ""))
        for o in outputs
        if o.get("output_type") == "stream"
    )
    ran = sum(1 for cell in cells if cell.get("execution_count"))
    return {
        "exit_code": step.exit_code,
        "seconds": step.seconds,
        "notebook": NOTEBOOK,
        "code_cells": len(cells),
        "cells_run": ran,
        "errors": errors,
        "printed": printed[-2000:],
        "error": None if step.ok else _tail(step.stderr),
    }


def _tail(text: str, lines: int = 5) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def hardware(host: HostFacts, *, flavour: str, settings: Mapping[str, str]) -> dict:
    """Every GPU on the host, each AMD one marked with whether the lab used it: on an iGPU +
    dGPU host the kernel may list the hidden iGPU first, and the record must not credit it."""
    used = {node.node for node in kfd.visible_gpus(host.kfd_nodes, settings)} if flavour == "rocm" else set()
    gpus = [
        {
            "vendor": "AMD",
            "target": gpu.target.llvm_name if gpu.target else None,
            "compute_units": gpu.compute_units,
            "integrated": gpu.integrated,
            "pci_id": _pci_id(host, gpu.pci_slot),
            "used_by_lab": gpu.node in used,
        }
        for gpu in amd_gpus(host.kfd_nodes)
    ]
    others = [
        {"vendor": card.vendor, "pci_id": f"{card.vendor_id:04x}:{card.device_id:04x}"}
        for card in host.cards
        if card.vendor != "AMD"
    ]
    return {"amd_gpus": gpus, "other_cards": others}


def used_amd_targets(rec: Mapping) -> list[str]:
    """The targets of the AMD GPUs the lab used, in the order the lab numbered them."""
    gpus = rec.get("hardware", {}).get("amd_gpus") or []
    return [g["target"] for g in gpus if g.get("used_by_lab") and g.get("target")]


def _pci_id(host: HostFacts, slot: str | None) -> str | None:
    card = next((c for c in host.cards if slot and c.pci_slot == slot), None)
    return f"{card.vendor_id:04x}:{card.device_id:04x}" if card else None


def kernel_release(proc_version: str) -> str:
    """'Linux version 6.8.0-49-generic (buildd@...) ...' -> '6.8.0-49-generic' (the builder's
    user and host stay out)."""
    parts = proc_version.split()
    return parts[2] if len(parts) > 2 and parts[:2] == ["Linux", "version"] else ""


def record(
    *,
    outcome: Outcome,
    host: HostFacts,
    the_plan: Plan,
    settings: Mapping[str, str],
    versions: Mapping[str, str | None],
    images: Iterable[str],
    today: date,
) -> dict:
    """The evidence, before redaction."""
    return {
        "schema": SCHEMA,
        "date": today.isoformat(),
        "result": "pass" if outcome.passed else "fail",
        "flavour": outcome.flavour,
        "hardware": hardware(host, flavour=outcome.flavour, settings=settings),
        "host": {
            "os": host.os_release.get("PRETTY_NAME"),
            "kernel": kernel_release(host.proc_version),
            "wsl2": host.is_wsl,
            **versions,
        },
        "plan": {"detected": the_plan.flavour, "reason": the_plan.reason},
        "settings": {key: settings[key] for key in SETTINGS if settings.get(key)},
        "images": sorted(images),
        "steps": {
            "up": {"exit_code": outcome.started.exit_code, "seconds": outcome.started.seconds},
            "gate": gate_summary(outcome.gate),
            "benchmark": bench_summary(outcome.bench),
            "notebook": notebook_summary(outcome.notebook),
        },
    }


def redact(value: object, replacements: Mapping[str, str]) -> object:
    """Every string in `value` with each secret or identifying text replaced, longest first,
    then whatever still looks like a token (labhost.report's patterns)."""
    ordered = sorted(((k, v) for k, v in replacements.items() if len(k) >= 3), key=lambda kv: len(kv[0]), reverse=True)
    if isinstance(value, str):
        for old, new in ordered:
            value = value.replace(old, new)
        return report.redact(value, ())
    if isinstance(value, dict):
        return {key: redact(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item, replacements) for item in value]
    return value


def identifying(*, secrets: Iterable[str], user: str, home: str, paths: Iterable[str], hostname: str) -> dict[str, str]:
    """What to take out, and what to put in its place."""
    found = {secret: report.REDACTED for secret in secrets if secret}
    for path in paths:
        if path and path not in ("/", "."):
            found[path.rstrip("/")] = "<path>"
    if home and home != "/":
        found[home.rstrip("/")] = "<home>"
    if user and user not in ("root", "lab"):
        found[user] = "<user>"
    if hostname:
        found[hostname] = "<host>"
    return found


def file_name(rec: Mapping) -> str:
    """courselab-verify-<flavour>-<target of the GPU the lab used, or the flavour>-<date>.json"""
    targets = used_amd_targets(rec) if rec.get("flavour") == "rocm" else []
    device = targets[0] if targets else rec["flavour"]
    return f"courselab-verify-{rec['flavour']}-{device}-{rec['date']}.json"
