"""The GPU gate's diagnosis as data: probe output in, one verdict and one fix out.

The logs under fixtures/diagnose/ are written in the formats the real software prints; each
file's `# ` header says where its format comes from. Cases without a log line test what the
container sees (device files, environment); their comments say why the facts look that way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from labkit import diagnose_common, diagnose_nvidia, diagnose_rocm, gfx
from labkit.diagnose import RULES, Facts, GateStatus, diagnose, gate_policy, slug, verdict

FIXTURES = Path(__file__).parent / "fixtures" / "diagnose"
DOC = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
# The targets TensorFlow r2.18 was compiled for, as the image's build reads them from its
# libraries into LAB_ROCM_TF_TARGETS: GPU_DEVICE_TARGETS in ROCm/tensorflow-upstream's
# tf_sig_build_dockerfiles/setup.rocm.sh after PRs #2832 and #2836 (gfx1101, gfx1102) ...
R218_TARGETS = "gfx908 gfx90a gfx940 gfx941 gfx942 gfx1030 gfx1100 gfx1101 gfx1102 gfx1200 gfx1201"
# ... and before them (the "-" line of PR #2832's diff).
R218_EARLY_TARGETS = "gfx908 gfx90a gfx940 gfx941 gfx942 gfx1030 gfx1100 gfx1200 gfx1201"
# TensorFlow 2.12/2.13 era images: those builds did compile gfx900/gfx906.
OLD_TARGETS = "gfx900 gfx906 gfx908 gfx90a gfx1030"


def log(name: str) -> str:
    """A fixture log without its `# ` source comments."""
    lines = (FIXTURES / name).read_text().splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("# "))


# str() of TensorFlow 2.20.0's build info list, as the probe records it (build_info.py in the wheel).
TF220_CAPABILITIES = "['sm_60', 'sm_70', 'sm_80', 'sm_89', 'compute_90']"


def gpu(
    name: str = "AMD Radeon RX 6700 XT", *, works: bool = True, error: str | None = None, capability: str | None = None
) -> dict:
    return {
        "name": "/physical_device:GPU:0",
        "device_name": name,
        # str() of get_device_details()["compute_capability"], a tuple such as (8, 6)
        "compute_capability": capability,
        "matmul_ok": works,
        "conv_ok": works,
        "max_error": 1e-5 if works else None,
        "error": error,
    }


def probe(*gpus: dict, build: str = "rocm", cuda_version: str | None = None, capabilities: str | None = None) -> dict:
    """The probe's JSON (see labkit/probe.py): TensorFlow imported, CPU fine, these GPUs."""
    info = {"is_rocm_build": str(build == "rocm"), "is_cuda_build": str(build == "cuda")}
    if cuda_version:
        info["cuda_version"] = cuda_version
    if capabilities:
        info["cuda_compute_capabilities"] = capabilities
    return {
        "python": "3.12.3",
        "tensorflow": "2.20.0" if build == "cuda" else "2.18.1",
        "build": info,
        "rocm_version": "6.4.1" if build == "rocm" else None,
        "cuda_driver": "550.120" if build == "cuda" else None,
        "gpus": list(gpus),
        "cpu_ok": True,
        "error": None,
    }


AMD_DEVICES = {"/dev/kfd": "ok", "/dev/dri/renderD128": "ok"}
# What labkit.gate.shadowing_copies hands the diagnosis: a student's pip install of an image
# package, and a module in a folder that a .pth file of the user site puts first on the path.
SHADOWING_NUMPY = {
    "name": "numpy",
    "where": "/cache/python-user/lib/python3.11/site-packages",
    "command": "pip uninstall -y numpy",
}
SHADOWING_PTH = {"name": "random", "where": "/cache/extra/random.py", "command": "pip uninstall -y helper"}
NVIDIA_DEVICES = {"/dev/nvidia0": "ok", "/dev/nvidiactl": "ok", "/dev/nvidia-uvm": "ok"}


# fmt: off
# The helpers and the case table read as a table, a case per few lines; `ruff format` would
# give every argument a line of its own.
def rocm(log_text: str = "", *, env: dict | None = None, devices: dict | None = None,
         gpus: tuple = (), kfd: tuple[str, ...] = (), exit_code: int | None = 0) -> Facts:
    return Facts(
        probe=probe(*gpus) if exit_code == 0 else {},
        log=log_text,
        exit_code=exit_code,
        flavour="rocm",
        env={"LAB_ROCM_TF_TARGETS": R218_TARGETS, **(env or {})},
        devices=AMD_DEVICES if devices is None else devices,
        kfd_targets=kfd,
    )


