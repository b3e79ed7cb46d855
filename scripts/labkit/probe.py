"""The GPU probe: run as a child process (`python -m labkit.probe`) by the gate.

It imports TensorFlow, lists the GPUs and runs a small matmul and a convolution on each,
checking the numbers against the CPU. It prints one JSON object on its last stdout line;
TensorFlow's own log lines go to stderr, which the gate captures for the diagnosis. Where
the NVIDIA Container Toolkit put `nvidia-smi` into the container, its answer goes to stderr
first: NVML's own words ("Failed to initialize NVML: Insufficient Permissions") are the
clearest sign of a driver or permission problem, and TensorFlow does not print them.

Output fields (all always present):
  python, tensorflow, build      versions; build is tf.sysconfig.get_build_info()
  rocm_version, cuda_driver      read from the image and the driver, where they exist
  gpus                           list of {name, device_name, compute_capability,
                                 matmul_ok, conv_ok, max_error, error}
  cpu_ok                         the CPU computation itself ran
  error                          a Python exception text if the probe failed as a whole
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

MATRIX_SIZE = 256
# float32 on GPUs (TF32 on recent NVIDIA cards, different reduction orders everywhere)
# differs from the CPU in the last bits; a broken kernel gives errors of order 1.
TOLERANCE = 1e-2


def read_rocm_version(root: Path = Path("/")) -> str | None:
    """ROCm images record their version in /opt/rocm/.info/version."""
    path = root / "opt/rocm/.info/version"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def read_nvidia_driver(root: Path = Path("/")) -> str | None:
    """The NVIDIA kernel driver's version, visible in containers the toolkit has set up."""
    try:
        text = (root / "proc/driver/nvidia/version").read_text()
    except OSError:
        return None
    for word in text.split():
        if word.count(".") >= 1 and word.replace(".", "").isdigit():
            return word
    return None


def report_nvidia_smi(timeout: float = 15) -> None:
    """`nvidia-smi -L` to stderr, where the gate reads TensorFlow's log (bounded: a wedged
    driver can hang it too)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return
    try:
        done = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=timeout, check=False)
        text = done.stdout + done.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        text = f"nvidia-smi did not answer: {exc}\n"
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    sys.stderr.flush()


def _workload(tf):
    """Deterministic inputs, so the CPU and GPU results are comparable. Made on the CPU: on
    a GPU TensorFlow has no kernels for, generating them would fail before any GPU is tried,
    and the per-GPU error the diagnosis reads would be lost."""
    with tf.device("/CPU:0"):
        rng = tf.random.Generator.from_seed(1234)
        a = rng.normal((MATRIX_SIZE, MATRIX_SIZE))
        b = rng.normal((MATRIX_SIZE, MATRIX_SIZE))
        images = rng.normal((4, 32, 32, 3))
        kernels = rng.normal((3, 3, 3, 8))
    return a, b, images, kernels


def _compute(tf, device: str, inputs):
    a, b, images, kernels = inputs
    with tf.device(device):
        product = tf.linalg.matmul(tf.identity(a), tf.identity(b))
        feature_maps = tf.nn.conv2d(tf.identity(images), tf.identity(kernels), strides=1, padding="SAME")
        return product.numpy(), feature_maps.numpy()


def probe() -> dict:
    result: dict = {
        "python": platform.python_version(),
        "tensorflow": None,
        "build": {},
        "rocm_version": read_rocm_version(),
        "cuda_driver": read_nvidia_driver(),
        "gpus": [],
        "cpu_ok": False,
        "error": None,
    }
    report_nvidia_smi()
    try:
        import tensorflow as tf

        # A module named tensorflow that is not TensorFlow (a student's own file on the path)
        # has no version: that is a failed import too, never "TensorFlow ?" on the CPU.
        result["tensorflow"] = tf.__version__
    except Exception as exc:  # an ImportError, or a crash in TF's own init code
        result["error"] = f"import tensorflow failed: {exc!r}"
        return result
    try:
        build = dict(tf.sysconfig.get_build_info())
        result["build"] = {k: str(v) for k, v in build.items()}
    except Exception:  # noqa: S110 - older builds lack some keys; versions are a nicety
        pass
    inputs = _workload(tf)
    reference = _compute(tf, "/CPU:0", inputs)
    result["cpu_ok"] = True
    for index, device in enumerate(tf.config.list_physical_devices("GPU")):
        entry = {
            "name": device.name,
            "device_name": None,
            "compute_capability": None,
            "matmul_ok": False,
            "conv_ok": False,
            "max_error": None,
            "error": None,
        }
        try:
            details = tf.config.experimental.get_device_details(device)
            entry["device_name"] = details.get("device_name")
            capability = details.get("compute_capability")
            entry["compute_capability"] = str(capability) if capability is not None else None
            product, feature_maps = _compute(tf, f"/GPU:{index}", inputs)
            matmul_error = float(abs(product - reference[0]).max())
            conv_error = float(abs(feature_maps - reference[1]).max())
            entry["max_error"] = max(matmul_error, conv_error)
            entry["matmul_ok"] = matmul_error <= TOLERANCE * float(abs(reference[0]).max())
            entry["conv_ok"] = conv_error <= TOLERANCE * float(abs(reference[1]).max())
        except Exception as exc:  # OOM, missing kernels: all data for the diagnosis
            entry["error"] = f"{type(exc).__name__}: {exc}"
        result["gpus"].append(entry)
    return result


def main() -> int:
    try:
        result = probe()
    except Exception:
        result = {"error": traceback.format_exc(limit=3)}
    sys.stdout.flush()
    # The JSON goes on its own last line: TensorFlow may print to stdout before it.
    os.write(1, ("\n" + json.dumps(result) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
