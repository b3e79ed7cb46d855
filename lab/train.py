"""The course's training script: a small Keras CNN on a TensorFlow Datasets image dataset.

    python train.py                          CIFAR-10, 10 epochs, on the first GPU (or the CPU)
    python train.py --epochs 3 --max-steps 50  a quick look
    python train.py --synthetic              in-memory data of the same shape, no dataset needed
    python train.py --dataset tf_flowers --image-size 128
    python train.py --prepare-only           download and prepare the dataset, then stop

Why CIFAR-10 by default: a 160 MB download that a whole class can fetch (or an instructor can
pre-seed once), 50,000 training images that fit in memory as a tf.data cache, and 32x32 images,
so one epoch takes seconds on a consumer GPU and minutes on a CPU: the GPU/CPU difference the
course is about, without waiting an hour. Any TFDS image-classification dataset works with
--dataset (images are resized to --image-size).

A run lives in OUTPUT/RUN_NAME (the run name defaults to the dataset's name). Each completed
epoch writes a checkpoint and results.json there; starting the same command again resumes after
the last completed epoch, and --epochs N trains a finished run further. --fresh starts over
(the old run folder is renamed, never deleted). results.json is described in
docs/train-results.md; the first epoch of every session is reported apart from the steady
state, because it also pays for tracing, kernel compilation and filling the data cache.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path

from labkit.local_env import load_env

load_env()  # outside Docker: the lab's .env, as compose reads it, before TensorFlow starts

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

RESULTS_SCHEMA = "courselab.train-results/1"
RESULTS_NAME = "results.json"
PLOT_NAMES = ("history.png", "epoch-times.png")
DATASETS_DOC = "docs/datasets.md"
DEFAULT_DATASET = "cifar10"
DEFAULT_SYNTHETIC_EXAMPLES = 50_000  # CIFAR-10's training split
SHUFFLE_BUFFER = 10_000
ONLINE_PROBE = ("storage.googleapis.com", 443)
# Settings that define what a run's checkpoint is: a resumed run must keep them.
RUN_IDENTITY = ("dataset", "synthetic", "image_size", "width")


class TrainError(Exception):
    """A problem the student can fix; main() prints it as one line and exits non-zero."""

    exit_code = 2


class DatasetUnavailable(TrainError):
    exit_code = 3


@dataclass(frozen=True)
class Config:
    dataset: str = DEFAULT_DATASET
    output: Path = Path("runs")
    run_name: str | None = None  # default: the dataset's name (+ "-synthetic")
    fresh: bool = False
    epochs: int = 10
    batch_size: int = 128
    max_steps: int | None = None  # cap on training steps per epoch
    steps_per_execution: int = 1
    mixed_precision: bool = False
    xla: bool = False
    synthetic: bool = False
    synthetic_examples: int = DEFAULT_SYNTHETIC_EXAMPLES
    image_size: int | None = None  # default: the dataset's own size (128 when it varies)
    width: int = 32  # filters in the first convolution block
    device: str = "auto"  # auto, cpu, gpu, gpu:N
    data_dir: str | None = None  # default: TFDS_DATA_DIR, else ~/tensorflow_datasets
    download: bool = True
    cache: bool = True
    threads: int | None = None
    seed: int = 42

    @property
    def resolved_run_name(self) -> str:
        return self.run_name or (f"{self.dataset}-synthetic" if self.synthetic else self.dataset)

    @property
    def run_dir(self) -> Path:
        return Path(self.output) / self.resolved_run_name


@dataclass(frozen=True)
class DataSpec:
    name: str
    source: str  # "tfds" or "synthetic"
    image_shape: tuple[int, int, int]
    num_classes: int
    train_examples: int
    validation_examples: int | None
    validation_split: str | None
    data_dir: str | None


@dataclass
class Data:
    spec: DataSpec
    train: tf.data.Dataset  # batched, repeats forever: fit() gets steps_per_epoch
    validation: tf.data.Dataset | None
    steps_per_epoch: int
    validation_steps: int | None


@dataclass(frozen=True)
class Device:
    name: str  # what tf.device() gets: "/CPU:0", "/GPU:0"
    kind: str  # "CPU" or "GPU"
    description: str  # e.g. "AMD Radeon RX 6700 XT (compute capability / gfx target)"


@dataclass
class RunResult:
    run_dir: Path
    results: dict
    already_complete: bool = False
    lines: list[str] = field(default_factory=list)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_data_dir(config: Config) -> str:
    return config.data_dir or os.environ.get("TFDS_DATA_DIR") or str(Path.home() / "tensorflow_datasets")


# --- devices -----------------------------------------------------------------------------


def cpu_description() -> str:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    return f"{model}, {os.cpu_count()} logical cores"


def host_name() -> str:
    return platform.node()


def list_devices() -> list[Device]:
    """The CPU, then every GPU TensorFlow can use, with the names the driver reports."""
    found = [Device("/CPU:0", "CPU", cpu_description())]
    for index, gpu in enumerate(tf.config.list_physical_devices("GPU")):
        try:
            details = tf.config.experimental.get_device_details(gpu)
        except (ValueError, RuntimeError):
            details = {}
        description = details.get("device_name") or gpu.name
        if details.get("compute_capability"):
            major, minor = details["compute_capability"]
            description += f" (compute capability {major}.{minor})"
        found.append(Device(f"/GPU:{index}", "GPU", description))
    return found


def pick_device(requested: str, devices: list[Device]) -> Device:
    gpus = [device for device in devices if device.kind == "GPU"]
    requested = requested.lower()
    if requested == "auto":
        return gpus[0] if gpus else devices[0]
    if requested == "cpu":
        return devices[0]
    if requested.startswith("gpu"):
        index = int(requested.partition(":")[2] or 0)
        if index < len(gpus):
            return gpus[index]
        seen = f"{len(gpus)} GPU(s)" if gpus else "no GPU"
        raise TrainError(
            f"--device {requested}: TensorFlow sees {seen}. "
            "Run 01-check-gpu.ipynb (or `docker compose run --rm lab check`) to see why."
        )
    raise TrainError(f"--device {requested!r}: use auto, cpu, gpu or gpu:N")


def check_mixed_precision(enabled: bool, device: Device) -> None:
    """Mixed precision only pays on GPUs with fast float16 units; on a CPU it is slower."""
    if enabled and device.kind != "GPU":
        raise TrainError(
            "--mixed-precision needs a GPU: on the CPU float16 math is emulated and slower. "
            "Leave the flag off on this machine."
        )


def variable_device(model: keras.Model) -> str:
    """Where the model's weights actually live, e.g. '/job:localhost/.../device:GPU:0'."""
    variable = model.trainable_variables[0]
    inner = getattr(variable, "value", variable)
    return str(getattr(inner, "device", "") or getattr(variable, "device", ""))