def nvidia(log_text: str = "", *, devices: dict | None = None, gpus: tuple = (),
           cuda_version: str | None = None, capabilities: str | None = TF220_CAPABILITIES,
           exit_code: int | None = 0) -> Facts:
    return Facts(
        probe=probe(*gpus, build="cuda", cuda_version=cuda_version, capabilities=capabilities)
        if exit_code == 0 else {},
        log=log_text,
        exit_code=exit_code,
        flavour="nvidia",
        devices=NVIDIA_DEVICES if devices is None else devices,
    )


R = diagnose_rocm
N = diagnose_nvidia


@dataclass(frozen=True)
class Case:
    facts: Facts
    status: str
    headline: str
    fix_has: tuple[str, ...] = ()
    fix_lacks: tuple[str, ...] = ()


CASES = {
    # --- ROCm: TensorFlow's "Ignoring visible gpu device" line ----------------------------
    "rx6700xt-gfx1031-unsupported-recommends-10.3.0": Case(
        rocm(log("tf218-gfx1031-ignored.log")), "fail", R.SKIPPED_NEEDS_OVERRIDE,
        ("HSA_OVERRIDE_GFX_VERSION=10.3.0", "gfx1031", "gfx1030"), ("ROCR_VISIBLE_DEVICES",)),
    "rx6600xt-gfx1032-tf213-list-recommends-10.3.0": Case(
        rocm(log("tf213-gfx1032-ignored.log"), env={"LAB_ROCM_TF_TARGETS": OLD_TARGETS}), "fail",
        R.SKIPPED_NEEDS_OVERRIDE,
        ("HSA_OVERRIDE_GFX_VERSION=10.3.0",)),
    "radeon680m-gfx1035-igpu-empty-name-recommends-10.3.0": Case(
        rocm(log("tf218-gfx1035-igpu-ignored.log")), "fail", R.SKIPPED_NEEDS_OVERRIDE,
        ("HSA_OVERRIDE_GFX_VERSION=10.3.0",)),
    "rx7600-gfx1102-early-r218-without-gfx1102-kernels-recommends-11.0.0": Case(
        rocm(log("tf218-gfx1102-ignored.log"), env={"LAB_ROCM_TF_TARGETS": R218_EARLY_TARGETS}), "fail",
        R.SKIPPED_NEEDS_OVERRIDE, ("HSA_OVERRIDE_GFX_VERSION=11.0.0",), ("10.3.0",)),
    "vega-apu-gfx90c-r218-printed-gfx900-has-no-kernels-no-9.0.0": Case(
        rocm(log("tf218-gfx90c-apu-ignored.log")), "fail", R.SKIPPED_NO_CODE,
        ("gfx90c", "gfx900", "CPU lab"), ("HSA_OVERRIDE_GFX_VERSION=9.0.0",)),
    "vega-apu-under-9.0.0-no-gfx900-code-in-r218-says-delete": Case(
        rocm(log("hip-no-compatible-code-objects-gfx900.log"), env={"HSA_OVERRIDE_GFX_VERSION": "9.0.0"},
             kfd=("gfx90c",), exit_code=-6),
        "fail", R.NO_CODE_OBJECT, ("delete HSA_OVERRIDE_GFX_VERSION", "neither"), ("set HSA_OVERRIDE",)),
    "refused-card-on-an-image-that-never-recorded-its-targets-asks-for-a-rebuild": Case(
        rocm(log("tf218-gfx1031-ignored.log"), env={"LAB_ROCM_TF_TARGETS": ""}), "fail", R.TARGETS_UNKNOWN,
        ("compose.rocm.yaml build",), ("HSA_OVERRIDE_GFX_VERSION=",)),
    "rx7600-gfx1102-list-without-gfx1100-never-crosses-to-10.3.0": Case(
        rocm(log("tf215-gfx1102-no-gfx1100.log")), "fail", R.SKIPPED_NO_CODE,
        ("gfx1100", "pin an image", "docker compose up"), ("HSA_OVERRIDE_GFX_VERSION=",)),
    "radeon780m-gfx1103-recommends-11.0.0-with-page-fault-warning": Case(
        rocm(log("tf218-gfx1103-ignored.log")), "fail", R.SKIPPED_RISKY_OVERRIDE,
        ("HSA_OVERRIDE_GFX_VERSION=11.0.0", "page-fault", "AMD Radeon 780M")),
    "rx580-gfx803-refused-polaris": Case(
        rocm(log("tf212-gfx803-ignored.log")), "fail", R.SKIPPED_UNUSABLE,
        ("Polaris", "Radeon RX 580 Series", "CPU lab"), ("HSA_OVERRIDE_GFX_VERSION=",)),
    "rx5700xt-gfx1010-refused-rdna1": Case(
        rocm(log("tf218-gfx1010-ignored.log")), "fail", R.SKIPPED_UNUSABLE,
        ("RDNA1", "CPU lab"), ("HSA_OVERRIDE_GFX_VERSION=",)),
    "ryzen-apu-gfx90c-name-with-parentheses-tf213-recommends-9.0.0": Case(
        rocm(log("tf213-gfx90c-apu-ignored.log"), env={"LAB_ROCM_TF_TARGETS": OLD_TARGETS}), "fail",
        R.SKIPPED_NEEDS_OVERRIDE,
        ("HSA_OVERRIDE_GFX_VERSION=9.0.0",)),
    "igpu-gfx90c-and-rx6700xt-both-skipped-recommends-10.3.0-and-visible-devices": Case(
        rocm(log("tf218-igpu-and-dgpu-ignored.log"), env={"LAB_ROCM_TF_TARGETS": OLD_TARGETS}), "fail",
        R.SKIPPED_NEEDS_OVERRIDE,
        ("HSA_OVERRIDE_GFX_VERSION=10.3.0", "ROCR_VISIBLE_DEVICES", "gfx90c"), ("9.0.0",)),
    "igpu-gfx1036-skipped-but-rx6800xt-works": Case(
        rocm(log("tf218-igpu-ignored-dgpu-created.log"), gpus=(gpu("AMD Radeon RX 6800 XT"),)),
        "gpu", "TensorFlow works on the GPU: AMD Radeon RX 6800 XT"),
    "rx6700xt-with-10.3.0-works": Case(
        rocm(log("tf218-gpu-created.log"), env={"HSA_OVERRIDE_GFX_VERSION": "10.3.0"}, gpus=(gpu(),),
             kfd=("gfx1031",)),
        "gpu", "TensorFlow works on the GPU: AMD Radeon RX 6700 XT"),
    # --- ROCm: the broken 2.14.0.600 build -------------------------------------------------
    "rx7900xtx-gfx1100-glued-list-broken-build": Case(
        rocm(log("tf214-600-glued-gfx1100.log")), "fail", R.GLUED_BUILD,
        # The ROCm stack reads LAB_ROCM_BASE_IMAGE; LAB_BASE_IMAGE is the CPU stack's.
        ("2.14.0.600", "LAB_ROCM_BASE_IMAGE", "compose.rocm.yaml build"),
        ("HSA_OVERRIDE_GFX_VERSION=", "LAB_BASE_IMAGE")),
    "rx6800m-overridden-to-gfx1030-still-refused-by-glued-build": Case(
        rocm(log("tf214-600-glued-overridden-gfx1030.log"), env={"HSA_OVERRIDE_GFX_VERSION": "10.3.0"},
             kfd=("gfx1031",)),
        "fail", R.GLUED_BUILD, ("LAB_ROCM_BASE_IMAGE",), ("LAB_BASE_IMAGE",)),
    # --- ROCm: HSA_OVERRIDE_GFX_VERSION itself ----------------------------------------------
    "rx6800-gfx1030-override-set-on-supported-card": Case(
        # No TensorFlow list in the log (the card works), so the image's label decides.
        rocm(log("tf218-gpu-created.log"), env={"HSA_OVERRIDE_GFX_VERSION": "10.3.0"},
             gpus=(gpu("AMD Radeon RX 6800"),), kfd=("gfx1030",)),
        "fail", R.OVERRIDE_NOT_NEEDED, ("delete HSA_OVERRIDE_GFX_VERSION", "gfx1030")),
    "rx6700xt-gfx1031-override-11.0.0-crosses-major": Case(
        rocm(env={"HSA_OVERRIDE_GFX_VERSION": "11.0.0"}, kfd=("gfx1031",), exit_code=-11),
        "fail", R.OVERRIDE_OTHER_MAJOR, ("HSA_OVERRIDE_GFX_VERSION=10.3.0", "gfx1031", "gfx1100")),
    "rx7900xtx-gfx1100-override-10.3.0-crosses-major-even-when-it-runs": Case(
        rocm(log("tf218-gpu-created.log"), env={"HSA_OVERRIDE_GFX_VERSION": "10.3.0"},
             gpus=(gpu("Radeon RX 7900 XTX"),), kfd=("gfx1100",)),
        "fail", R.OVERRIDE_OTHER_MAJOR, ("delete HSA_OVERRIDE_GFX_VERSION",), ("=10.3.0 in .env",)),
    "override-11.0.0-on-gfx1102-seen-as-gfx1100-old-list": Case(
        rocm(log("tf218-override-11.0.0-seen-as-gfx1100-old-list.log"),
             env={"HSA_OVERRIDE_GFX_VERSION": "11.0.0"}, kfd=("gfx1102",)),
        "fail", R.OVERRIDE_NOT_IN_LIST, ("gfx1100", "delete HSA_OVERRIDE_GFX_VERSION")),
    # --- ROCm: device files ----------------------------------------------------------------
    "wsl2-dxg-no-kfd": Case(
        rocm(devices={"/dev/dxg": "ok"}), "fail", R.WSL2, ("CPU lab",)),
    "render-node-without-kfd-driver-not-loaded": Case(
        rocm(devices={"/dev/dri/renderD128": "ok"}), "fail", R.KFD_DRIVER_MISSING, ("amdgpu", "/dev/kfd")),
    "no-amd-devices-overlay-not-used": Case(
        rocm(devices={}), "fail", R.DEVICES_NOT_PASSED, ("compose.rocm.yaml",)),
    "kfd-permission-denied-names-kfd-gid": Case(
        rocm(log("hip-init-invalid-device.log"), devices={"/dev/kfd": "denied", "/dev/dri/renderD128": "ok"}),
        "fail", R.DEVICES_DENIED, ("LAB_KFD_GID", "stat -c %g /dev/kfd"), ("LAB_RENDER_GID",)),
    "render-node-permission-denied-names-render-gid": Case(
        rocm(devices={"/dev/kfd": "ok", "/dev/dri/renderD128": "denied"}),
        "fail", R.DEVICES_DENIED, ("LAB_RENDER_GID", "stat -c %g /dev/dri/renderD128"), ("LAB_KFD_GID",)),
    # --- ROCm: runtime errors --------------------------------------------------------------
    "hsa-out-of-resources-without-override": Case(
        rocm(log("hsa-out-of-resources.log")), "fail", R.OUT_OF_RESOURCES, ("rocminfo",)),
    "hip-init-invalid-device": Case(
        rocm(log("hip-init-invalid-device.log")), "fail", R.HIP_INIT_FAILED, ("HIP_ERROR_InvalidDevice",)),
    "no-compatible-code-objects-gfx1031-recommends-10.3.0": Case(
        rocm(log("hip-no-compatible-code-objects-gfx1031.log"), exit_code=-6),
        "fail", R.NO_CODE_OBJECT, ("HSA_OVERRIDE_GFX_VERSION=10.3.0",)),
    "invalid-isa-with-wrong-override-on-gfx90c-recommends-9.0.0": Case(
        rocm(log("hsa-invalid-isa.log"), env={"HSA_OVERRIDE_GFX_VERSION": "9.0.6", "LAB_ROCM_TF_TARGETS": OLD_TARGETS},
             kfd=("gfx90c",), exit_code=-6),
        "fail", R.NO_CODE_OBJECT, ("HSA_OVERRIDE_GFX_VERSION=9.0.6 does not fit", "HSA_OVERRIDE_GFX_VERSION=9.0.0")),
    "radeon780m-memory-access-fault-under-11.0.0": Case(
        rocm(log("memory-access-fault.log"), env={"HSA_OVERRIDE_GFX_VERSION": "11.0.0"}, kfd=("gfx1103",),
             exit_code=-6),
        "fail", R.MEMORY_FAULT, ("page-fault", "CPU lab")),
    # --- NVIDIA ------------------------------------------------------------------------------
    "nvidia-no-device-files-toolkit-or-overlay-missing": Case(
        nvidia(log("cuda-no-device.log"), devices={}), "fail", N.NO_DEVICES,
        ("compose.nvidia.yaml", "nvidia-ctk runtime configure")),
    "nvidia-on-wsl2-dxg-is-not-missing-devices": Case(
        nvidia(log("cuda-unknown-error.log"), devices={"/dev/dxg": "ok"}), "fail", N.CUINIT_FAILED,
        ("CUDA_ERROR_UNKNOWN",)),
    "nvidia-kernel-module-and-library-differ-reboot": Case(
        nvidia(log("cuda-kernel-dso-mismatch.log")), "fail", N.DRIVER_LIBRARY_MISMATCH,
        ("reboot", "550.120.0", "560.35.5")),
    "nvml-driver-library-version-mismatch-reboot": Case(
        nvidia(log("nvml-driver-library-mismatch.log")), "fail", N.DRIVER_LIBRARY_MISMATCH, ("reboot",)),
    "cuda-forward-compat-refused-means-driver-too-old-not-reboot": Case(
        nvidia(log("cuda-compat-not-supported.log"), cuda_version="12.5.1"), "fail", N.DRIVER_TOO_OLD,
        ("CUDA 12.5.1", "update the host's NVIDIA driver"), ("reboot the computer",)),
    "cuda-driver-insufficient-for-runtime": Case(
        nvidia(log("cuda-driver-insufficient.log"), cuda_version="12.5.1"), "fail", N.DRIVER_TOO_OLD,
        ("CUDA 12.5.1", "550.120")),
    "nvml-unknown-error": Case(
        nvidia(log("nvml-unknown-error.log")), "fail", N.NVML_FAILED, ("'Unknown Error'",)),
    "nvml-insufficient-permissions-device-denied-names-its-group": Case(
        nvidia(log("nvml-insufficient-permissions.log"),
               devices={"/dev/nvidia0": "denied", "/dev/nvidiactl": "denied", "/dev/nvidia-uvm": "ok"}),
        "fail", N.NVML_NO_PERMISSION,
        ("/dev/nvidia0, /dev/nvidiactl", "stat -c '%g %a' /dev/nvidia0", "group_add", "compose.override.yaml"),
        ("setsebool",)),
    "nvml-insufficient-permissions-devices-open-points-at-selinux": Case(
        nvidia(log("nvml-insufficient-permissions.log")), "fail", N.NVML_NO_PERMISSION,
        ("setsebool -P container_use_devices 1",), ("group_add",)),
    "nvml-insufficient-permissions-wins-over-the-cuinit-failure-it-causes": Case(
        nvidia(log("nvml-insufficient-permissions.log") + log("cuda-unknown-error.log")),
        "fail", N.NVML_NO_PERMISSION),
    "cannot-dlopen-names-libcudnn-so-9-and-rebuild": Case(
        nvidia(log("tf220-cannot-dlopen-cudnn9.log")), "fail", N.LIBRARIES_MISSING,
        ("TensorFlow could not load libcudnn.so.9,", "docker compose -f compose.yaml -f compose.nvidia.yaml build"),
        ("libcudart",)),
    "cannot-dlopen-without-library-lines-still-says-rebuild": Case(
        nvidia(log("tf218-cannot-dlopen-unnamed.log")), "fail", N.LIBRARIES_MISSING,
        ("did not name the library", "compose.nvidia.yaml build")),
    "rtx5080-compute-capability-12-0-invalid-ptx-says-use-the-cpu-lab": Case(
        nvidia(log("tf220-rtx5080-invalid-ptx.log"), gpus=(gpu("NVIDIA GeForce RTX 5080", works=False, error=(
            # The probe records f"{type(exc).__name__}: {exc}" for the op that failed.
            "InternalError: 'cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ, 0, "
            "reinterpret_cast<CUstream>(stream), params, nullptr)' failed with 'CUDA_ERROR_INVALID_HANDLE'"),
            capability="(12, 0)"),)),
        "fail", N.NO_KERNELS,
        ("NVIDIA GeForce RTX 5080 (compute capability 12.0)", "TensorFlow 2.20.0", "sm_60, sm_70, sm_80, sm_89",
         "PTX compute_90", "docker compose up")),
    "rtx5080-probe-failed-before-listing-the-card-named-from-the-log": Case(
        Facts(probe={"error": "Traceback (most recent call last): ... InternalError"},
              log=log("tf220-rtx5080-invalid-ptx.log"), flavour="nvidia", devices=NVIDIA_DEVICES),
        "fail", N.NO_KERNELS, ("compute capability 12.0", "docker compose up")),
    "h100-ptx-jit-warning-with-a-working-card-is-fine": Case(
        nvidia(log("tf215-h100-ptx-jit-warning.log"), gpus=(gpu("NVIDIA H100 80GB HBM3", capability="(9, 0)"),)),
        "gpu", "TensorFlow works on the GPU: NVIDIA H100 80GB HBM3"),
    "rtx3060-works": Case(
        nvidia(gpus=(gpu("NVIDIA GeForce RTX 3060"),)), "gpu", "TensorFlow works on the GPU: NVIDIA GeForce RTX 3060"),
    # --- any vendor ----------------------------------------------------------------------------
    "gpu-oom-during-probe": Case(
        nvidia(gpus=(gpu("NVIDIA GeForce GTX 1050", works=False, error=(
            # The probe records f"{type(exc).__name__}: {exc}"; the message is TensorFlow's OOM
            # status text (see diagnose_common's docstring for its source).
            "ResourceExhaustedError: {{function_node __wrapped__MatMul_device_/job:localhost/replica:0/task:0/"
            "device:GPU:0}} OOM when allocating tensor with shape[256,256] and type float on "
            "/job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc [Op:MatMul]")),)),
        "fail", diagnose_common.OUT_OF_MEMORY, ("TF_FORCE_GPU_ALLOW_GROWTH=true",)),
    "bfc-allocator-warning-is-not-an-oom": Case(
        nvidia(log("bfc-warning-not-a-failure.log"), gpus=(gpu("NVIDIA GeForce RTX 3060"),)),
        "gpu", "TensorFlow works on the GPU: NVIDIA GeForce RTX 3060"),
    # --- the generic rules keep their place -------------------------------------------------------
    "timeout-wins-over-any-log-line": Case(
        Facts(probe={}, log=log("memory-access-fault.log"), timed_out=True, exit_code=None, flavour="rocm",
              devices=AMD_DEVICES),
        "fail", "The GPU check did not finish in time", ("reboot",)),
    "tensorflow-import-failed": Case(
        Facts(probe={"error": "import tensorflow failed: ImportError('libamdhip64.so.6')", "gpus": []},
              flavour="rocm", devices=AMD_DEVICES),
        "fail", "TensorFlow could not be imported", ("docker compose build --pull",)),
    # The probe's error when the student's numpy 1.26.4 (`python -m pip install --isolated
    # --user numpy==1.26.4`) shadows the image's: ml_dtypes, built for numpy 2, fails inside
    # TensorFlow's import (seen in the CPU lab image); labkit.gate names the copy.
    "tensorflow-import-failed-under-a-shadowing-copy": Case(
        Facts(probe={"error": "import tensorflow failed: SystemError('<built-in function __import__> returned a "
                              "result with an exception set')", "gpus": []},
              flavour="cpu", shadowing=(SHADOWING_NUMPY,)),
        "fail", "TensorFlow could not be imported",
        ("numpy in /cache/python-user/lib/python3.11/site-packages",
         "`docker compose run --rm --entrypoint pip lab uninstall -y numpy`"), ("--pull",)),
    "tensorflow-import-failed-under-a-pth-folder": Case(
        Facts(probe={"error": "import tensorflow failed: ImportError('numpy')", "gpus": []},
              flavour="cpu", shadowing=(SHADOWING_NUMPY, SHADOWING_PTH)),
        "fail", "TensorFlow could not be imported",
        ("--entrypoint pip lab uninstall -y numpy`", "random in /cache/extra/random.py",
         "--entrypoint pip lab uninstall -y helper`"), ("--pull",)),
    "crash-before-reporting-under-a-shadowing-copy": Case(
        Facts(probe={}, exit_code=1, flavour="cpu", shadowing=(SHADOWING_PTH,)),
        "fail", "The GPU check crashed before reporting", ("--entrypoint pip lab uninstall -y helper`",),
        ("instructor",)),
    "crash-without-a-known-message": Case(
        rocm("Segmentation fault (core dumped)\n", exit_code=-11), "fail", "The GPU check crashed before reporting"),
    "cpu-lab-without-gpu": Case(
        Facts(probe=probe(build="cpu"), flavour="cpu"), "cpu", "No GPU in the CPU lab: TensorFlow runs on the CPU"),
    "rocm-lab-silent-no-gpu": Case(
        rocm(), "fail", "TensorFlow sees no GPU", ("doctor",)),
}
# fmt: on


