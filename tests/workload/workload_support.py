"""Helpers for the workload tests: run lab/ scripts in this venv, read PNG headers, and write
a tiny image-classification dataset in TFDS's own on-disk format (no network)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "lab"
# Where the image installs labkit and labtrain (/opt/labkit in the container).
PACKAGES = REPO / "scripts"
TINY_DATASET = "courselab_tiny"
TINY_TRAIN, TINY_TEST = 256, 64
TINY_SIZE = 8
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Small and fast everywhere: tiny images, a narrow model, one TensorFlow thread pool.
TINY_ARGS = ["--batch-size", "16", "--image-size", str(TINY_SIZE), "--width", "4", "--threads", "1"]


MISSING = [
    name for name in ("tensorflow", "tensorflow_datasets", "matplotlib") if importlib.util.find_spec(name) is None
]
needs_tensorflow = pytest.mark.skipif(
    bool(MISSING),
    reason=f"the workload needs {', '.join(MISSING)} in this venv (pip install -r requirements-dev.txt)",
)


def script_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "TFDS_DATA_DIR": str(data_dir),  # never the developer's ~/tensorflow_datasets
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "CUDA_VISIBLE_DEVICES": "",  # the CPU path, also on a developer's GPU machine
            "PYTHONUNBUFFERED": "1",
            "MPLBACKEND": "Agg",
            "TF_NUM_INTRAOP_THREADS": "1",
            "TF_NUM_INTEROP_THREADS": "1",
            # labkit (train.py loads .env with it) and labtrain, as the image's PYTHONPATH has them.
            "PYTHONPATH": str(PACKAGES),
            "LAB_LANG": "en",  # the tests read English lines, whatever the developer's locale
        }
    )
    env.update(extra)
    return env


def run_script(script: str, args: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 120):
    return subprocess.run(
        [sys.executable, str(LAB / script), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_module(module: str, args: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 120):
    """`python -m module`, as the container's entrypoint starts bench and prepare."""
    return subprocess.run(
        [sys.executable, "-m", module, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def make_work(root: Path) -> Path:
    """work/course as the entrypoint leaves it: a copy of lab/."""
    course = root / "work" / "course"
    shutil.copytree(LAB, course, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return root / "work"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk; raises AssertionError if this is no PNG."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG (starts {data[:8]!r})"
    length, chunk = struct.unpack(">I4s", data[8:16])
    assert chunk == b"IHDR" and length == 13, f"{path.name}: first chunk is {chunk!r}"
    width, height = struct.unpack(">II", data[16:24])
    assert data.rstrip(b"\0").endswith(b"IEND\xaeB`\x82"), f"{path.name} is truncated"
    return width, height


def build_tiny_dataset(data_dir: Path) -> None:
    """Two learnable classes (dark and bright 8x8 images), written with TFDS's writer into
    data_dir/courselab_tiny/1.0.0, exactly as a prepared download would be."""
    import numpy as np
    import tensorflow as tf
    import tensorflow_datasets as tfds

    rng = np.random.default_rng(7)

    def split(count: int) -> tf.data.Dataset:
        labels = rng.integers(0, 2, count)
        images = rng.integers(0, 60, (count, TINY_SIZE, TINY_SIZE, 3)) + labels[:, None, None, None] * 150
        return tf.data.Dataset.from_tensor_slices({"image": images.astype(np.uint8), "label": labels})

    features = tfds.features.FeaturesDict(
        {
            "image": tfds.features.Image(shape=(TINY_SIZE, TINY_SIZE, 3)),
            "label": tfds.features.ClassLabel(names=["dark", "bright"]),
        }
    )
    tfds.dataset_builders.store_as_tfds_dataset(
        name=TINY_DATASET,
        version="1.0.0",
        features=features,
        split_datasets={"train": split(TINY_TRAIN), "test": split(TINY_TEST)},
        data_dir=str(data_dir),
    )


if __name__ == "__main__":
    build_tiny_dataset(Path(sys.argv[1]))