# --- data ----------------------------------------------------------------------------------


def _feature_keys(info) -> tuple[str, str]:
    if info.supervised_keys and len(info.supervised_keys) == 2:
        image_key, label_key = info.supervised_keys
        if isinstance(image_key, str) and isinstance(label_key, str):
            return image_key, label_key
    import tensorflow_datasets as tfds

    image_key = next((k for k, f in info.features.items() if isinstance(f, tfds.features.Image)), None)
    label_key = next((k for k, f in info.features.items() if isinstance(f, tfds.features.ClassLabel)), None)
    if image_key is None or label_key is None:
        raise TrainError(f"dataset {info.name!r} is not image classification (needs an Image and a ClassLabel)")
    return image_key, label_key


def _unavailable_message(name: str, data_dir: str, why: str) -> str:
    return (
        f"dataset {name!r} is not available offline in {data_dir} ({why}). "
        f"An instructor pre-seeds the cache volume once: see {DATASETS_DOC} "
        f"(online: `docker compose run --rm train --prepare-only --dataset {name}`); "
        "or train on in-memory data with --synthetic."
    )


def tfds_builder(config: Config):
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(config.dataset, data_dir=config.data_dir)
    except Exception as error:  # DatasetNotFoundError and friends: many lines of names
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DatasetUnavailable(
            f"dataset {config.dataset!r} is unknown to TensorFlow Datasets and not found in "
            f"{default_data_dir(config)} ({first}). Names: https://www.tensorflow.org/datasets/catalog ; "
            f"pre-seeding a cache: {DATASETS_DOC}"
        ) from None


def online(timeout: float = 5.0) -> bool:
    """Can this machine reach Google's storage, where TFDS fetches most datasets? Checked
    first because, offline, TFDS retries every download for minutes before giving up."""
    import socket

    try:
        socket.create_connection(ONLINE_PROBE, timeout=timeout).close()
    except OSError:
        return False
    return True