@pytest.mark.parametrize("case", [pytest.param(case, id=name) for name, case in CASES.items()])
def test_probe_output_gives_one_verdict_and_fix(case: Case) -> None:
    found = diagnose(case.facts)
    assert found.status == case.status
    assert found.headline == case.headline
    for wanted in case.fix_has:
        assert wanted in found.fix
    for unwanted in case.fix_lacks:
        assert unwanted not in found.fix


@pytest.mark.parametrize("case", [pytest.param(case, id=name) for name, case in CASES.items()])
def test_failing_verdict_links_to_the_heading_of_its_headline(case: Case) -> None:
    found = diagnose(case.facts)
    if found.status is GateStatus.GPU:
        assert found.anchor == ""
    else:
        assert found.anchor == slug(found.headline)
        assert found.doc_link == f"docs/troubleshooting.md#{found.anchor}"


@pytest.mark.parametrize("case", [pytest.param(case, id=name) for name, case in CASES.items()])
def test_messages_read_as_one_line_without_final_period(case: Case) -> None:
    # The entrypoint prints "ERROR: <headline>." and "Fix: <fix>.": it adds the period.
    found = diagnose(case.facts)
    assert "\n" not in found.headline
    assert "\n" not in found.fix
    assert not found.headline.endswith(".")
    assert not found.fix.endswith(".")


