"""How fast is this machine? The course's training workload for a fixed number of steps on the
CPU, on every GPU, and on all GPUs at once, with real and with synthetic data, in one run.

    python -m labkit bench                       (in the lab: docker compose run --rm lab bench)
    python -m labkit bench --steps 20 --data synthetic

Every measurement is one warm-up epoch (tracing, kernel compilation, filling the data cache)
followed by --repeats measured epochs of --steps steps, real and synthetic epochs taking turns;
the table shows the median measured epoch. Real data reads only as many images as the steps
need, so the cache is full after the warm-up and the measured epochs see the steady state
that train.py's epochs 2..N see.

Reading the table: GPU/CPU is the speedup over the CPU on the same data. real/synth is the
real-data step time over the synthetic one: near 1.0 means the input pipeline keeps up; above
1.10 the run is input-bound (the accelerator waits for data), and more --batch-size, fewer
augmentations or a faster disk matter more than a faster GPU. With several GPUs an "all" row
trains on every one at once (MirroredStrategy, --batch-size images per GPU per step): "all/one"
is its speedup over one of them, "per device" its images/s divided by the GPUs.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import keras
import tensorflow as tf
from labkit.i18n import N_, _

from labtrain import data as datasets
from labtrain import devices, models, runs
from labtrain.errors import TrainError
from labtrain.settings import DEFAULT_DATASET, Settings

BENCH_SCHEMA = "courselab.bench/2"
INPUT_BOUND_RATIO = 1.10
DATA_KINDS = {"real": N_("real"), "synthetic": N_("synthetic")}

# What the lecture measured (a different model and dataset): orientation, not a target.
LECTURE_REFERENCE = (
    {
        "machine": "AMD Radeon RX 6700 XT, ROCm, HSA_OVERRIDE_GFX_VERSION=10.3.0",
        "figure": N_("about 14 s per epoch"),
        "epoch_seconds": 14.0,
    },
    {"machine": "NVIDIA T4 (Google Colab)", "figure": N_("about 50 s per epoch"), "epoch_seconds": 50.0},
    {
        "machine": N_("CPU (TensorFlow refused the unsupported GPU)"),
        "figure": N_("hundreds of ms per batch"),
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
            self.log(
                _("[bench]     {label}: step {step}/{steps}, {seconds:.0f} s").format(
                    label=self.label, step=batch + 1, steps=self.steps, seconds=now - self.started
                )
            )

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)
        kind = _("warm-up") if len(self.seconds) == 1 else _("round {number}").format(number=len(self.seconds) - 1)
        self.log(
            _("[bench]     {label}: {kind} {seconds:.2f} s").format(
                label=self.label, kind=kind, seconds=self.seconds[-1]
            )
        )


@dataclass
class Workload:
    """The model and data for one (device set, data kind) pair, kept between rounds."""

    placement: devices.Placement
    kind: str
    data: datasets.Data
    model: keras.Model
    clock: EpochClock

    def epoch(self) -> None:
        self.model.fit(
            self.data.train, epochs=1, steps_per_epoch=self.data.steps_per_epoch, callbacks=[self.clock], verbose=0
        )


def settings_for(options: argparse.Namespace, data_kind: str, *, mixed: bool) -> Settings:
    return Settings(
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


def prepare(
    placement: devices.Placement, data_kind: str, options: argparse.Namespace, log: Callable[[str], None]
) -> Workload:
    mixed = options.mixed_precision and placement.kind == "GPU"
    settings = settings_for(options, data_kind, mixed=mixed)
    data = datasets.load(settings, replicas=placement.replicas, log=log)
    keras.utils.set_random_seed(options.seed)
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    try:
        with placement.strategy.scope():
            model = models.compile_for_training(
                models.course_cnn(data.image_shape, data.num_classes, options.width),
                xla=options.xla,
                steps_per_execution=options.steps_per_execution,
            )
    finally:
        keras.mixed_precision.set_global_policy("float32")
    clock = EpochClock(label=f"{label_of(placement)} {_(DATA_KINDS[data_kind])}", steps=data.steps_per_epoch, log=log)
    return Workload(placement, data_kind, data, model, clock)


def label_of(placement: devices.Placement) -> str:
    if placement.replicas == 1:
        return placement.devices[0].name
    return _("all {count} {kind}").format(count=placement.replicas, kind=placement.kind)


def measure(
    placement: devices.Placement, kinds: list[str], options: argparse.Namespace, log: Callable[[str], None]
) -> list[dict]:
    """Rows for one device set. Real and synthetic epochs alternate (in both orders) instead of
    running one after the other, so a machine that gets busier or cooler half-way through
    (a desktop, a shared server) shifts both kinds alike and their ratio stays meaningful."""
    workloads = [prepare(placement, kind, options, log) for kind in kinds]
    for round_index in range(1 + options.repeats):
        for workload in workloads if round_index % 2 == 0 else workloads[::-1]:
            workload.epoch()
    return [row(workload, options) for workload in workloads]


def row(workload: Workload, options: argparse.Namespace) -> dict:
    steps, batch = workload.data.steps_per_epoch, workload.data.batch_size
    measured = workload.clock.seconds[1:]
    seconds = statistics.median(measured)
    images_per_second = steps * batch / seconds
    full_epoch = options.full_epoch_images or workload.data.spec.train_examples
    placement = workload.placement
    return {
        "device": label_of(placement),
        "devices": [device.name for device in placement.devices],
        "replicas": placement.replicas,
        "kind": placement.kind,
        "description": placement.description,
        "variables_on": devices.variable_device(workload.model),
        "data": workload.kind,
        "image_shape": list(workload.data.spec.image_shape),
        "steps": steps,
        "batch_size": batch,
        "warmup_seconds": round(workload.clock.seconds[0], 4),
        "epoch_seconds": [round(value, 4) for value in measured],
        "seconds": round(seconds, 4),
        "steps_per_second": round(steps / seconds, 3),
        "images_per_second": round(images_per_second, 1),
        "images_per_second_per_device": round(images_per_second / placement.replicas, 1),
        "ms_per_step": round(1000 * seconds / steps, 3),
        "full_epoch_images": full_epoch,
        "estimated_full_epoch_seconds": round(full_epoch / images_per_second, 2),
        "mixed_precision": options.mixed_precision and placement.kind == "GPU",
    }


def compare(rows: list[dict]) -> None:
    """Adds gpu_speedup (over the CPU), all_over_one (several devices over one of them, in
    images/s) and real/synthetic ratios, in place."""
    single = {(r["devices"][0], r["data"]): r for r in rows if r["replicas"] == 1}
    for r in rows:
        cpu = single.get(("/CPU:0", r["data"]))
        r["gpu_speedup"] = (
            round(r["images_per_second"] / cpu["images_per_second"], 2) if cpu and r["kind"] == "GPU" else None
        )
        one = single.get((r["devices"][0], r["data"]))
        r["all_over_one"] = (
            round(r["images_per_second"] / one["images_per_second"], 2) if one and r["replicas"] > 1 else None
        )
        synthetic = next((s for s in rows if s["device"] == r["device"] and s["data"] == "synthetic"), None)
        if r["data"] == "real" and synthetic:
            ratio = r["seconds"] / synthetic["seconds"]
            r["real_over_synthetic"] = round(ratio, 3)
            r["input_bound"] = ratio > INPUT_BOUND_RATIO
        else:
            r["real_over_synthetic"] = None
            r["input_bound"] = None


def format_table(rows: list[dict]) -> str:
    columns = (
        (_("device"), "<12"),
        (_("data"), "<9"),
        (_("steps/s"), ">9"),
        (_("images/s"), ">10"),
        (_("per device"), ">11"),
        (_("ms/step"), ">9"),
        (_("warm-up s"), ">10"),
        (_("est. s/epoch"), ">13"),
        (_("GPU/CPU"), ">8"),
        (_("all/one"), ">8"),
        (_("real/synth"), ">11"),
        (_("input-bound"), ""),
    )
    yes_no = {True: _("yes"), False: _("no"), None: "-"}
    table = [tuple(name for name, _align in columns)]
    for r in rows:
        table.append(
            (
                r["device"],
                _(DATA_KINDS[r["data"]]),
                f"{r['steps_per_second']:.1f}",
                f"{r['images_per_second']:.0f}",
                f"{r['images_per_second_per_device']:.0f}",
                f"{r['ms_per_step']:.1f}",
                f"{r['warmup_seconds']:.2f}",
                f"{r['estimated_full_epoch_seconds']:.1f}",
                f"{r['gpu_speedup']:.2f}x" if r["gpu_speedup"] is not None else "-",
                f"{r['all_over_one']:.2f}x" if r["all_over_one"] is not None else "-",
                f"{r['real_over_synthetic']:.2f}" if r["real_over_synthetic"] is not None else "-",
                yes_no[r["input_bound"]],
            )
        )
    # A column is as wide as its widest heading or cell, in whatever language they are.
    formats = [
        f"{align[0]}{max(int(align[1:]), *(len(line[index]) for line in table))}" if align else ""
        for index, (_name, align) in enumerate(columns)
    ]
    header, *lines = (" ".join(f"{cell:{spec}}" for cell, spec in zip(line, formats, strict=True)) for line in table)
    return "\n".join([header, "-" * len(header), *lines])


def reference_lines() -> list[str]:
    lines = [_("Lecture reference (a different model and dataset: compare the order of magnitude, not the digits):")]
    lines += [f"  {_(item['machine']):<62} {_(item['figure'])}" for item in LECTURE_REFERENCE]
    return lines


def placements(found: list[devices.Device], wanted: str) -> list[devices.Placement]:
    """One placement per single device, plus one for all accelerators together when there
    are several (GPUs, or the CPU's logical devices when there is no GPU)."""
    cpus = [d for d in found if d.kind == "CPU"]
    gpus = [d for d in found if d.kind == "GPU"]
    singles = {"all": [cpus[0], *gpus], "cpu": [cpus[0]], "gpu": gpus}[wanted]
    chosen = [devices.Placement(devices.strategy_for((device,)), (device,)) for device in singles]
    together = gpus if wanted in ("all", "gpu") and len(gpus) > 1 else cpus if not gpus and len(cpus) > 1 else []
    if together:
        chosen.append(devices.Placement(devices.strategy_for(tuple(together)), tuple(together)))
    return chosen


def run_bench(options: argparse.Namespace, *, log: Callable[[str], None] = print) -> dict:
    """Measure every (device set, data) pair; the report is what --json writes."""
    if options.threads:
        tf.config.threading.set_intra_op_parallelism_threads(options.threads)
        tf.config.threading.set_inter_op_parallelism_threads(options.threads)
    devices.split_cpu(options.cpu_devices)
    found = devices.list_devices()
    notes = []
    if not [d for d in found if d.kind == "GPU"]:
        notes.append(_("TensorFlow sees no GPU on this machine: only the CPU was measured."))
    kinds = [kind for kind in ("real", "synthetic") if kind in options.data.split(",")]
    if "real" in kinds:
        try:
            datasets.prepare(settings_for(options, "real", mixed=False), log)
        except TrainError as error:
            kinds.remove("real")
            notes.append(_("real data skipped: {error}").format(error=error))
            log(_("[bench] real data skipped: {error}").format(error=error))
    # One epoch size for every row, so "est. s/epoch" compares like with like.
    options.full_epoch_images = None
    if "real" in kinds:
        real = replace(settings_for(options, "real", mixed=False), download=False, batch_size=1, max_steps=None)
        options.full_epoch_images = datasets.load_tfds(real, batch_size=1, log=log).spec.train_examples
    wanted = placements(found, options.devices)
    rows = []
    for index, placement in enumerate(wanted, start=1):
        log(
            _(
                "[bench] ({index}/{total}) {kind} {label} ({description}): {kinds} data, "
                "a warm-up and {repeats} measured rounds of {steps} steps"
            ).format(
                index=index,
                total=len(wanted),
                kind=placement.kind,
                label=label_of(placement),
                description=placement.description,
                kinds=_(" and ").join(_(DATA_KINDS[kind]) for kind in kinds),
                repeats=options.repeats,
                steps=options.steps,
            )
        )
        for measured in measure(placement, kinds, options, log):
            rows.append(measured)
            log(
                _("[bench]     -> {data}: {steps:.1f} steps/s, {images:.0f} images/s").format(
                    data=_(DATA_KINDS[measured["data"]]),
                    steps=measured["steps_per_second"],
                    images=measured["images_per_second"],
                )
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
                "cpu_devices",
            )
        },
        "devices": [{"name": d.name, "kind": d.kind, "description": d.description} for d in found],
        "rows": rows,
        "notes": notes,
        "lecture_reference": list(LECTURE_REFERENCE),
    }