def prepare_dataset(config: Config, log: Callable[[str], None] = print):
    """The builder of a dataset that is ready to read, downloading it first if allowed."""
    builder = tfds_builder(config)
    if builder.is_prepared():
        return builder
    data_dir = default_data_dir(config)
    if not config.download:
        raise DatasetUnavailable(_unavailable_message(config.dataset, data_dir, "not prepared, --no-download"))
    if not online():
        raise DatasetUnavailable(
            _unavailable_message(config.dataset, data_dir, f"no network: {ONLINE_PROBE[0]} unreachable")
        )
    log(f"[train] downloading and preparing {config.dataset!r} into {data_dir} (once; later runs reuse it)")
    try:
        builder.download_and_prepare()
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise DatasetUnavailable(_unavailable_message(config.dataset, data_dir, f"download failed: {first}")) from None
    return builder


def _split_names(info) -> tuple[str, str | None]:
    splits = list(info.splits.keys())
    if "train" not in splits:
        raise TrainError(f"dataset {info.name!r} has no 'train' split (it has {splits})")
    validation = next((name for name in ("test", "validation") if name in splits), None)
    return "train", validation


def _resize_to_uint8(image, size: int):
    if image.shape[0] != size or image.shape[1] != size:
        image = tf.image.resize(image, (size, size))
        image = tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)
    return image


def _augment_and_normalize(images, labels, *, training: bool):
    """Runs on whole batches (vectorized, as the tf.data guide advises): cheap per image."""
    images = tf.cast(images, tf.float32) / 255.0
    if training:
        flip = tf.random.uniform((tf.shape(images)[0], 1, 1, 1)) < 0.5
        images = tf.where(flip, tf.image.flip_left_right(images), images)
    return images, labels


def make_pipeline(
    examples: tf.data.Dataset,
    *,
    batch_size: int,
    training: bool,
    cache: bool = True,
    limit: int | None = None,
    shuffle_buffer: int = SHUFFLE_BUFFER,
    seed: int | None = None,
) -> tf.data.Dataset:
    """(uint8 image, label) examples -> the batches fit() reads, per TensorFlow's tf.data
    performance guide: deterministic work before the cache, random work after it, whole
    batches mapped in parallel, and prefetch last so the accelerator never waits on Python."""
    if limit is not None:
        examples = examples.take(limit)
    if cache:
        examples = examples.cache()  # epoch 1 decodes and resizes; later epochs read memory
    if training:
        examples = examples.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True).repeat()
    batches = examples.batch(batch_size, drop_remainder=training)
    batches = batches.map(
        lambda x, y: _augment_and_normalize(x, y, training=training), num_parallel_calls=tf.data.AUTOTUNE
    )
    return batches.prefetch(tf.data.AUTOTUNE)


def _steps(examples: int, batch_size: int, max_steps: int | None) -> int:
    steps = examples // batch_size
    if max_steps is not None:
        steps = min(steps, max_steps)
    if steps < 1:
        raise TrainError(f"{examples} training images make no full batch of {batch_size}: lower --batch-size")
    return steps


def load_tfds(config: Config, log: Callable[[str], None] = print) -> Data:
    """A real dataset through tfds.load, from the local cache (TFDS_DATA_DIR)."""
    import tensorflow_datasets as tfds

    builder = prepare_dataset(config, log)
    info = builder.info
    image_key, label_key = _feature_keys(info)
    image_feature = info.features[image_key]
    height, width, channels = image_feature.shape
    if config.image_size is None and (height is None or width is None or height != width):
        size = 128
    else:
        size = config.image_size or height
    channels = channels or 3
    num_classes = info.features[label_key].num_classes
    train_split, validation_split = _split_names(info)
    spec = DataSpec(
        name=config.dataset,
        source="tfds",
        image_shape=(size, size, channels),
        num_classes=num_classes,
        train_examples=info.splits[train_split].num_examples,
        validation_examples=info.splits[validation_split].num_examples if validation_split else None,
        validation_split=validation_split,
        data_dir=default_data_dir(config),
    )
    steps = _steps(spec.train_examples, config.batch_size, config.max_steps)

    def read(split: str) -> tf.data.Dataset:
        examples = tfds.load(
            config.dataset, split=split, data_dir=config.data_dir, download=False, shuffle_files=split == train_split
        )
        return examples.map(
            lambda ex: (_resize_to_uint8(ex[image_key], size), ex[label_key]), num_parallel_calls=tf.data.AUTOTUNE
        )

    limit = steps * config.batch_size if config.max_steps is not None else None
    train = make_pipeline(
        read(train_split),
        batch_size=config.batch_size,
        training=True,
        cache=config.cache,
        limit=limit,
        seed=config.seed,
    )
    validation = validation_steps = None
    if validation_split:
        validation_steps = math.ceil(spec.validation_examples / config.batch_size)
        if config.max_steps is not None:
            validation_steps = min(validation_steps, config.max_steps)
        validation = make_pipeline(
            read(validation_split),
            batch_size=config.batch_size,
            training=False,
            cache=config.cache,
            limit=validation_steps * config.batch_size,
        )
    return Data(spec, train, validation, steps, validation_steps)