@pytest.mark.parametrize("case", [pytest.param(case, id=name) for name, case in CASES.items()])
def test_fix_only_ever_recommends_an_override_of_the_form_n_n_n(case: Case) -> None:
    # Never empty, never "gfx1030" or "10.3": ROCm reads exactly three numbers.
    found = diagnose(case.facts)
    for value in re.findall(r"(?:set|add) HSA_OVERRIDE_GFX_VERSION=(\S*)", found.fix):
        assert gfx.from_override(value) is not None


def _doc_headings() -> set[str]:
    return {line[3:].strip() for line in DOC.read_text().splitlines() if line.startswith("## ")}


def _failing_headlines() -> set[str]:
    produced = {diagnose(case.facts).headline for case in CASES.values() if case.status != GateStatus.GPU}
    return produced | set(diagnose_rocm.HEADLINES) | set(diagnose_nvidia.HEADLINES) | set(diagnose_common.HEADLINES)


@pytest.mark.parametrize("headline", sorted(_failing_headlines()))
def test_every_failing_headline_has_its_section_in_troubleshooting_doc(headline: str) -> None:
    assert headline in _doc_headings()


def test_every_vendor_headline_is_reached_by_a_case_in_the_table() -> None:
    produced = {diagnose(case.facts).headline for case in CASES.values()}
    vendor = set(diagnose_rocm.HEADLINES) | set(diagnose_nvidia.HEADLINES) | set(diagnose_common.HEADLINES)
    assert vendor - produced == set()


