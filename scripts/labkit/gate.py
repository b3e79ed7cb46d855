"""The GPU gate's I/O shell: run the probe in a child process with a timeout, look at the
device files, and hand everything to the pure diagnosis.

A child process because a wedged driver can hang `import tensorflow` or the first kernel
launch forever; the parent must be able to give up and say so.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from labkit import diagnose_nvidia, diagnose_rocm, gfx, namesakes, seen_targets, shadow
from labkit.diagnose import Facts, Verdict, diagnose
from labkit.diagnose_rocm import RUNTIME_TARGETS_ENV, TARGETS_ENV
from labkit.hostfacts import devices, kfd
from labkit.i18n import _
from labkit.sitepaths import SitePaths

LOG_TAIL_CHARS = 20_000
# Written by image/rocm_targets.py when Dockerfile.rocm builds the image (ROCm images only).
COMPILED_TARGETS_FILE = "/opt/lab/rocm-tf-targets.json"
STATE_DIR = seen_targets.STATE_DIR


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


@dataclass(frozen=True)
class ImageRecord:
    """What the build read from the image's TensorFlow (image/rocm_targets.py's JSON)."""

    compiled: str  # "gfx908 gfx90a ..."
    runtime: str | None  # the list it accepts at run time, None when the build could not read it
    tensorflow_id: str  # the TensorFlow build, the key of what the check learns (labkit.seen_targets)


def image_record(path: str = COMPILED_TARGETS_FILE) -> ImageRecord | None:
    try:
        with open(path) as stream:
            data = json.load(stream)
        compiled = data["targets"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(compiled, list):
        return None
    runtime = data.get("runtime_targets")
    return ImageRecord(
        " ".join(str(t) for t in compiled),
        " ".join(str(t) for t in runtime) if isinstance(runtime, list) and runtime else None,
        str(data.get("tensorflow_id") or ""),
    )


def compiled_targets(path: str = COMPILED_TARGETS_FILE) -> str | None:
    """The GPU targets the image's TensorFlow was compiled for, as the build read them from
    its libraries ("gfx908 gfx90a ..."), or None when this image did not record them."""
    record = image_record(path)
    return record.compiled if record else None


def runtime_targets(record: ImageRecord, state_dir: Path) -> str | None:
    """The run-time list to decide with: what TensorFlow printed when it refused a card here
    before (it is what TensorFlow did), else what the build read, else None."""
    seen = seen_targets.read(state_dir, record.tensorflow_id)
    return seen.printed if seen is not None else record.runtime


def learn_runtime_targets(record: ImageRecord | None, facts: Facts, state_dir: Path) -> Path | None:
    """When TensorFlow refused a card and printed a list the lab did not know (the build could
    not read it, or read another), record it for the next start, setup and the doctor."""
    ignored = diagnose_rocm.ignored_gpus(facts.log)
    if record is None or not ignored or not diagnose_rocm.is_rocm(facts):
        return None
    printed = ignored[0].supported_text
    known = runtime_targets(record, state_dir)
    if known is not None and gfx.parse_target_list(known) == gfx.parse_target_list(printed):
        return None
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return seen_targets.remember(state_dir, record.tensorflow_id, printed, seen_at=now)


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
    # -P: never the work folder (the current one) on the path; the user site stays, so the
    # check imports TensorFlow as the student's notebooks do.
    command = [sys.executable, "-P", "-m", "labkit.probe"]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=probe_env(env), check=False
        )
    except subprocess.TimeoutExpired as expired:
        log = expired.stderr.decode(errors="replace") if isinstance(expired.stderr, bytes) else (expired.stderr or "")
        return {}, log[-LOG_TAIL_CHARS:], True, None
    return parse_probe_stdout(completed.stdout), completed.stderr[-LOG_TAIL_CHARS:], False, completed.returncode


def shadowing_copies(paths: SitePaths, shadows: list[shadow.Shadow]) -> tuple[dict[str, str], ...]:
    """What comes before the image's own modules on the student's path, each with the one
    command that removes it, for the diagnosis: the student's pip installs of the image's
    packages (labkit.shadow); failing those, a module of the image's name lying loose in the
    user site or in a folder a .pth file there adds."""
    if shadows:
        return tuple({"name": s.name, "where": s.where, "command": s.command} for s in shadows)
    owners = shadow.pth_owners(paths.user_site)
    copies = []
    for folder, pth in paths.foreign_folders():
        for found in namesakes.scan([(Path(folder), f"{folder}/")], paths.image):
            removal = shadow.pth_removal(pth, owners.get(os.path.normpath(pth))) if pth else f"rm -r {found.path}"
            copies.append({"name": found.module, "where": found.path, "command": removal})
    return tuple(copies)


def check(
    *,
    flavour: str,
    timeout: float,
    env: Mapping[str, str],
    targets_file: str = COMPILED_TARGETS_FILE,
    state_dir: Path = STATE_DIR,
    shadowing: tuple[dict[str, str], ...] = (),
) -> tuple[Facts, Verdict]:
    record = image_record(targets_file)
    if record is not None:  # what the image's libraries contain wins over any setting
        env = {key: value for key, value in env.items() if key != RUNTIME_TARGETS_ENV}
        env[TARGETS_ENV] = record.compiled
        runtime = runtime_targets(record, state_dir)
        if runtime is not None:
            env[RUNTIME_TARGETS_ENV] = runtime
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
        shadowing=shadowing,
    )
    learn_runtime_targets(record, facts, state_dir)
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