def synthetic_spec(config: Config) -> tuple[tuple[int, int, int], int]:
    """The shape and class count of the named dataset, known without its files where TFDS
    has the dataset's code; 32x32x3 and 10 classes otherwise."""
    shape, classes = (32, 32, 3), 10
    try:
        import tensorflow_datasets as tfds

        info = tfds.builder(config.dataset, data_dir=config.data_dir).info
        image_key, label_key = _feature_keys(info)
        height, width, channels = info.features[image_key].shape
        side = height if height and height == width else 128
        shape, classes = (side, side, channels or 3), info.features[label_key].num_classes
    except Exception:  # noqa: S110 -- unknown name: synthetic data still works
        pass
    if config.image_size:
        shape = (config.image_size, config.image_size, shape[2])
    return shape, classes


def load_synthetic(config: Config) -> Data:
    """Random images already in memory, one batch repeated: no decoding, no disk, so this is
    as fast as data can reach the model. Real data at about the same speed means the input
    pipeline keeps up."""
    shape, classes = synthetic_spec(config)
    generator = tf.random.Generator.from_seed(config.seed)
    images = tf.cast(generator.uniform((config.batch_size, *shape), maxval=256, dtype=tf.int32), tf.uint8)
    labels = generator.uniform((config.batch_size,), maxval=classes, dtype=tf.int32)
    batch = _augment_and_normalize(images, labels, training=False)
    spec = DataSpec(
        name=config.dataset,
        source="synthetic",
        image_shape=shape,
        num_classes=classes,
        train_examples=config.synthetic_examples,
        validation_examples=None,
        validation_split=None,
        data_dir=None,
    )
    steps = _steps(config.synthetic_examples, config.batch_size, config.max_steps)
    train = tf.data.Dataset.from_tensors(batch).repeat().prefetch(tf.data.AUTOTUNE)
    return Data(spec, train, None, steps, None)


def load_data(config: Config, log: Callable[[str], None] = print) -> Data:
    return load_synthetic(config) if config.synthetic else load_tfds(config, log)


def dataset_available(name: str = DEFAULT_DATASET, data_dir: str | None = None) -> bool:
    """True when the dataset can be read without a download (for notebooks)."""
    try:
        return tfds_builder(Config(dataset=name, data_dir=data_dir)).is_prepared()
    except TrainError:
        return False


# --- model ---------------------------------------------------------------------------------


def build_model(spec: DataSpec, *, width: int = 32, mixed_precision: bool = False) -> keras.Model:
    """Three blocks of two 3x3 convolutions with batch norm (VGG-style, small enough for a
    CPU, big enough that a GPU matters). Under mixed precision the last layer stays float32
    so the softmax and the loss keep their precision."""
    policy = "mixed_float16" if mixed_precision else "float32"
    inputs = keras.Input(spec.image_shape)
    x = inputs
    for block in range(3):
        for _ in range(2):
            x = keras.layers.Conv2D(width * 2**block, 3, padding="same", use_bias=False, dtype=policy)(x)
            x = keras.layers.BatchNormalization(dtype=policy)(x)
            x = keras.layers.Activation("relu", dtype=policy)(x)
        x = keras.layers.MaxPooling2D(dtype=policy)(x) if x.shape[1] >= 2 else x
    x = keras.layers.GlobalAveragePooling2D(dtype=policy)(x)
    x = keras.layers.Dropout(0.2, dtype=policy)(x)
    outputs = keras.layers.Dense(spec.num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="course_cnn")


