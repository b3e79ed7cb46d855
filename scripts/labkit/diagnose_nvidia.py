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
  their device cgroup access (NVIDIA/nvidia-container-toolkit issue 48). The probe runs
  `nvidia-smi -L` and puts its answer in the log, so these reach the diagnosis.
- "Failed to initialize NVML: Insufficient Permissions": nvidia-smi run as a non-root user
  that may not open the device files (`podman run ... -u 1000 ubuntu nvidia-smi -L`,
  NVIDIA/nvidia-container-toolkit issue 580; device files of group video, mode 0660, in
  issue 210; SELinux's container_use_devices in issue 33). Through XLA: "Nvml call failed
  with 4(Insufficient Permissions)" (ToStatus(nvmlReturn_t) in stream_executor/cuda).
- "Could not load dynamic library 'libcudnn.so.9'; dlerror: libcudnn.so.9: cannot open shared
  object file: No such file or directory", then "Cannot dlopen some GPU libraries. Please make
  sure the missing libraries mentioned above are installed properly ... Skipping registering
  GPU devices...": the first from dso_loader.cc (VLOG(1), which the gate turns on; format
  as TensorFlow 2.20.0 prints it), the second LOG(WARNING) in gpu_device.cc, as in
  tensorflow/build issues 217 and 221 (TensorFlow 2.18+ on the official -gpu image).
- "TensorFlow was not built with CUDA kernel binaries compatible with compute capability
  12.0. CUDA kernels will be jit-compiled from PTX, which could take 30 minutes or longer."
  (gpu_device.cc, tensorflow/tensorflow issue 97387), then "'cuModuleLoadData(&module, data)'
  failed with 'CUDA_ERROR_INVALID_PTX'" (kernel_gen/tf_gpu_runtime_wrappers.cc) and
  "'cuLaunchKernel(...)' failed with 'CUDA_ERROR_INVALID_HANDLE'" on RTX 50xx cards
  (tensorflow/tensorflow issues 90291, 99592 with TensorFlow 2.20).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from labkit import cuda_arch
from labkit.i18n import N_, _
from labkit.verdicts import Facts, Rule, Verdict, verdict

NVIDIA_OVERLAY = "`docker compose -f compose.yaml -f compose.nvidia.yaml up`"

NO_DEVICES = N_("No NVIDIA GPU devices in the container")
DRIVER_LIBRARY_MISMATCH = N_("The NVIDIA driver was updated but the old one is still running")
DRIVER_TOO_OLD = N_("The NVIDIA driver is too old for this image's CUDA")
NVML_FAILED = N_("The NVIDIA management library (NVML) could not start")
CUINIT_FAILED = N_("CUDA could not start on the NVIDIA GPU")
NVML_NO_PERMISSION = N_("The lab's user may not use the NVIDIA GPU (Insufficient Permissions)")
LIBRARIES_MISSING = N_("TensorFlow could not load the CUDA libraries it needs")
NO_KERNELS = N_("This TensorFlow has no GPU code that runs on this NVIDIA card")

HEADLINES = (
    NO_DEVICES,
    DRIVER_LIBRARY_MISMATCH,
    DRIVER_TOO_OLD,
    NVML_FAILED,
    CUINIT_FAILED,
    NVML_NO_PERMISSION,
    LIBRARIES_MISSING,
    NO_KERNELS,
)
REBUILD = "docker compose -f compose.yaml -f compose.nvidia.yaml build"

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
NO_PERMISSION_PATTERN = re.compile(
    r"Failed to initialize NVML: Insufficient Permissions|nvml error: insufficient permissions"
    r"|Nvml call failed with \d+\(Insufficient Permissions\)",
    re.IGNORECASE,
)
DLOPEN_FAILED_PATTERN = re.compile(r"Cannot dlopen some GPU libraries")
LIBRARY_PATTERN = re.compile(r"Could not load dynamic library '(?P<name>[^']+)'")
INVALID_PTX_PATTERN = re.compile(r"CUDA_ERROR_INVALID_PTX")
NOT_BUILT_FOR_PATTERN = re.compile(
    r"not built with CUDA kernel binaries compatible with compute capability (?P<capability>\d+\.\d+)"
)


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
        _(
            "start the lab with both files: {command}; on the host install the "
            "NVIDIA Container Toolkit, run `sudo nvidia-ctk runtime configure --runtime=docker` and "
            "restart Docker"
        ).format(command=NVIDIA_OVERLAY),
    )