def test_troubleshooting_headings_have_distinct_anchors() -> None:
    headings = sorted(_doc_headings())
    assert len({slug(heading) for heading in headings}) == len(headings)


def test_printed_list_never_adds_a_target_without_kernels() -> None:
    # r2.18 prints gfx900 and gfx906; the image's libraries have no code for them.
    facts = rocm(log("tf218-gfx1031-ignored.log"))
    supported = diagnose_rocm.supported_targets(facts)
    assert gfx.from_llvm_name("gfx900") not in supported
    assert gfx.from_llvm_name("gfx906") not in supported
    assert [t.llvm_name for t in supported] == R218_TARGETS.split()


def test_card_tensorflow_refuses_is_not_native_even_with_kernels() -> None:
    # The compiled list claims gfx1031; TensorFlow's start-up check refused it all the same,
    # so only a target on both lists (gfx1030) can help.
    facts = rocm(log("tf218-gfx1031-ignored.log"), env={"LAB_ROCM_TF_TARGETS": f"{R218_TARGETS} gfx1031"})
    assert gfx.from_llvm_name("gfx1031") not in diagnose_rocm.supported_targets(facts)
    assert diagnose(facts).headline == R.SKIPPED_NEEDS_OVERRIDE
    assert "HSA_OVERRIDE_GFX_VERSION=10.3.0" in diagnose(facts).fix


