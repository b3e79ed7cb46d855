"""How fast is this machine? The course's training workload for a fixed number of steps on
the CPU and on every GPU, with real and with synthetic data, in one run.

    python bench.py                         CPU + each GPU, real + synthetic, 50 steps each
    python bench.py --steps 20 --data synthetic
    docker compose run --rm --entrypoint python train /opt/lab/course/bench.py   (report in work/runs/)

Every measurement is one warm-up epoch (tracing, kernel compilation, filling the data cache)
followed by --repeats measured epochs of --steps steps, real and synthetic epochs taking turns;
the table shows the median measured epoch. Real data reads only as many images as the steps
need, so the cache is full after the warm-up and the measured epochs see the steady state
that train.py's epochs 2..N see.

Reading the table: GPU/CPU is the speedup over the CPU on the same data. real/synth is the
real-data step time over the synthetic one: near 1.0 means the input pipeline keeps up; above
1.10 the run is input-bound (the accelerator waits for data), and more --batch-size, fewer
augmentations or a faster disk matter more than a faster GPU.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
import train  # noqa: E402  (beside this file, in the course folder)

BENCH_SCHEMA = "courselab.bench/1"
INPUT_BOUND_RATIO = 1.10

# What the lecture measured (a different model and dataset): orientation, not a target.
LECTURE_REFERENCE = (
    {
        "machine": "AMD Radeon RX 6700 XT, ROCm, HSA_OVERRIDE_GFX_VERSION=10.3.0",
        "figure": "about 14 s per epoch",
        "epoch_seconds": 14.0,
    },
    {"machine": "NVIDIA T4 (Google Colab)", "figure": "about 50 s per epoch", "epoch_seconds": 50.0},
    {
        "machine": "CPU (TensorFlow refused the unsupported GPU)",
        "figure": "hundreds of ms per batch",
        "epoch_seconds": None,
    },
)


class EpochClock(keras.callbacks.Callback):
    """Wall time of each fit() epoch, with a progress line when a slow device takes a while."""

    def __init__(self, *, label: str, steps: int, log: Callable[[str], None], progress_every: float = 10.0):
        super().__init__()
        self.label, self.steps, self.log, self.progress_every = label, steps, log, progress_every
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = self.last_print = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if now - self.last_print >= self.progress_every:
            self.last_print = now
            self.log(f"[bench]     {self.label}: step {batch + 1}/{self.steps}, {now - self.started:.0f} s")

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)
        kind = "warm-up" if len(self.seconds) == 1 else f"round {len(self.seconds) - 1}"
        self.log(f"[bench]     {self.label}: {kind} {self.seconds[-1]:.2f} s")


@dataclass
class Workload:
    """The model and data for one (device, data kind) pair, kept between rounds."""

    device: train.Device
    kind: str
    data: train.Data
    model: keras.Model
    clock: EpochClock
    mixed: bool

    def epoch(self) -> None:
        with tf.device(self.device.name), train.precision_policy(self.mixed):
            self.model.fit(
                self.data.train,
                epochs=1,
                steps_per_epoch=self.data.steps_per_epoch,
                callbacks=[self.clock],
                shuffle=False,
                verbose=0,
            )


def prepare(device: train.Device, data_kind: str, options: argparse.Namespace, log: Callable[[str], None]) -> Workload:
    mixed = options.mixed_precision and device.kind == "GPU"
    config = train.Config(
        dataset=options.dataset,
        batch_size=options.batch_size,
        max_steps=options.steps,
        steps_per_execution=options.steps_per_execution,
        mixed_precision=mixed,
        xla=options.xla,
        synthetic=data_kind == "synthetic",
        synthetic_examples=options.steps * options.batch_size,
        image_size=options.image_size,
        width=options.width,
        data_dir=options.data_dir,
        download=options.download,
        seed=options.seed,
    )
    data = train.load_data(config, log)
    keras.utils.set_random_seed(options.seed)
    with tf.device(device.name), train.precision_policy(mixed):
        model = train.compile_model(train.build_model(data.spec, width=options.width, mixed_precision=mixed), config)
    clock = EpochClock(label=f"{device.name} {data_kind}", steps=data.steps_per_epoch, log=log)
    return Workload(device, data_kind, data, model, clock, mixed)


def measure_device(
    device: train.Device, kinds: list[str], options: argparse.Namespace, log: Callable[[str], None]
) -> list[dict]:
    """Rows for one device. Real and synthetic epochs alternate (in both orders) instead of
    running one after the other, so a machine that gets busier or cooler half-way through
    (a desktop, a shared server) shifts both kinds alike and their ratio stays meaningful."""
    workloads = [prepare(device, kind, options, log) for kind in kinds]
    for round_index in range(1 + options.repeats):
        for workload in workloads if round_index % 2 == 0 else workloads[::-1]:
            workload.epoch()
    return [row(workload, options) for workload in workloads]


def row(workload: Workload, options: argparse.Namespace) -> dict:
    steps = workload.data.steps_per_epoch
    measured = workload.clock.seconds[1:]
    seconds = statistics.median(measured)
    full_epoch = options.full_epoch_images or workload.data.spec.train_examples
    return {
        "device": workload.device.name,
        "kind": workload.device.kind,
        "description": workload.device.description,
        "variables_on": train.variable_device(workload.model),
        "data": workload.kind,
        "image_shape": list(workload.data.spec.image_shape),
        "steps": steps,
        "batch_size": options.batch_size,
        "warmup_seconds": round(workload.clock.seconds[0], 4),
        "epoch_seconds": [round(value, 4) for value in measured],
        "seconds": round(seconds, 4),
        "steps_per_second": round(steps / seconds, 3),
        "images_per_second": round(steps * options.batch_size / seconds, 1),
        "ms_per_step": round(1000 * seconds / steps, 3),
        "full_epoch_images": full_epoch,
        "estimated_full_epoch_seconds": round(full_epoch / (steps * options.batch_size / seconds), 2),
        "mixed_precision": workload.mixed,
    }


def compare(rows: list[dict]) -> None:
    """Adds gpu_speedup (over the CPU, same data) and real/synthetic ratios in place."""
    by_key = {(row["device"], row["data"]): row for row in rows}
    for row in rows:
        cpu = by_key.get(("/CPU:0", row["data"]))
        row["gpu_speedup"] = (
            round(row["steps_per_second"] / cpu["steps_per_second"], 2) if cpu and row["kind"] == "GPU" else None
        )
        synthetic = by_key.get((row["device"], "synthetic"))
        if row["data"] == "real" and synthetic:
            ratio = row["seconds"] / synthetic["seconds"]
            row["real_over_synthetic"] = round(ratio, 3)
            row["input_bound"] = ratio > INPUT_BOUND_RATIO
        else:
            row["real_over_synthetic"] = None
            row["input_bound"] = None


def format_table(rows: list[dict]) -> str:
    header = (
        f"{'device':<8} {'data':<9} {'steps/s':>9} {'images/s':>10} {'ms/step':>9} {'warm-up s':>10} "
        f"{'est. s/epoch':>13} {'GPU/CPU':>8} {'real/synth':>11}  input-bound"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        speedup = f"{row['gpu_speedup']:.2f}x" if row["gpu_speedup"] is not None else "-"
        ratio = f"{row['real_over_synthetic']:.2f}" if row["real_over_synthetic"] is not None else "-"
        bound = {True: "yes", False: "no", None: "-"}[row["input_bound"]]
        lines.append(
            f"{row['device']:<8} {row['data']:<9} {row['steps_per_second']:>9.1f} {row['images_per_second']:>10.0f} "
            f"{row['ms_per_step']:>9.1f} {row['warmup_seconds']:>10.2f} {row['estimated_full_epoch_seconds']:>13.1f} "
            f"{speedup:>8} {ratio:>11}  {bound}"
        )
    return "\n".join(lines)


def reference_lines() -> list[str]:
    lines = ["Lecture reference (a different model and dataset: compare the order of magnitude, not the digits):"]
    lines += [f"  {item['machine']:<62} {item['figure']}" for item in LECTURE_REFERENCE]
    return lines


def run_bench(options: argparse.Namespace, *, log: Callable[[str], None] = print) -> dict:
    """Measure every (device, data) pair; the report is what --json writes."""
    devices = train.list_devices()
    wanted = {"all": devices, "cpu": devices[:1], "gpu": [d for d in devices if d.kind == "GPU"]}[options.devices]
    notes = []
    if not [d for d in devices if d.kind == "GPU"]:
        notes.append("TensorFlow sees no GPU on this machine: only the CPU was measured.")
    kinds = [kind for kind in ("real", "synthetic") if kind in options.data.split(",")]
    if "real" in kinds:
        try:
            train.prepare_dataset(
                train.Config(dataset=options.dataset, data_dir=options.data_dir, download=options.download), log
            )
        except train.TrainError as error:
            kinds.remove("real")
            notes.append(f"real data skipped: {error}")
            log(f"[bench] real data skipped: {error}")
    # One epoch size for every row, so "est. s/epoch" compares like with like.
    options.full_epoch_images = None
    if "real" in kinds:
        options.full_epoch_images = train.load_tfds(
            train.Config(dataset=options.dataset, data_dir=options.data_dir, download=False, batch_size=1), log
        ).spec.train_examples
    rows = []
    for index, device in enumerate(wanted, start=1):
        log(
            f"[bench] ({index}/{len(wanted)}) {device.kind} {device.name} ({device.description}): "
            f"{' and '.join(kinds)} data, a warm-up and {options.repeats} measured rounds of {options.steps} steps"
        )
        for measured in measure_device(device, kinds, options, log):
            rows.append(measured)
            log(
                f"[bench]     -> {measured['data']}: {measured['steps_per_second']:.1f} steps/s, "
                f"{measured['images_per_second']:.0f} images/s"
            )
    compare(rows)
    return {
        "schema": BENCH_SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "tensorflow": tf.__version__,
        "settings": {
            key: getattr(options, key)
            for key in (
                "dataset",
                "steps",
                "repeats",
                "batch_size",
                "image_size",
                "width",
                "mixed_precision",
                "xla",
                "steps_per_execution",
                "threads",
            )
        },
        "devices": [{"name": d.name, "kind": d.kind, "description": d.description} for d in devices],
        "rows": rows,
        "notes": notes,
        "lecture_reference": list(LECTURE_REFERENCE),
    }


def plot_report(report: dict, axes=None):
    """Bar chart of images/s per device and data kind (for notebooks)."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(figsize=(8, 4))
    rows = report["rows"]
    labels = [f"{row['device']}\n{row['data']}" for row in rows]
    colours = ["tab:green" if row["kind"] == "GPU" else "tab:gray" for row in rows]
    axes.bar(labels, [row["images_per_second"] for row in rows], color=colours)
    axes.set_ylabel("images per second (higher is better)")
    axes.set_title(f"{report['settings']['dataset']}, batch {report['settings']['batch_size']}")
    return axes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--steps", type=int, default=50, help="steps per measured epoch (default %(default)s)")
    add("--repeats", type=int, default=2, help="measured epochs after the warm-up (default %(default)s)")
    add("--batch-size", type=int, default=128)
    add("--dataset", default=train.DEFAULT_DATASET)
    add("--data", default="real,synthetic", help="real, synthetic or both (default %(default)s)")
    add("--devices", choices=("all", "cpu", "gpu"), default="all")
    add("--image-size", type=int)
    add("--width", type=int, default=32)
    add("--mixed-precision", action="store_true", help="float16 on the GPU rows (the CPU rows stay float32)")
    add("--xla", action="store_true")
    add("--steps-per-execution", type=int, default=1)
    add("--data-dir", help="TFDS data folder (default: $TFDS_DATA_DIR)")
    add("--download", action=argparse.BooleanOptionalAction, default=False, help="download a missing dataset")
    add("--threads", type=int, help="TensorFlow CPU threads (default: all cores)")
    add("--seed", type=int, default=42)
    add("--output", type=Path, default=Path("runs"), help="folder for bench-<time>.json (default %(default)s)")
    add("--json", type=Path, help="write the report here instead")
    return parser


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    if options.steps < 1 or options.repeats < 1:
        print("[bench] ERROR: --steps and --repeats must be at least 1", file=sys.stderr)
        return 2
    train.set_threads(options.threads)

    def log(line: str) -> None:
        print(line, flush=True)

    try:
        report = run_bench(options, log=log)
    except train.TrainError as error:
        print(f"[bench] ERROR: {error}", file=sys.stderr, flush=True)
        return error.exit_code
    if not report["rows"]:
        print("[bench] ERROR: nothing was measured (see the notes above)", file=sys.stderr)
        return 3
    print()
    print(format_table(report["rows"]))
    print()
    print(f"est. s/epoch: one epoch of {report['rows'][0]['full_epoch_images']} images at the measured rate.")
    for note in report["notes"]:
        print(f"Note: {note}")
    for line in reference_lines():
        print(line)
    path = options.json or options.output / f"bench-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    train.write_json_atomically(path, report)
    print(f"\n[bench] report: {path}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