def compile_model(model: keras.Model, config: Config, optimizer=None) -> keras.Model:
    model.compile(
        optimizer=optimizer or keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
        jit_compile=config.xla,
        steps_per_execution=config.steps_per_execution,
    )
    return model


# --- timing, checkpoints, results ---------------------------------------------------------


class EpochRecorder(keras.callbacks.Callback):
    """Times each epoch, then saves the checkpoint and results.json before the next begins,
    so a run killed at any moment resumes from its last completed epoch."""

    def __init__(self, run: Run, *, steps: int, batch_size: int, session: int, log: Callable[[str], None]):
        super().__init__()
        self.run, self.steps, self.batch_size, self.session, self.log = run, steps, batch_size, session, log
        self.first = True
        self.progress_every = 15.0

    def on_epoch_begin(self, epoch, logs=None):
        self.started = self.last_print = time.perf_counter()
        self.train_done = None

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if now - self.last_print >= self.progress_every:
            self.last_print = now
            self.log(f"[train]   epoch {self.epoch_number}: step {batch + 1}/{self.steps}, {now - self.started:.0f} s")

    def on_test_begin(self, logs=None):
        if self.train_done is None:
            self.train_done = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        ended = time.perf_counter()
        logs = {key: float(value) for key, value in (logs or {}).items()}
        train_seconds = (self.train_done or ended) - self.started
        record = {
            "epoch": epoch + 1,
            "session": self.session,
            "first_in_session": self.first,
            "seconds": round(ended - self.started, 4),
            "train_seconds": round(train_seconds, 4),
            "steps": self.steps,
            "steps_per_second": round(self.steps / train_seconds, 3),
            "images_per_second": round(self.steps * self.batch_size / train_seconds, 1),
            "loss": logs.get("loss"),
            "accuracy": logs.get("accuracy"),
            "val_loss": logs.get("val_loss"),
            "val_accuracy": logs.get("val_accuracy"),
        }
        self.first = False
        self.run.complete_epoch(self.model, record)
        self.log(epoch_line(record, self.run.results["config"]["epochs"]))

    @property
    def epoch_number(self) -> int:
        return len(self.run.results["epochs"]) + 1


def epoch_line(record: dict, total: int) -> str:
    metrics = f"loss {record['loss']:.4f}, accuracy {record['accuracy']:.3f}"
    if record.get("val_accuracy") is not None:
        metrics += f", val_accuracy {record['val_accuracy']:.3f}"
    note = "  (first epoch of this session: tracing, compilation, cache fill)" if record["first_in_session"] else ""
    return (
        f"[train] epoch {record['epoch']}/{total}: {record['seconds']:.2f} s, "
        f"{record['steps_per_second']:.1f} steps/s, {record['images_per_second']:.0f} images/s, {metrics}{note}"
    )


def summarize(epochs: list[dict]) -> dict:
    """First epoch vs steady state: epochs that were not the first of their session."""
    steady = [record for record in epochs if not record["first_in_session"]]
    last = epochs[-1] if epochs else {}

    def median(key: str) -> float | None:
        return round(statistics.median(record[key] for record in steady), 4) if steady else None

    return {
        "epochs_completed": len(epochs),
        "first_epoch_seconds": epochs[0]["seconds"] if epochs else None,
        "steady_epochs": len(steady),
        "steady_epoch_seconds": median("seconds"),
        "steady_steps_per_second": median("steps_per_second"),
        "steady_images_per_second": median("images_per_second"),
        "final_loss": last.get("loss"),
        "final_accuracy": last.get("accuracy"),
        "final_val_accuracy": last.get("val_accuracy"),
    }


def write_json_atomically(path: Path, data: dict) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(temporary, path)