def test_compiled_list_decides_when_tensorflow_prints_none() -> None:
    facts = rocm(env={"LAB_ROCM_TF_TARGETS": "gfx1030 gfx1100"})
    assert diagnose_rocm.supported_targets(facts) == [gfx.GfxTarget(10, 3, 0), gfx.GfxTarget(11, 0, 0)]


def test_override_on_a_card_whose_kernels_the_image_has_is_refused() -> None:
    # An RX 7600 (gfx1102) set up with 11.0.0 from an old, hard-coded list: the image's
    # libraries have gfx1102 kernels, so the override is needless (and such overrides crash).
    facts = rocm(log("tf218-gpu-created.log"), env={"HSA_OVERRIDE_GFX_VERSION": "11.0.0"},
                 gpus=(gpu("AMD Radeon RX 7600"),), kfd=("gfx1102",))  # fmt: skip
    assert diagnose(facts).headline == R.OVERRIDE_NOT_NEEDED


# Issue 24's loop: an image whose TensorFlow has gfx1102 kernels (r2.18's compiled list) but
# refuses gfx1102 at run time (XLA's list of TensorFlow 2.20 before ROCm/tensorflow-upstream#3181).
TF220_RUNTIME = "gfx900 gfx906 gfx908 gfx90a gfx942 gfx950 gfx1030 gfx1100 gfx1101 gfx1200 gfx1201"