def driver_library_mismatch(facts: Facts) -> Verdict | None:
    if MISMATCH_PATTERN.search(facts.log) is None or not _no_working_gpu(facts):
        return None
    found = VERSIONS_PATTERN.search(facts.log)
    versions = (
        _(" (kernel module {kernel}, library {library})").format(kernel=found["kernel"], library=found["dso"])
        if found
        else ""
    )
    return verdict(
        "fail",
        DRIVER_LIBRARY_MISMATCH,
        _(
            "reboot the computer: the NVIDIA kernel module and its libraries have different "
            "versions{versions}, which only a reboot (or reloading the module) fixes"
        ).format(versions=versions),
    )


def driver_too_old(facts: Facts) -> Verdict | None:
    if TOO_OLD_PATTERN.search(facts.log) is None or not _no_working_gpu(facts):
        return None
    cuda = facts.build.get("cuda_version")
    needs = f"CUDA {cuda}" if cuda else _("this image's CUDA")
    driver = facts.probe.get("cuda_driver")
    have = _(" (it is {version})").format(version=driver) if driver else ""
    return verdict(
        "fail",
        DRIVER_TOO_OLD,
        _(
            "update the host's NVIDIA driver{have} to one that supports {needs} "
            "(`nvidia-smi` shows the highest CUDA version the driver supports) and reboot; or ask your "
            "instructor for an image built on an older TensorFlow"
        ).format(have=have, needs=needs),
    )


def nvml_failed(facts: Facts) -> Verdict | None:
    match = NVML_PATTERN.search(facts.log)
    if match is None or not _no_working_gpu(facts):
        return None
    return verdict(
        "fail",
        NVML_FAILED,
        _(
            "NVML said {reason!r}: restart the lab (`docker compose down`, then up again); if it repeats, "
            "run `nvidia-smi` on the host and reinstall the driver or the NVIDIA Container Toolkit if that "
            "fails too"
        ).format(reason=match["reason"].strip()),
    )


def cuinit_failed(facts: Facts) -> Verdict | None:
    match = CUINIT_PATTERN.search(facts.log)
    if match is None or not _no_working_gpu(facts):
        return None
    return verdict(
        "fail",
        CUINIT_FAILED,
        _(
            "cuInit said {error}: run `nvidia-smi` on the host; "
            "if it fails, reinstall the NVIDIA driver and reboot; after a suspend, a reboot usually clears it"
        ).format(error=match["error"].strip()),
    )


def nvml_no_permission(facts: Facts) -> Verdict | None:
    if NO_PERMISSION_PATTERN.search(facts.log) is None or not _no_working_gpu(facts):
        return None
    denied = sorted(
        path for path, state in facts.devices.items() if path.startswith("/dev/nvidia") and state == "denied"
    )
    if denied:
        fix = _(
            "the lab runs as your own user, not root, and may not open {denied}: on the host run "
            "`stat -c '%g %a' {first}`, then add that group number to the lab in compose.override.yaml "
            "(group_add under services: lab) or let the driver make its device files usable by everyone "
            "(NVreg_DeviceFileMode=0666, its default)"
        ).format(denied=", ".join(denied), first=denied[0])
    else:
        fix = _(
            "the lab may open the NVIDIA device files, so a security module refuses NVML: with SELinux "
            "(Fedora, RHEL) run `sudo setsebool -P container_use_devices 1` on the host and start again"
        )
    return verdict("fail", NVML_NO_PERMISSION, fix)


def libraries_missing(facts: Facts) -> Verdict | None:
    if DLOPEN_FAILED_PATTERN.search(facts.log) is None or not _no_working_gpu(facts):
        return None
    names = list(dict.fromkeys(match["name"] for match in LIBRARY_PATTERN.finditer(facts.log)))
    said = (
        _("TensorFlow could not load {names}").format(names=", ".join(names))
        if names
        else _("TensorFlow did not name the library")
    )
    return verdict(
        "fail",
        LIBRARIES_MISSING,
        _(
            "{said}, so it runs without the GPU: rebuild the image (`{command}`), whose build installs "
            "the CUDA libraries this TensorFlow asks for and stops if one cannot be loaded; an image without "
            "them was built by an older lab or came from elsewhere (LAB_NVIDIA_IMAGE)"
        ).format(said=said, command=REBUILD),
    )


