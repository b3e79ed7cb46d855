"""The CUDA stand-in's user space: what tensorflow/tensorflow:2.20.0-gpu gets from apt.

tensorflow/build's gpu.packages.txt installs CUDA 12.3 (cuda-libraries-12-3, cuda-cupti-12-3,
cuda-nvrtc-12-3, libcublas/libcufft/libcurand/libcusolver/libcusparse-12-3) and
libcudnn8=8.9.6.50-1+cuda12.2. No apt repository of NVIDIA's is reachable from the test
machines, but PyPI carries the same builds as wheels: the versions below are CUDA 12.3
update 2's components and cuDNN 8.9.6.50. They are unpacked into the folders the apt packages
use, with the loader configuration those packages add, so the stand-in resolves libraries
exactly as the official image does: CUDA 12.3 through ld.so.cache, cuDNN 8 from
/usr/lib/x86_64-linux-gnu, and no cuDNN 9 anywhere. Left out, to keep the stand-in 1.1 GB
smaller: cuDNN 8's sub-libraries, which only libcudnn.so.8 itself would open.

Cached in $COURSELAB_CACHE: the wheels (by file name, so by version) and the unpacked tree
(by the content of this recipe). Both are optional: a cold run downloads and unpacks again.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

CUDA = "12.3"
CUDA_WHEELS = {
    "nvidia-cuda-runtime-cu12": "12.3.101",
    "nvidia-cublas-cu12": "12.3.4.1",
    "nvidia-cufft-cu12": "11.0.12.1",
    "nvidia-curand-cu12": "10.3.4.107",
    "nvidia-cusolver-cu12": "11.5.4.101",
    "nvidia-cusparse-cu12": "12.2.0.103",
    "nvidia-nvjitlink-cu12": "12.3.101",
    "nvidia-cuda-nvrtc-cu12": "12.3.107",
    "nvidia-cuda-cupti-cu12": "12.3.101",
}
CUDNN_WHEEL = ("nvidia-cudnn-cu12", "8.9.6.50")

TARGET_LIB = f"usr/local/cuda-{CUDA}/targets/x86_64-linux/lib"
# cuda-cupti-12-3 keeps CUPTI apart, outside the folders the loader is configured for.
CUPTI_LIB = f"usr/local/cuda-{CUDA}/extras/CUPTI/lib64"
# libcudnn8's files go to the distribution's own library folder.
DISTRO_LIB = "usr/lib/x86_64-linux-gnu"
# The loader configuration the CUDA packages install (cuda-toolkit-config-common and
# cuda-toolkit-12-config-common), and the nvidia/cuda base image's nvidia.conf.
LD_CONF = {
    "etc/ld.so.conf.d/000_cuda.conf": "/usr/local/cuda/targets/x86_64-linux/lib\n",
    "etc/ld.so.conf.d/988_cuda-12.conf": "/usr/local/cuda-12/targets/x86_64-linux/lib\n",
    "etc/ld.so.conf.d/nvidia.conf": "/usr/local/nvidia/lib\n/usr/local/nvidia/lib64\n",
}
# /usr/local/cuda and the update-alternatives link /usr/local/cuda-12 both name 12.3.
LINKS = {
    f"usr/local/cuda-{CUDA}/lib64": "targets/x86_64-linux/lib",
    "usr/local/cuda": f"cuda-{CUDA}",
    "usr/local/cuda-12": f"cuda-{CUDA}",
}


def log(message: str) -> None:
    print(f"[standins] {message}", file=sys.stderr, flush=True)


def pins() -> list[str]:
    return [f"{name}=={version}" for name, version in [*CUDA_WHEELS.items(), CUDNN_WHEEL]]


def destination(wheel_name: str, member: str) -> str | None:
    """Where a file of a wheel goes in the apt layout (None: left out)."""
    name = Path(member).name
    if "/lib/" not in member or ".so" not in name:
        return None
    if wheel_name == CUDNN_WHEEL[0]:
        # libcudnn.so.8 itself, not the 1.1 GB of sub-libraries it opens on demand
        # (libcudnn_cnn_infer.so.8, ...): TensorFlow 2.20 never opens cuDNN 8 at all.
        return f"{DISTRO_LIB}/{name}" if name.startswith("libcudnn.so.") else None
    if wheel_name == "nvidia-cuda-cupti-cu12":
        return f"{CUPTI_LIB}/{name}"
    return f"{TARGET_LIB}/{name}"


def recipe_key() -> str:
    sha = hashlib.sha256()
    for part in (*pins(), inspect.getsource(destination), repr(LD_CONF), repr(LINKS)):
        sha.update(part.encode())
        sha.update(b"\0")
    return sha.hexdigest()[:12]


def download(wheels: Path) -> dict[str, Path]:
    """pip download of the pinned wheels; pip skips files already in `wheels`."""
    wheels.mkdir(parents=True, exist_ok=True)
    log(f"CUDA {CUDA} + cuDNN {CUDNN_WHEEL[1]} wheels into {wheels} (about 1.6 GB when not cached)")
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    subprocess.run([*command, "--dest", str(wheels), *pins()], check=True)
    found = {}
    for pin in pins():
        name, version = pin.split("==")
        prefix = f"{name.replace('-', '_')}-{version}-"
        matches = sorted(wheels.glob(f"{prefix}*.whl"))
        if not matches:
            raise SystemExit(f"[standins] pip download left no wheel for {pin} in {wheels}")
        found[name] = matches[-1]
    return found


def unpack(wheels: dict[str, Path], tree: Path) -> None:
    for name, wheel in wheels.items():
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                target = destination(name, member)
                if target is None:
                    continue
                path = tree / target
                path.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, path.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
                path.chmod(0o755)
    for relative, text in LD_CONF.items():
        (tree / relative).parent.mkdir(parents=True, exist_ok=True)
        (tree / relative).write_text(text)
    for relative, target in LINKS.items():
        (tree / relative).symlink_to(target)


def layout(cache: Path, *, prune: bool) -> tuple[Path, str]:
    """The unpacked CUDA 12.3 + cuDNN 8.9 tree (a docker build context) and its key."""
    key = recipe_key()
    tree = cache / f"cuda-{CUDA}-layout-{key}"
    if prune:
        for old in cache.glob(f"cuda-{CUDA}-layout-*"):
            if old != tree:
                log(f"removing superseded {old}")
                shutil.rmtree(old, ignore_errors=True)
    if tree.is_dir():
        log(f"reusing {tree}")
        return tree, key
    wheels = download(cache / "wheels")
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        partial = Path(scratch) / "tree"
        log(f"unpacking into the apt layout: {tree}")
        unpack(wheels, partial)
        os.rename(partial, tree)  # atomic: a killed run never leaves half a tree
    return tree, key