def test_rx7600_refused_despite_its_kernels_is_told_to_borrow_gfx1100() -> None:
    found = diagnose(rocm(log("tf220-gfx1102-ignored.log"), kfd=("gfx1102",)))
    assert found.headline == R.SKIPPED_NEEDS_OVERRIDE
    assert "add HSA_OVERRIDE_GFX_VERSION=11.0.0 to .env" in found.fix


def test_the_override_a_refusal_asked_for_is_not_undone_when_the_card_then_works() -> None:
    # The next start, with 11.0.0 set: TensorFlow accepts the card as gfx1100 and computes, so
    # nothing in the log names the run-time list; the gate passes the one the image recorded.
    facts = rocm(log("tf218-gpu-created.log"),
                 env={"HSA_OVERRIDE_GFX_VERSION": "11.0.0", "LAB_ROCM_TF_RUNTIME_TARGETS": TF220_RUNTIME},
                 gpus=(gpu("AMD Radeon RX 7600"),), kfd=("gfx1102",))  # fmt: skip
    found = diagnose(facts)
    assert found.headline != R.OVERRIDE_NOT_NEEDED
    assert found.status == "gpu"


def test_an_override_on_a_card_on_both_lists_is_still_refused() -> None:
    facts = rocm(log("tf218-gpu-created.log"),
                 env={"HSA_OVERRIDE_GFX_VERSION": "11.0.0", "LAB_ROCM_TF_RUNTIME_TARGETS": f"{TF220_RUNTIME} gfx1102"},
                 gpus=(gpu("AMD Radeon RX 7600"),), kfd=("gfx1102",))  # fmt: skip
    assert diagnose(facts).headline == R.OVERRIDE_NOT_NEEDED


