"""A hand-written validator for train.py's results.json, following docs/train-results.md.

validate(document) returns a list of problems, empty when the document is valid: readable in
a failing assert, and no jsonschema dependency.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable

SCHEMA = "courselab.train-results/2"

Check = Callable[[object], bool]
DEVICE_NAME = re.compile(r"(CPU|GPU):\d+")


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_str(value: object) -> bool:
    return isinstance(value, str)


def is_bool(value: object) -> bool:
    return isinstance(value, bool)


def nullable(check: Check) -> Check:
    return lambda value: value is None or check(value)


def one_of(*allowed: object) -> Check:
    return lambda value: value in allowed


def list_of(check: Check) -> Check:
    return lambda value: isinstance(value, list) and all(check(item) for item in value)


TOP = {
    "schema": one_of(SCHEMA),
    "status": one_of("running", "complete"),
    "run_name": is_str,
    "created": is_str,
    "updated": is_str,
    "config": lambda value: isinstance(value, dict),
    "dataset": lambda value: value is None or isinstance(value, dict),
    "device": nullable(lambda value: is_str(value) and all(DEVICE_NAME.fullmatch(part) for part in value.split(","))),
    "device_info": lambda value: value is None or isinstance(value, dict),
    "sessions": lambda value: isinstance(value, list),
    "epochs": lambda value: isinstance(value, list),
    "checkpoint": nullable(is_str),
    "summary": lambda value: isinstance(value, dict),
    "plots": list_of(is_str),
}
CONFIG = {
    "dataset": is_str,
    "output": is_str,
    "run_name": is_str,
    "fresh": is_bool,
    "epochs": is_int,
    "batch_size": is_int,
    "learning_rate": is_number,
    "max_steps": nullable(is_int),
    "steps_per_execution": is_int,
    "mixed_precision": is_bool,
    "xla": is_bool,
    "synthetic": is_bool,
    "synthetic_examples": is_int,
    "image_size": nullable(is_int),
    "width": is_int,
    "device": is_str,
    "cpu_devices": is_int,
    "data_dir": nullable(is_str),
    "download": is_bool,
    "cache": is_bool,
    "threads": nullable(is_int),
    "seed": is_int,
}
DATASET = {
    "name": is_str,
    "source": one_of("tfds", "synthetic"),
    "image_shape": lambda value: isinstance(value, list) and len(value) == 3 and all(is_int(v) for v in value),
    "num_classes": is_int,
    "train_examples": is_int,
    "validation_examples": nullable(is_int),
    "validation_split": nullable(is_str),
    "data_dir": nullable(is_str),
}
DEVICE = {
    "kind": one_of("CPU", "GPU"),
    "name": is_str,
    "description": is_str,
    "devices": lambda value: list_of(is_str)(value) and len(value) >= 1,
    "replicas": is_int,
    "strategy": one_of("OneDeviceStrategy", "MirroredStrategy"),
    "variables_on": is_str,
    "tensorflow": is_str,
    "mixed_precision": is_bool,
    "xla": is_bool,
}
SESSION = {
    "session": is_int,
    "started": is_str,
    "first_epoch": is_int,
    "device_info": lambda v: isinstance(v, dict),
    "host": is_str,
}
EPOCH = {
    "epoch": is_int,
    "session": is_int,
    "first_in_session": is_bool,
    "seconds": is_number,
    "train_seconds": is_number,
    "steps": is_int,
    "batch_size": is_int,
    "replicas": is_int,
    "steps_per_second": is_number,
    "images_per_second": is_number,
    "images_per_second_per_device": is_number,
    "loss": is_number,
    "accuracy": is_number,
    "val_loss": nullable(is_number),
    "val_accuracy": nullable(is_number),
}
SUMMARY = {
    "epochs_completed": is_int,
    "first_epoch_seconds": nullable(is_number),
    "steady_epochs": is_int,
    "steady_epoch_seconds": nullable(is_number),
    "steady_steps_per_second": nullable(is_number),
    "steady_images_per_second": nullable(is_number),
    "steady_images_per_second_per_device": nullable(is_number),
    "final_loss": nullable(is_number),
    "final_accuracy": nullable(is_number),
    "final_val_accuracy": nullable(is_number),
}


def check_object(value: object, spec: dict[str, Check], where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: expected an object, got {type(value).__name__}"]
    problems = [f"{where}.{key}: missing" for key in spec if key not in value]
    problems += [f"{where}.{key}: unexpected key" for key in value if key not in spec]
    problems += [
        f"{where}.{key}: invalid value {value[key]!r}"
        for key, check in spec.items()
        if key in value and not check(value[key])
    ]
    return problems


def validate(document: object) -> list[str]:
    problems = check_object(document, TOP, "results")
    if problems:
        return problems
    problems += check_object(document["config"], CONFIG, "config")
    if document["dataset"] is not None:
        problems += check_object(document["dataset"], DATASET, "dataset")
    if document["device_info"] is not None:
        problems += check_object(document["device_info"], DEVICE, "device_info")
    for index, session in enumerate(document["sessions"]):
        problems += check_object(session, SESSION, f"sessions[{index}]")
        if isinstance(session, dict) and isinstance(session.get("device_info"), dict):
            problems += check_object(session["device_info"], DEVICE, f"sessions[{index}].device_info")
    for index, epoch in enumerate(document["epochs"]):
        problems += check_object(epoch, EPOCH, f"epochs[{index}]")
    problems += check_object(document["summary"], SUMMARY, "summary")
    if problems:
        return problems
    # Cross-field rules the page states.
    numbers_seen = [epoch["epoch"] for epoch in document["epochs"]]
    if numbers_seen != list(range(1, len(numbers_seen) + 1)):
        problems.append(f"epochs: numbered {numbers_seen}, expected 1..{len(numbers_seen)} without gaps")
    sessions = document["sessions"]
    if [session["session"] for session in sessions] != list(range(len(sessions))):
        problems.append("sessions: not numbered 0, 1, ...")
    for epoch in document["epochs"]:
        if not 0 <= epoch["session"] < len(sessions):
            problems.append(f"epochs[{epoch['epoch'] - 1}].session: no session {epoch['session']}")
    if document["summary"]["epochs_completed"] != len(document["epochs"]):
        problems.append("summary.epochs_completed: differs from the number of epochs")
    if document["status"] == "complete" and len(document["epochs"]) < document["config"]["epochs"]:
        problems.append("status: complete with fewer epochs than config.epochs")
    if document["epochs"] and document["checkpoint"] is None:
        problems.append("checkpoint: null although epochs completed")
    info = document["device_info"]
    if info is not None and (
        info["replicas"] != len(info["devices"]) or document["device"] != ",".join(info["devices"])
    ):
        problems.append("device_info: replicas, devices and device disagree")
    for epoch in document["epochs"]:
        expected = round(epoch["images_per_second"] / epoch["replicas"], 1)
        if abs(epoch["images_per_second_per_device"] - expected) > 0.11:
            problems.append(
                f"epochs[{epoch['epoch'] - 1}].images_per_second_per_device: not images_per_second / replicas"
            )
    return problems