def _names(archs: tuple[cuda_arch.Arch, ...], kind: str) -> str:
    """The build's architectures of one kind ("sass" or "ptx"), or "none" in the student's language."""
    return ", ".join(arch.name for arch in archs if arch.kind == kind) or _("none")


def _card(facts: Facts) -> tuple[str, str | None]:
    """The failing card's name and compute capability, from the probe or TensorFlow's log."""
    failing = [gpu for gpu in facts.gpus if gpu.get("error")] or facts.gpus
    name = str(failing[0].get("device_name") or failing[0].get("name")) if failing else _("this NVIDIA card")
    found = NOT_BUILT_FOR_PATTERN.search(facts.log)
    card = cuda_arch.parse_capability(failing[0].get("compute_capability")) if failing else None
    capability = found["capability"] if found else (f"{card[0]}.{card[1]}" if card else None)
    return name, capability


def no_kernels_for_card(facts: Facts) -> Verdict | None:
    if not _no_working_gpu(facts):
        return None
    errors = "\n".join(str(gpu.get("error") or "") for gpu in facts.gpus)
    invalid_ptx = INVALID_PTX_PATTERN.search(facts.log) or INVALID_PTX_PATTERN.search(errors)
    if not invalid_ptx and not (NOT_BUILT_FOR_PATTERN.search(facts.log) and errors.strip()):
        return None
    name, capability = _card(facts)
    archs = cuda_arch.parse_archs(facts.build.get("cuda_compute_capabilities", ""))
    ptx = _names(archs, "ptx")
    version = facts.probe.get("tensorflow")
    tensorflow = f"TensorFlow {version}" if version else _("This TensorFlow")
    about = (
        _("{name} (compute capability {capability})").format(name=name, capability=capability) if capability else name
    )
    return verdict(
        "fail",
        NO_KERNELS,
        _(
            "{about} has no kernels in {tensorflow} (it has {sass}, PTX {ptx}) and the "
            "PTX does not compile for it (CUDA_ERROR_INVALID_PTX): use the CPU lab (`docker compose up`), or a "
            "cloud GPU such as Colab for long training, until the class image has a TensorFlow built for this card"
        ).format(about=about, tensorflow=tensorflow, sass=_names(archs, "sass"), ptx=ptx),
    )


def kernel_notes(gpu: Mapping, build: Mapping) -> list[str]:
    """A report line for a card that only PTX serves: CUDA compiles TensorFlow's kernels for
    it on first use (TensorFlow warns this "could take 30 minutes or longer"), into the JIT
    cache that the image keeps on the cache volume."""
    card = cuda_arch.parse_capability(gpu.get("compute_capability"))
    archs = cuda_arch.parse_archs(build.get("cuda_compute_capabilities", ""))
    if card is None or not archs:
        return []
    found = cuda_arch.coverage(card, archs)
    if not found.ptx_only:
        return []
    return [
        _(
            "GPU {gpu}: compute capability {capability} has no prebuilt kernels here ({sass}); CUDA compiles "
            "them from PTX ({ptx}) on first use, which can take many minutes, and keeps them in "
            "CUDA_CACHE_PATH on the cache volume for the next start"
        ).format(gpu=gpu.get("name"), capability=found.card_text, sass=_names(archs, "sass"), ptx=found.ptx.name)
    ]


# Order: the container's view first, then the specific version problems, then the general
# start-up failures whose message the specific ones also produce. Too old before mismatch:
# when the image's forward-compatibility libcuda is refused (804), TensorFlow also logs a
# kernel/DSO version difference, but no reboot helps there; only a newer driver does.
# NVML's permission refusal before the general NVML and cuInit rules: the same non-root user
# is refused by both, and only this rule names the cause. Libraries and kernels last: they
# fail only once the driver has started.
RULES: list[Rule] = [
    no_devices,
    driver_too_old,
    driver_library_mismatch,
    nvml_no_permission,
    nvml_failed,
    cuinit_failed,
    libraries_missing,
    no_kernels_for_card,
]
