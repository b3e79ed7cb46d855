"""Placeholder training script: a tiny Keras model on synthetic images, so the stack's
train service has something real to run. The course's full workload replaces it."""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timezone
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("runs"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--synthetic", action="store_true", help="synthetic data (the only kind so far)")
    args = parser.parse_args()

    import tensorflow as tf

    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    images = tf.random.uniform((args.steps * args.batch_size, 32, 32, 3))
    labels = tf.random.uniform((args.steps * args.batch_size,), maxval=10, dtype=tf.int32)
    model = tf.keras.Sequential(
        [
            tf.keras.Input((32, 32, 3)),
            tf.keras.layers.Conv2D(16, 3, activation="relu"),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(10),
        ]
    )
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    epoch_seconds = []
    for epoch in range(args.epochs):
        started = time.perf_counter()
        history = model.fit(images, labels, batch_size=args.batch_size, epochs=1, verbose=0)
        epoch_seconds.append(time.perf_counter() - started)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {history.history['loss'][0]:.3f}, {epoch_seconds[-1]:.2f} s on {device}", flush=True)
    run_dir = args.output / datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "results.json").write_text(json.dumps({"device": device, "epoch_seconds": epoch_seconds}, indent=1))
    print(f"results in {run_dir}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