def plot_report(report: dict, axes=None):
    """Bar chart of images/s per device and data kind (for notebooks)."""
    import matplotlib.pyplot as plt

    if axes is None:
        _figure, axes = plt.subplots(figsize=(8, 4))
    rows = report["rows"]
    labels = [f"{r['device']}\n{_(DATA_KINDS[r['data']])}" for r in rows]
    colours = ["tab:green" if r["kind"] == "GPU" else "tab:gray" for r in rows]
    axes.bar(labels, [r["images_per_second"] for r in rows], color=colours)
    axes.set_ylabel(_("images per second (higher is better)"))
    axes.set_title(
        _("{dataset}, batch {batch} per device").format(
            dataset=report["settings"]["dataset"], batch=report["settings"]["batch_size"]
        )
    )
    return axes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )

    def add(flag: str, help_text: str, **options) -> None:
        parser.add_argument(flag, help=_(help_text).format(default=options.get("default")), **options)

    add("--steps", N_("steps per measured epoch (default {default})"), type=int, default=50)
    add("--repeats", N_("measured epochs after the warm-up (default {default})"), type=int, default=2)
    add("--batch-size", N_("images per step on each device (default {default})"), type=int, default=128)
    add("--dataset", N_("a TFDS image-classification dataset (default {default})"), default=DEFAULT_DATASET)
    add("--data", N_("real, synthetic or both (default {default})"), default="real,synthetic")
    add("--devices", N_("which devices to measure (default {default})"), choices=("all", "cpu", "gpu"), default="all")
    add("--cpu-devices", N_("split the CPU into N logical devices (default {default})"), type=int, default=1)
    add("--image-size", N_("resize images to N x N (default: the dataset's size, 128 if it varies)"), type=int)
    add("--width", N_("filters in the first convolution block (default {default})"), type=int, default=32)
    add("--mixed-precision", N_("float16 on the GPU rows (the CPU rows stay float32)"), action="store_true")
    add("--xla", N_("compile the train step with XLA (jit_compile)"), action="store_true")
    add("--steps-per-execution", N_("train steps per call into TensorFlow (default {default})"), type=int, default=1)
    add("--data-dir", N_("TFDS data folder (default: $TFDS_DATA_DIR, else ~/tensorflow_datasets)"))
    add("--download", N_("download a missing dataset"), action=argparse.BooleanOptionalAction, default=False)
    add("--threads", N_("TensorFlow CPU threads (default: all cores)"), type=int)
    add("--seed", N_("random seed (default {default})"), type=int, default=42)
    add("--output", N_("folder for bench-<time>.json (default {default})"), type=Path, default=Path("runs"))
    add("--json", N_("write the report here instead"), type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    if options.steps < 1 or options.repeats < 1 or options.cpu_devices < 1:
        print(_("[bench] ERROR: --steps, --repeats and --cpu-devices must be at least 1"), file=sys.stderr)
        return 2

    def log(line: str) -> None:
        print(line, flush=True)

    try:
        report = run_bench(options, log=log)
    except TrainError as error:
        print(_("[bench] ERROR: {message}").format(message=error), file=sys.stderr, flush=True)
        return error.exit_code
    if not report["rows"]:
        print(_("[bench] ERROR: nothing was measured (see the notes above)"), file=sys.stderr)
        return 3
    print()
    print(format_table(report["rows"]))
    print()
    print(
        _("est. s/epoch: one epoch of {images} images at the measured rate.").format(
            images=report["rows"][0]["full_epoch_images"]
        )
    )
    for note in report["notes"]:
        print(_("Note: {note}").format(note=note))
    for line in reference_lines():
        print(line)
    path = options.json or options.output / f"bench-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    runs.write_json_atomically(path, report)
    print()
    print(_("[bench] report: {path}").format(path=path), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
