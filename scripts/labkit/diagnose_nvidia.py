"""The GPU gate's NVIDIA rules: device files, the driver's versions, and what CUDA and NVML
print when they cannot start.

Pure functions over labkit.verdicts.Facts, one verdict and one fix each, headlines fixed
(they are headings in docs/troubleshooting.md).

The log formats matched here, and where they come from:
- "failed call to cuInit: CUDA_ERROR_...: <description>": LOG(ERROR) in TensorFlow's (later
  XLA's) stream_executor/cuda/cuda_driver.cc; the name and description are cuGetErrorName /
  cuGetErrorString of the CUresult (CUDA_ERROR_SYSTEM_DRIVER_MISMATCH = 803,
  CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE = 804, in cuda.h).
- "kernel version 550.120.0 does not match DSO version 560.35.5 -- cannot find working
  devices in this configuration": LOG(ERROR) in stream_executor/cuda/cuda_diagnostics.cc.
- "CUDA driver version is insufficient for CUDA runtime version": cudaGetErrorString of
  cudaErrorInsufficientDriver (35), as in tensorflow/tensorflow issues 21832 and 31319.
- "Failed to initialize NVML: Driver/library version mismatch": NVML's nvmlErrorString,
  printed by nvidia-smi and by nvidia-container-cli ("nvml error: driver/library version
  mismatch"); "Failed to initialize NVML: Unknown Error" appears in containers that lost
  their device cgroup access (NVIDIA/nvidia-container-toolkit issue 48).
"""

from __future__ import annotations

import re

from labkit.i18n import N_
from labkit.verdicts import Facts, Rule, Verdict, verdict

NVIDIA_OVERLAY = "`docker compose -f compose.yaml -f compose.nvidia.yaml up`"

NO_DEVICES = N_("No NVIDIA GPU devices in the container")
DRIVER_LIBRARY_MISMATCH = N_("The NVIDIA driver was updated but the old one is still running")
DRIVER_TOO_OLD = N_("The NVIDIA driver is too old for this image's CUDA")
NVML_FAILED = N_("The NVIDIA management library (NVML) could not start")
CUINIT_FAILED = N_("CUDA could not start on the NVIDIA GPU")

HEADLINES = (NO_DEVICES, DRIVER_LIBRARY_MISMATCH, DRIVER_TOO_OLD, NVML_FAILED, CUINIT_FAILED)

# A kernel module and user-space driver of different versions: NVML says so in words, CUDA
# with error 803, TensorFlow's diagnostics by comparing the two version numbers.
MISMATCH_PATTERN = re.compile(
    r"Driver/library version mismatch|CUDA_ERROR_SYSTEM_DRIVER_MISMATCH|does not match DSO version", re.IGNORECASE
)
VERSIONS_PATTERN = re.compile(r"kernel version (?P<kernel>\S+) does not match DSO version (?P<dso>\S+)")
# The image's CUDA is newer than the driver: the runtime says so (error 35), or the driver
# refuses the forward-compatibility library (error 804, consumer GPUs).
TOO_OLD_PATTERN = re.compile(
    r"CUDA driver version is insufficient for CUDA runtime version"
    r"|CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE"
)
NVML_PATTERN = re.compile(r"Failed to initialize NVML: (?P<reason>[^\n]*)")
CUINIT_PATTERN = re.compile(r"failed call to cuInit: (?P<error>[^\n]*)")


def _no_working_gpu(facts: Facts) -> bool:
    return not facts.working_gpus


def no_devices(facts: Facts) -> Verdict | None:
    """No /dev/nvidia* in an NVIDIA lab. WSL2 is the exception: CUDA there goes through
    /dev/dxg and the container has no /dev/nvidia* at all, so /dev/dxg silences this rule."""
    if facts.flavour != "nvidia" or not _no_working_gpu(facts):
        return None
    if any(path.startswith("/dev/nvidia") or path == "/dev/dxg" for path in facts.devices):
        return None
    return verdict(
        "fail",
        NO_DEVICES,
        f"start the lab with both files: {NVIDIA_OVERLAY}; on the host install the "
        "NVIDIA Container Toolkit, run `sudo nvidia-ctk runtime configure --runtime=docker` and "
        "restart Docker",
    )


def driver_library_mismatch(facts: Facts) -> Verdict | None:
    if MISMATCH_PATTERN.search(facts.log) is None or not _no_working_gpu(facts):
        return None
    found = VERSIONS_PATTERN.search(facts.log)
    versions = f" (kernel module {found['kernel']}, library {found['dso']})" if found else ""
    return verdict(
        "fail",
        DRIVER_LIBRARY_MISMATCH,
        f"reboot the computer: the NVIDIA kernel module and its "
        f"libraries have different versions{versions}, which only a reboot (or reloading the module) fixes",
    )


def driver_too_old(facts: Facts) -> Verdict | None:
    if TOO_OLD_PATTERN.search(facts.log) is None or not _no_working_gpu(facts):
        return None
    cuda = facts.build.get("cuda_version")
    needs = f"CUDA {cuda}" if cuda else "this image's CUDA"
    have = f" (it is {facts.probe['cuda_driver']})" if facts.probe.get("cuda_driver") else ""
    return verdict(
        "fail",
        DRIVER_TOO_OLD,
        f"update the host's NVIDIA driver{have} to one that supports {needs} "
        "(`nvidia-smi` shows the highest CUDA version the driver supports) and reboot; or ask your "
        "instructor for an image built on an older TensorFlow",
    )


def nvml_failed(facts: Facts) -> Verdict | None:
    match = NVML_PATTERN.search(facts.log)
    if match is None or not _no_working_gpu(facts):
        return None
    return verdict(
        "fail",
        NVML_FAILED,
        f"NVML said {match['reason'].strip()!r}: restart the lab (`docker compose "
        "down`, then up again); if it repeats, run `nvidia-smi` on the host and reinstall the driver or "
        "the NVIDIA Container Toolkit if that fails too",
    )


def cuinit_failed(facts: Facts) -> Verdict | None:
    match = CUINIT_PATTERN.search(facts.log)
    if match is None or not _no_working_gpu(facts):
        return None
    return verdict(
        "fail",
        CUINIT_FAILED,
        f"cuInit said {match['error'].strip()}: run `nvidia-smi` on the host; "
        "if it fails, reinstall the NVIDIA driver and reboot; after a suspend, a reboot usually clears it",
    )


# Order: the container's view first, then the specific version problems, then the general
# start-up failures whose message the specific ones also produce. Too old before mismatch:
# when the image's forward-compatibility libcuda is refused (804), TensorFlow also logs a
# kernel/DSO version difference, but no reboot helps there; only a newer driver does.
RULES: list[Rule] = [
    no_devices,
    driver_too_old,
    driver_library_mismatch,
    nvml_failed,
    cuinit_failed,
]
