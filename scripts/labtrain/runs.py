"""A run folder: what train.py leaves behind, and what lets it continue after a crash.

    results.json      the run's record (docs/train-results.md), rewritten after every epoch
    backup/           Keras' BackupAndRestore state: weights, optimizer, epoch number
    model.keras       Keras' ModelCheckpoint: the model after the last epoch (keras.models.load_model)
    history.csv       Keras' CSVLogger: loss and accuracy per epoch
    history.png, epoch-times.png   plots, written when a session ends

Resuming is Keras' own BackupAndRestore: model.fit() restores the weights, the optimizer and
the epoch counter from backup/ and continues after the last completed epoch. results.json is
written before the backup at each epoch end, so after a kill between the two it may hold one
epoch more than the backup; opening the run drops that epoch (it is trained again).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import keras
import tensorflow as tf
from labkit.i18n import _

from labtrain import plots
from labtrain.data import Data
from labtrain.devices import Placement, variable_device
from labtrain.errors import TrainError
from labtrain.settings import RUN_IDENTITY, Settings

RESULTS_SCHEMA = "courselab.train-results/2"
RESULTS_NAME = "results.json"
BACKUP_DIR = "backup"
MODEL_NAME = "model.keras"
HISTORY_NAME = "history.csv"
# Keras' BackupAndRestore writes {"epoch": N, "batch": ...} here after each epoch
# (keras/src/callbacks/backup_and_restore.py, _save_model): the epoch fit() resumes from.
BACKUP_METADATA = "training_metadata.json"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_json_atomically(path: Path, data: dict) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(temporary, path)


def backed_up_epochs(run_dir: Path) -> int:
    """How many epochs Keras' backup holds (0 without one): where fit() will resume."""
    try:
        return int(json.loads((run_dir / BACKUP_DIR / BACKUP_METADATA).read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


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
        "steady_images_per_second_per_device": median("images_per_second_per_device"),
        "final_loss": last.get("loss"),
        "final_accuracy": last.get("accuracy"),
        "final_val_accuracy": last.get("val_accuracy"),
    }


def new_results(settings: Settings) -> dict:
    return {
        "schema": RESULTS_SCHEMA,
        "status": "running",
        "run_name": settings.resolved_run_name,
        "created": now_iso(),
        "updated": now_iso(),
        "config": settings.record(),
        "dataset": None,
        "device": None,
        "device_info": None,
        "sessions": [],
        "epochs": [],
        "checkpoint": None,
        "summary": summarize([]),
        "plots": [],
    }


def refuse_other_identity(results: dict, settings: Settings, run_dir: Path) -> None:
    started_with = {key: results.get("config", {}).get(key) for key in RUN_IDENTITY}
    if started_with == settings.identity():
        return
    differences = ", ".join(
        _("{key} {old!r} (now {new!r})").format(key=key, old=started_with[key], new=value)
        for key, value in settings.identity().items()
        if started_with[key] != value
    )
    raise TrainError(
        _(
            "run folder {run_dir} was started with other settings: {differences}. "
            "Use another --run-name, or --fresh to start this one over."
        ).format(run_dir=run_dir, differences=differences)
    )


class Run:
    """One run folder for one session of training."""

    def __init__(self, settings: Settings, results: dict, *, data: Data, placement: Placement, log):
        self.settings, self.results, self.data, self.placement, self.log = settings, results, data, placement, log
        self.dir = settings.run_dir
        self.done = len(results["epochs"])

    @property
    def already_complete(self) -> bool:
        return self.done >= self.settings.epochs

    @property
    def callbacks(self) -> list[keras.callbacks.Callback]:
        """Keras' own callbacks for resuming, the model file and the CSV log, around ours for
        timing and results.json. Order matters at each epoch end: the progress bar finishes its
        line, results.json is written, then the backup (see the module docstring), and the
        epoch's line is printed last, when everything about it is on disk."""
        recorder = EpochRecorder(self)
        return [
            keras.callbacks.ProgbarLogger(),
            recorder,
            Backup(self.dir, log=self.log, delete_checkpoint=False, double_checkpoint=True),
            keras.callbacks.ModelCheckpoint(str(self.dir / MODEL_NAME)),
            keras.callbacks.CSVLogger(str(self.dir / HISTORY_NAME), append=True),
            EpochReport(self),
        ]

    def save(self, status: str | None = None) -> None:
        if status:
            self.results["status"] = status
        self.results["updated"] = now_iso()
        self.results["summary"] = summarize(self.results["epochs"])
        write_json_atomically(self.dir / RESULTS_NAME, self.results)

    def device_info(self, model: keras.Model) -> dict:
        return {
            "kind": self.placement.kind,
            "name": self.placement.name,
            "description": self.placement.description,
            "devices": [device.short for device in self.placement.devices],
            "replicas": self.placement.replicas,
            "strategy": type(self.placement.strategy).__name__,
            "variables_on": variable_device(model),
            "tensorflow": tf.__version__,
            "mixed_precision": self.settings.mixed_precision,
            "xla": self.settings.xla,
        }

    def finish(self, model: keras.Model | None = None) -> dict:
        """After fit(): plots, the status, and the summary printed for the student."""
        if self.already_complete and self.done == len(self.results["epochs"]):
            self.log(
                _("[train] {run_dir} already has {done} of {epochs} epochs; --epochs {more} or more continues").format(
                    run_dir=self.dir, done=self.done, epochs=self.settings.epochs, more=self.done + 1
                )
            )
        self.results["plots"] = plots.write(self.results, self.dir)
        complete = len(self.results["epochs"]) >= self.settings.epochs
        self.save("complete" if complete else "running")
        if self.results["epochs"] and self.results["device_info"]:
            for line in summary_lines(self.results):
                self.log(line)
        return self.results


def open_run(settings: Settings, *, data: Data, placement: Placement, log: Callable[[str], None] = print) -> Run:
    """The run folder for these settings: new, or resumed where Keras' backup left off."""
    run_dir = settings.run_dir
    results_path = run_dir / RESULTS_NAME
    if settings.fresh and run_dir.exists():
        aside = run_dir.with_name(f"{run_dir.name}.old-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
        run_dir.rename(aside)
        log(_("[train] --fresh: the previous run is kept in {aside}").format(aside=aside))
    if results_path.exists():
        try:
            results = json.loads(results_path.read_text())
        except json.JSONDecodeError as error:
            raise TrainError(
                _("{path} is not valid JSON ({error}); use --fresh to start over").format(
                    path=results_path, error=error
                )
            ) from None
        refuse_other_identity(results, settings, run_dir)
        backed_up = backed_up_epochs(run_dir)
        if backed_up < len(results["epochs"]):
            log(
                _(
                    "[train] the backup holds {backed_up} of the {listed} epochs in results.json "
                    "(stopped while saving?): training again from epoch {next}"
                ).format(backed_up=backed_up, listed=len(results["epochs"]), next=backed_up + 1)
            )
            del results["epochs"][backed_up:]
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
        results = new_results(settings)
    # Settings outside the run's identity (batch size, XLA, ...) may change between sessions.
    results["config"].update({k: v for k, v in settings.record().items() if k not in RUN_IDENTITY})
    results["dataset"] = asdict(data.spec)
    run = Run(settings, results, data=data, placement=placement, log=log)
    if not run.already_complete:
        shape = "x".join(map(str, data.spec.image_shape))
        source = (
            _("TFDS ({data_dir})").format(data_dir=data.spec.data_dir)
            if data.spec.source == "tfds"
            else _("synthetic, in memory")
        )
        state = (
            _("resuming after epoch {done} of {epochs}").format(done=run.done, epochs=settings.epochs)
            if run.done
            else _("new run, {epochs} epochs").format(epochs=settings.epochs)
        )
        log(_("[train] run folder {run_dir}: {state}").format(run_dir=run_dir, state=state))
        log(
            _(
                "[train] data: {name}, {source}, {shape}, {classes} classes, {steps} steps of {batch} images per epoch"
            ).format(
                name=data.spec.name,
                source=source,
                shape=shape,
                classes=data.spec.num_classes,
                steps=data.steps_per_epoch,
                batch=data.batch_size,
            )
        )
    run.save("running" if not run.already_complete else None)
    return run


class Backup(keras.callbacks.BackupAndRestore):
    """Keras' BackupAndRestore, with one line instead of a traceback when the backup holds the
    weights of another network (the model was changed since the run was started), or when the
    run was killed while Keras wrote its first backup."""

    def __init__(self, run_dir: Path, *, log: Callable[[str], None] = print, **options):
        super().__init__(str(run_dir / BACKUP_DIR), **options)
        self.run_dir = run_dir
        self.log = log

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except OSError:
            # A torn weights file (h5py: "bad object header version number"), seen when CI's
            # kill landed during the first epoch's save. Keras falls back to its previous copy
            # by itself (double_checkpoint); the first save has none. Nothing is deleted: the
            # torn backup is kept beside the run, and training starts again from epoch 1
            # (open_run has already dropped the epochs this backup does not hold).
            torn = self.run_dir / BACKUP_DIR
            aside = torn.with_name(f"{BACKUP_DIR}.torn-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
            torn.rename(aside)
            self.log(
                _(
                    "[train] the backup in {torn} was cut off while it was being written (the run was "
                    "stopped then); it is kept in {aside}, and training starts again from epoch 1"
                ).format(torn=torn, aside=aside)
            )
            super().on_train_begin(logs)
        except ValueError:
            raise TrainError(
                _(
                    "the run folder {run_dir} holds the weights of another model (was the model changed?). "
                    "Fix: start a new run with another --run-name, or --fresh to start this one over"
                ).format(run_dir=self.run_dir)
            ) from None


class EpochRecorder(keras.callbacks.Callback):
    """Times each epoch (the first one of a session apart) and writes results.json at its end."""

    def __init__(self, run: Run):
        super().__init__()
        self.run = run
        self.first = True

    def on_train_begin(self, logs=None):
        run = self.run
        if run.already_complete:
            return
        info = run.device_info(self.model)
        run.results["device"] = run.placement.name
        run.results["device_info"] = info
        run.results["sessions"].append(
            {
                "session": len(run.results["sessions"]),
                "started": now_iso(),
                "first_epoch": run.done + 1,
                "device_info": info,
                "host": platform.node(),
            }
        )
        run.save("running")
        run.log(device_line(info, batch_size=run.settings.batch_size))

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()
        self.train_done = None

    def on_test_begin(self, logs=None):
        if self.train_done is None:
            self.train_done = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        ended = time.perf_counter()
        run = self.run
        logs = {key: float(value) for key, value in (logs or {}).items()}
        train_seconds = (self.train_done or ended) - self.started
        steps, batch, replicas = run.data.steps_per_epoch, run.data.batch_size, run.placement.replicas
        images_per_second = steps * batch / train_seconds
        record = {
            "epoch": epoch + 1,
            "session": len(run.results["sessions"]) - 1,
            "first_in_session": self.first,
            "seconds": round(ended - self.started, 4),
            "train_seconds": round(train_seconds, 4),
            "steps": steps,
            "batch_size": batch,
            "replicas": replicas,
            "steps_per_second": round(steps / train_seconds, 3),
            "images_per_second": round(images_per_second, 1),
            "images_per_second_per_device": round(images_per_second / replicas, 1),
            "loss": logs.get("loss"),
            "accuracy": logs.get("accuracy"),
            "val_loss": logs.get("val_loss"),
            "val_accuracy": logs.get("val_accuracy"),
        }
        self.first = False
        run.results["epochs"].append(record)
        run.results["checkpoint"] = MODEL_NAME
        run.save()


class EpochReport(keras.callbacks.Callback):
    """The epoch's line, printed after every callback before it saved the epoch: a run
    stopped after this line resumes after this epoch."""

    def __init__(self, run: Run):
        super().__init__()
        self.run = run

    def on_epoch_end(self, epoch, logs=None):
        self.run.log(epoch_line(self.run.results["epochs"][-1], self.run.settings.epochs))


def device_line(info: dict, *, batch_size: int) -> str:
    line = _(
        "[train] device: {kind} {name} ({description}); weights on {placed}; TensorFlow {version}; "
        "mixed precision {mixed}; XLA {xla}"
    ).format(
        kind=info["kind"],
        name=",".join(f"/{device}" for device in info["devices"]),
        description=info["description"],
        placed=info["variables_on"] or "?",
        version=info["tensorflow"],
        mixed=_("on") if info["mixed_precision"] else _("off"),
        xla=_("on") if info["xla"] else _("off"),
    )
    if info["replicas"] > 1:
        line += "\n" + _(
            "[train] {replicas} devices with {strategy}: each trains on {batch} images per step, "
            "{total} in all (the global batch)"
        ).format(
            replicas=info["replicas"], strategy=info["strategy"], batch=batch_size, total=batch_size * info["replicas"]
        )
    return line


def epoch_line(record: dict, total: int) -> str:
    metrics = _("loss {loss:.4f}, accuracy {accuracy:.3f}").format(loss=record["loss"], accuracy=record["accuracy"])
    if record.get("val_accuracy") is not None:
        metrics += _(", val_accuracy {value:.3f}").format(value=record["val_accuracy"])
    speed = _("{steps:.1f} steps/s, {images:.0f} images/s").format(
        steps=record["steps_per_second"], images=record["images_per_second"]
    )
    if record["replicas"] > 1:
        speed += _(" ({per_device:.0f} per device)").format(per_device=record["images_per_second_per_device"])
    note = _("  (first epoch of this session: tracing, compilation, cache fill)") if record["first_in_session"] else ""
    return _("[train] epoch {epoch}/{total}: {seconds:.2f} s, {speed}, {metrics}{note}").format(
        epoch=record["epoch"], total=total, seconds=record["seconds"], speed=speed, metrics=metrics, note=note
    )


def summary_lines(results: dict) -> list[str]:
    summary = results["summary"]
    lines = [
        _("[train] first epoch: {seconds:.2f} s (includes tracing, compilation, cache fill)").format(
            seconds=summary["first_epoch_seconds"]
        )
    ]
    if summary["steady_epoch_seconds"] is not None:
        lines.append(
            _(
                "[train] steady state (median of {count} epochs): {seconds:.2f} s/epoch, "
                "{steps:.1f} steps/s, {images:.0f} images/s"
            ).format(
                count=summary["steady_epochs"],
                seconds=summary["steady_epoch_seconds"],
                steps=summary["steady_steps_per_second"],
                images=summary["steady_images_per_second"],
            )
        )
    else:
        lines.append(_("[train] steady state: needs a second epoch in one session (--epochs 2 or more)"))
    device = results["device_info"]
    if device["replicas"] > 1:
        per_device = (
            summary["steady_images_per_second_per_device"] or results["epochs"][-1]["images_per_second_per_device"]
        )
        lines.append(
            _("[train] per device: {images:.0f} images/s on each of {count} devices ({names})").format(
                images=per_device, count=device["replicas"], names=", ".join(device["devices"])
            )
        )
    lines.append(
        _("[train] ran on {kind} {name} ({description})").format(
            kind=device["kind"], name=",".join(f"/{d}" for d in device["devices"]), description=device["description"]
        )
    )
    lines.append(
        _("[train] results: {path}").format(path=Path(results["config"]["output"]) / results["run_name"] / RESULTS_NAME)
    )
    return lines