class Run:
    """A run folder: results.json (the state) and checkpoints/epoch-NNNN.keras."""

    def __init__(self, run_dir: Path, results: dict):
        self.dir = run_dir
        self.results = results

    @property
    def checkpoint(self) -> Path | None:
        name = self.results.get("checkpoint")
        return self.dir / name if name else None

    def complete_epoch(self, model: keras.Model, record: dict) -> None:
        # Order matters for a kill at any instant: the new checkpoint file is complete
        # before results.json names it, and the old one goes only after that.
        checkpoints = self.dir / "checkpoints"
        checkpoints.mkdir(exist_ok=True)
        name = f"epoch-{record['epoch']:04d}.keras"
        partial = checkpoints / f"partial-{name}"
        model.save(partial)
        os.replace(partial, checkpoints / name)
        previous = self.checkpoint
        self.results["epochs"].append(record)
        self.results["checkpoint"] = f"checkpoints/{name}"
        self.save()
        if previous and previous.name != name:
            previous.unlink(missing_ok=True)

    def save(self, status: str | None = None) -> None:
        if status:
            self.results["status"] = status
        self.results["updated"] = now_iso()
        self.results["summary"] = summarize(self.results["epochs"])
        write_json_atomically(self.dir / RESULTS_NAME, self.results)


def identity(config: Config) -> dict:
    return {key: getattr(config, key) for key in RUN_IDENTITY}


def config_record(config: Config) -> dict:
    record = asdict(config)
    record["output"] = str(config.output)
    record["run_name"] = config.resolved_run_name
    return record


