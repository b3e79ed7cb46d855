"""Input pipeline: steady-state epoch time with real (TFDS, on disk) vs synthetic data.

    .venv/bin/python benchmarks/input_pipeline.py [--examples 6400] [--steps 40] [--repeats 4]

CIFAR-10 cannot be downloaded on the test machines, so this writes a CIFAR-shaped dataset
(32x32x3 images, 10 classes) in TFDS's own on-disk format into a temp folder and runs
the lab's benchmark (labtrain.bench) on it: real and synthetic epochs take turns after a
warm-up, and the benchmark reports the real/synthetic ratio. The goal is <= 1.05 (the input
pipeline keeps up). On a CPU the model's compute dominates; only a GPU shows whether the
pipeline can feed a fast device.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NAME = "courselab_cifar_shaped"


def write_dataset(data_dir: Path, examples: int) -> None:
    import numpy as np
    import tensorflow as tf
    import tensorflow_datasets as tfds

    rng = np.random.default_rng(0)

    def split(count: int) -> tf.data.Dataset:
        images = rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
        return tf.data.Dataset.from_tensor_slices({"image": images, "label": rng.integers(0, 10, count)})

    features = tfds.features.FeaturesDict(
        {"image": tfds.features.Image(shape=(32, 32, 3)), "label": tfds.features.ClassLabel(num_classes=10)}
    )
    tfds.dataset_builders.store_as_tfds_dataset(
        name=NAME,
        version="1.0.0",
        features=features,
        split_datasets={"train": split(examples), "test": split(examples // 5)},
        data_dir=str(data_dir),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=6400)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "tfds"
        write_dataset(data_dir, args.examples)
        report = Path(scratch) / "bench.json"
        env = {**os.environ, "TFDS_DATA_DIR": str(data_dir), "TF_CPP_MIN_LOG_LEVEL": "2"}
        env["PYTHONPATH"] = str(REPO / "scripts")
        command = [sys.executable, "-m", "labtrain.bench", "--dataset", NAME, "--no-download"]
        command += ["--data", "real,synthetic", "--devices", "cpu", "--steps", str(args.steps)]
        command += ["--repeats", str(args.repeats), "--json", str(report)]
        subprocess.run(command, env=env, cwd=scratch, check=True)
        rows = json.loads(report.read_text())["rows"]
    by_data = {row["data"]: row for row in rows}
    real, synthetic = by_data["real"], by_data["synthetic"]
    print(f"real:      {real['steps_per_second']:.2f} steps/s, epochs {real['epoch_seconds']} s")
    print(f"synthetic: {synthetic['steps_per_second']:.2f} steps/s, epochs {synthetic['epoch_seconds']} s")
    print(f"real/synthetic epoch time = {real['seconds'] / synthetic['seconds']:.3f}   goal <= 1.05")
    return 0


if __name__ == "__main__":
    sys.exit(main())
