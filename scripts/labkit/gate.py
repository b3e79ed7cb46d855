"""The GPU gate's I/O shell: run the probe in a child process with a timeout, look at the
device files, and hand everything to the pure diagnosis.

A child process because a wedged driver can hang `import tensorflow` or the first kernel
launch forever; the parent must be able to give up and say so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from labkit import diagnose_nvidia
from labkit.diagnose import Facts, Verdict, diagnose
from labkit.diagnose_rocm import TARGETS_ENV
from labkit.hostfacts import devices, kfd
from labkit.i18n import _

LOG_TAIL_CHARS = 20_000
# Written by image/rocm_targets.py when Dockerfile.rocm builds the image (ROCm images only).
COMPILED_TARGETS_FILE = "/opt/lab/rocm-tf-targets.json"


def device_access(root: Path = Path("/")) -> dict[str, str]:
    """Which GPU device files exist here, and whether this user may open them."""
    return devices.access(root)


def kfd_targets(root: Path = Path("/"), *, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The LLVM targets of the GPUs this lab uses, from KFD's topology (visible in containers
    too; the override does not change it), so the diagnosis can tell an override that does
    not fit. Only the GPUs ROCR_VISIBLE_DEVICES / HIP_VISIBLE_DEVICES leave count, in the
    order ROCm numbers them: setup hides an iGPU that way, and the override is judged against
    the card the lab really uses, never against the hidden one."""
    visible = kfd.visible_gpus(kfd.read_topology(root).nodes, environ)
    return tuple(node.target.llvm_name for node in visible if node.target is not None)


def compiled_targets(path: str = COMPILED_TARGETS_FILE) -> str | None:
    """The GPU targets the image's TensorFlow was compiled for, as the build read them from
    its libraries ("gfx908 gfx90a ..."), or None when this image did not record them."""
    try:
        with open(path) as stream:
            targets = json.load(stream)["targets"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return " ".join(str(t) for t in targets) if isinstance(targets, list) else None


def parse_probe_stdout(stdout: str) -> dict:
    """The probe prints its JSON on the last non-empty line; anything else is noise."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return {}
    return {}


def probe_env(env: Mapping[str, str]) -> dict[str, str]:
    """The probe's environment: the lab's, with TensorFlow's log turned up so the diagnosis
    sees what it needs. TensorFlow 2.20 names a library it cannot open only at INFO level
    through VLOG(1) in dso_loader.cc ("Could not load dynamic library 'libcudnn.so.9'"), and
    logs "Ignoring visible gpu device" at INFO too; TF_CPP_MIN_LOG_LEVEL=1 hides both."""
    return {**env, "TF_CPP_MIN_LOG_LEVEL": "0", "TF_CPP_VMODULE": "dso_loader=1"}


def run_probe(*, timeout: float, env: Mapping[str, str]) -> tuple[dict, str, bool, int | None]:
    """Returns (probe data, log text, timed out, exit code)."""
    command = [sys.executable, "-m", "labkit.probe"]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=probe_env(env), check=False
        )
    except subprocess.TimeoutExpired as expired:
        log = expired.stderr.decode(errors="replace") if isinstance(expired.stderr, bytes) else (expired.stderr or "")
        return {}, log[-LOG_TAIL_CHARS:], True, None
    return parse_probe_stdout(completed.stdout), completed.stderr[-LOG_TAIL_CHARS:], False, completed.returncode


def check(*, flavour: str, timeout: float, env: Mapping[str, str]) -> tuple[Facts, Verdict]:
    compiled = compiled_targets()
    if compiled is not None:  # what the image's libraries contain wins over any setting
        env = {**env, TARGETS_ENV: compiled}
    data, log, timed_out, exit_code = run_probe(timeout=timeout, env=env)
    facts = Facts(
        probe=data,
        log=log,
        timed_out=timed_out,
        exit_code=exit_code,
        flavour=flavour,
        env=dict(env),
        devices=device_access(),
        kfd_targets=kfd_targets(environ=env),
    )
    return facts, diagnose(facts)


def report_lines(facts: Facts) -> list[str]:
    """The short device report printed before the lab starts."""
    probe = facts.probe
    build = probe.get("build") or {}
    kind = (
        _("ROCm build")
        if build.get("is_rocm_build") == "True"
        else _("CUDA build")
        if build.get("is_cuda_build") == "True"
        else _("CPU build")
    )
    lines = [
        _("TensorFlow {version} ({kind}), Python {python}").format(
            version=probe.get("tensorflow") or "?", kind=kind, python=probe.get("python") or "?"
        )
    ]
    if probe.get("rocm_version"):
        lines.append(f"ROCm {probe['rocm_version']}")
    if probe.get("cuda_driver"):
        lines.append(_("NVIDIA driver {version}").format(version=probe["cuda_driver"]))
    for gpu in facts.gpus:
        name = gpu.get("device_name") or gpu.get("name")
        state = (
            _("matmul and conv match the CPU")
            if gpu.get("matmul_ok") and gpu.get("conv_ok")
            else (gpu.get("error") or _("wrong results"))
        )
        lines.append(f"GPU {gpu.get('name')}: {name}: {state}")
        lines.extend(diagnose_nvidia.kernel_notes(gpu, build))
    if not facts.gpus:
        lines.append(_("GPUs: none visible to TensorFlow"))
    return lines