def open_run(config: Config, log: Callable[[str], None] = print) -> tuple[Run, bool]:
    """The run folder for this config: (run, resumed). Refuses to resume a run that was
    started with different identity settings, since its checkpoint would not fit."""
    run_dir = config.run_dir
    results_path = run_dir / RESULTS_NAME
    if config.fresh and run_dir.exists():
        aside = run_dir.with_name(f"{run_dir.name}.old-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
        run_dir.rename(aside)
        log(f"[train] --fresh: the previous run is kept in {aside}")
    if results_path.exists():
        try:
            results = json.loads(results_path.read_text())
        except json.JSONDecodeError as error:
            raise TrainError(f"{results_path} is not valid JSON ({error}); use --fresh to start over") from None
        started_with = {key: results.get("config", {}).get(key) for key in RUN_IDENTITY}
        if started_with != identity(config):
            differences = ", ".join(
                f"{key} {started_with[key]!r} (now {value!r})"
                for key, value in identity(config).items()
                if started_with[key] != value
            )
            raise TrainError(
                f"run folder {run_dir} was started with other settings: {differences}. "
                "Use another --run-name, or --fresh to start this one over."
            )
        return Run(run_dir, results), bool(results.get("epochs"))
    run_dir.mkdir(parents=True, exist_ok=True)
    results = {
        "schema": RESULTS_SCHEMA,
        "status": "running",
        "run_name": config.resolved_run_name,
        "created": now_iso(),
        "updated": now_iso(),
        "config": config_record(config),
        "dataset": None,
        "device": None,
        "device_info": None,
        "sessions": [],
        "epochs": [],
        "checkpoint": None,
        "summary": summarize([]),
        "plots": [],
    }
    return Run(run_dir, results), False


# --- plots ---------------------------------------------------------------------------------


def write_plots(results: dict, run_dir: Path) -> list[str]:
    """history.png (loss and accuracy per epoch) and epoch-times.png (first epochs apart)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = results["epochs"]
    numbers = [record["epoch"] for record in epochs]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    for axes, key, label in ((loss_axes, "loss", "loss"), (accuracy_axes, "accuracy", "accuracy")):
        axes.plot(numbers, [record[key] for record in epochs], marker="o", label=f"training {label}")
        validated = [record for record in epochs if record[f"val_{key}"] is not None]
        if validated:
            axes.plot(
                [record["epoch"] for record in validated],
                [record[f"val_{key}"] for record in validated],
                marker="s",
                label=f"validation {label}",
            )
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(f"{results['run_name']} on {results.get('device') or '?'}")
    figure.tight_layout()
    figure.savefig(run_dir / PLOT_NAMES[0])
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(8, 4), dpi=100)
    colours = ["tab:orange" if record["first_in_session"] else "tab:blue" for record in epochs]
    axes.bar(numbers, [record["seconds"] for record in epochs], color=colours)
    steady = results["summary"].get("steady_epoch_seconds")
    if steady:
        axes.axhline(steady, color="tab:gray", linestyle="--", label=f"steady state: {steady:.2f} s")
        axes.legend()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("epoch (orange: first of a session: tracing, compilation, cache fill)")
    axes.set_ylabel("seconds")
    axes.set_title("Epoch wall time")
    figure.tight_layout()
    figure.savefig(run_dir / PLOT_NAMES[1])
    plt.close(figure)
    return list(PLOT_NAMES)


# --- the run -------------------------------------------------------------------------------


@contextlib.contextmanager
def precision_policy(mixed: bool):
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def train(config: Config, *, log: Callable[[str], None] = print) -> RunResult:
    """Train (or resume) the run that `config` names; returns its folder and results."""
    if config.epochs < 1 or config.batch_size < 1 or config.steps_per_execution < 1:
        raise TrainError("--epochs, --batch-size and --steps-per-execution must be at least 1")
    device = pick_device(config.device, list_devices())
    check_mixed_precision(config.mixed_precision, device)
    run, resumed = open_run(config, log)
    done = len(run.results["epochs"])
    # Settings outside the run's identity (batch size, XLA, ...) may change between sessions.
    run.results["config"].update({k: v for k, v in config_record(config).items() if k not in RUN_IDENTITY})
    if done >= config.epochs:
        log(f"[train] {run.dir} already has {done} of {config.epochs} epochs; --epochs {done + 1} or more continues")
        run.results["plots"] = write_plots(run.results, run.dir)
        run.save("complete")
        return RunResult(run.dir, run.results, already_complete=True)

    keras.utils.set_random_seed(config.seed + done)
    data = load_data(config, log)
    run.results["dataset"] = asdict(data.spec)
    session = len(run.results["sessions"])
    log(
        f"[train] run folder {run.dir}: "
        + (f"resuming after epoch {done} of {config.epochs}" if resumed else f"new run, {config.epochs} epochs")
    )
    shape = "x".join(map(str, data.spec.image_shape))
    source = f"TFDS ({data.spec.data_dir})" if data.spec.source == "tfds" else "synthetic, in memory"
    log(
        f"[train] data: {data.spec.name}, {source}, {shape}, {data.spec.num_classes} classes, "
        f"{data.steps_per_epoch} steps of {config.batch_size} per epoch"
    )
    with tf.device(device.name), precision_policy(config.mixed_precision):
        if resumed and run.checkpoint and run.checkpoint.exists():
            model = keras.models.load_model(run.checkpoint)
            compile_model(model, config, optimizer=model.optimizer)
        else:
            if resumed:
                raise TrainError(f"{run.dir} lists {done} epochs but its checkpoint is missing; use --fresh")
            model = compile_model(
                build_model(data.spec, width=config.width, mixed_precision=config.mixed_precision), config
            )
        placed = variable_device(model)
        ran_on = {
            "kind": device.kind,
            "name": device.name,
            "description": device.description,
            "variables_on": placed,
            "tensorflow": tf.__version__,
            "mixed_precision": config.mixed_precision,
            "xla": config.xla,
        }
        run.results["device"] = device.name.lstrip("/")
        run.results["device_info"] = ran_on
        run.results["sessions"].append(
            {
                "session": session,
                "started": now_iso(),
                "first_epoch": done + 1,
                "device_info": ran_on,
                "host": host_name(),
            }
        )
        run.save("running")
        log(
            f"[train] device: {device.kind} {device.name} ({device.description}); weights on {placed or '?'}; "
            f"TensorFlow {tf.__version__}; mixed precision {'on' if config.mixed_precision else 'off'}; "
            f"XLA {'on' if config.xla else 'off'}"
        )
        recorder = EpochRecorder(
            run, steps=data.steps_per_epoch, batch_size=config.batch_size, session=session, log=log
        )
        model.fit(
            data.train,
            epochs=config.epochs,
            initial_epoch=done,
            steps_per_epoch=data.steps_per_epoch,
            validation_data=data.validation,
            validation_steps=data.validation_steps,
            callbacks=[recorder],
            shuffle=False,  # the pipeline shuffles
            verbose=0,
        )
    run.results["plots"] = write_plots(run.results, run.dir)
    run.save("complete")
    result = RunResult(run.dir, run.results)
    result.lines = summary_lines(run.results)
    for line in result.lines:
        log(line)
    return result


def summary_lines(results: dict) -> list[str]:
    summary = results["summary"]
    lines = [f"[train] first epoch: {summary['first_epoch_seconds']:.2f} s (includes tracing, compilation, cache fill)"]
    if summary["steady_epoch_seconds"] is not None:
        lines.append(
            f"[train] steady state (median of {summary['steady_epochs']} epochs): "
            f"{summary['steady_epoch_seconds']:.2f} s/epoch, "
            f"{summary['steady_steps_per_second']:.1f} steps/s, {summary['steady_images_per_second']:.0f} images/s"
        )
    else:
        lines.append("[train] steady state: needs a second epoch in one session (--epochs 2 or more)")
    device = results["device_info"]
    lines.append(f"[train] ran on {device['kind']} {device['name']} ({device['description']})")
    lines.append(f"[train] results: {Path(results['config']['output']) / results['run_name'] / RESULTS_NAME}")
    return lines


# --- command line --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--dataset", default=DEFAULT_DATASET, help="a TFDS image-classification dataset (default %(default)s)")
    add("--output", type=Path, default=Path("runs"), help="folder that holds run folders (default %(default)s)")
    add("--run-name", help="run folder name inside --output (default: the dataset's name); same name = resume")
    add("--fresh", action="store_true", help="start the run over (the old folder is renamed, not deleted)")
    add("--epochs", type=int, default=10, help="total epochs of the run, resumed ones included (default %(default)s)")
    add("--batch-size", type=int, default=128, help="(default %(default)s)")
    add("--max-steps", type=int, help="at most this many training steps per epoch (uses the first N batches)")
    add("--steps-per-execution", type=int, default=1, help="train steps per call into TensorFlow (default 1)")
    add("--mixed-precision", action="store_true", help="float16 compute with float32 weights (GPU only)")
    add("--xla", action="store_true", help="compile the train step with XLA (jit_compile)")
    add("--synthetic", action="store_true", help="in-memory random data of the same shape: no dataset needed")
    add("--synthetic-examples", type=int, default=DEFAULT_SYNTHETIC_EXAMPLES, help="images per synthetic epoch")
    add("--image-size", type=int, help="resize images to N x N (default: the dataset's size, 128 if it varies)")
    add("--width", type=int, default=32, help="filters in the first convolution block (default %(default)s)")
    add("--device", default="auto", help="auto (first GPU, else CPU), cpu, gpu or gpu:N")
    add("--data-dir", help="TFDS data folder (default: $TFDS_DATA_DIR, else ~/tensorflow_datasets)")
    add("--download", action=argparse.BooleanOptionalAction, default=True, help="download a missing dataset")
    add("--cache", action=argparse.BooleanOptionalAction, default=True, help="keep decoded images in memory")
    add("--threads", type=int, help="TensorFlow CPU threads (default: all cores)")
    add("--seed", type=int, default=42)
    add("--prepare-only", action="store_true", help="download and prepare the dataset into the cache, then exit")
    return parser


def parse_args(argv: list[str] | None = None) -> tuple[Config, argparse.Namespace]:
    namespace = build_parser().parse_args(argv)
    names = {item.name for item in fields(Config)}
    config = Config(**{key: value for key, value in vars(namespace).items() if key in names})
    return config, namespace


def set_threads(threads: int | None) -> None:
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def out_of_memory_message(config: Config) -> str:
    """What a student reads when the device ran out of memory mid-training."""
    smaller = max(1, config.batch_size // 2)
    return (
        f"the device ran out of memory at --batch-size {config.batch_size}. Fix: run the same command with "
        f"--batch-size {smaller} (the run resumes after its last completed epoch); keep "
        "TF_FORCE_GPU_ALLOW_GROWTH=true in .env and close other programs that use the GPU "
        "(a desktop on the same GPU takes memory too)"
    )


def main(argv: list[str] | None = None) -> int:
    config, namespace = parse_args(argv)
    set_threads(config.threads)
    try:
        if namespace.prepare_only:
            builder = prepare_dataset(replace(config, download=True))
            print(f"[train] {config.dataset!r} is ready in {builder.data_dir}", flush=True)
            return 0
        train(config, log=lambda line: print(line, flush=True))
    except TrainError as error:
        print(f"[train] ERROR: {error}", file=sys.stderr, flush=True)
        return error.exit_code
    except tf.errors.ResourceExhaustedError:
        # TensorFlow's own text is pages of allocator statistics; one line says what to change.
        print(f"[train] ERROR: {out_of_memory_message(config)}", file=sys.stderr, flush=True)
        return 4
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