def test_the_list_printed_in_this_run_wins_over_the_recorded_one() -> None:
    # The image recorded gfx1102 as accepted, but TensorFlow refused it here: what it printed counts.
    facts = rocm(log("tf220-gfx1102-ignored.log"),
                 env={"LAB_ROCM_TF_RUNTIME_TARGETS": f"{TF220_RUNTIME} gfx1102"}, kfd=("gfx1102",))  # fmt: skip
    assert gfx.from_llvm_name("gfx1102") not in diagnose_rocm.supported_targets(facts)
    assert "HSA_OVERRIDE_GFX_VERSION=11.0.0" in diagnose(facts).fix


def test_ignored_gpu_line_parses_a_name_with_parentheses() -> None:
    (ignored,) = diagnose_rocm.ignored_gpus(log("tf213-gfx90c-apu-ignored.log"))
    assert ignored.device == "AMD Radeon(TM) Graphics"
    assert ignored.target == "gfx90c"
    assert ignored.supported_text == "gfx1030, gfx900, gfx906, gfx908, gfx90a"


def test_override_is_not_mistaken_for_the_card_when_kfd_is_unknown() -> None:
    # Under an override TensorFlow names the override's target, not the card's.
    facts = rocm(log("tf218-override-11.0.0-seen-as-gfx1100-old-list.log"), env={"HSA_OVERRIDE_GFX_VERSION": "11.0.0"})
    assert diagnose_rocm.card_target(facts) is None


def test_vendor_rules_sit_before_the_generic_crash_rule() -> None:
    names = [rule.__name__ for rule in RULES]
    assert names.index("gpu_skipped") < names.index("probe_crashed")
    assert names.index("cuinit_failed") < names.index("probe_crashed")
    assert names.index("gpu_out_of_memory") < names.index("probe_crashed")
    assert names.index("probe_timed_out") == 0


def test_failing_vendor_verdict_stops_a_gpu_overlay() -> None:
    decision = gate_policy(diagnose(CASES["rx6700xt-gfx1031-unsupported-recommends-10.3.0"].facts), require_gpu=True)
    assert decision.proceed is False
    assert decision.exit_code != 0


def test_a_verdict_status_must_be_one_the_gate_knows() -> None:
    assert verdict("fail", "Broken", "fix it").status is GateStatus.FAIL
    with pytest.raises(ValueError, match="failed"):
        verdict("failed", "Broken", "fix it")
