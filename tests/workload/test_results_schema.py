"""The results.json validator catches what docs/train-results.md forbids, and the page
documents every key the validator knows (pure Python, no TensorFlow)."""

from __future__ import annotations

import copy
import re

import pytest
import results_schema
from results_schema import validate
from workload_support import REPO

DEVICE = {
    "kind": "GPU",
    "name": "/GPU:0",
    "description": "AMD Radeon RX 6700 XT",
    "devices": ["GPU:0"],
    "replicas": 1,
    "strategy": "OneDeviceStrategy",
    "variables_on": "/job:localhost/replica:0/task:0/device:GPU:0",
    "tensorflow": "2.18.1",
    "mixed_precision": False,
    "xla": False,
}


def epoch(number: int, session: int, first: bool) -> dict:
    return {
        "epoch": number,
        "session": session,
        "first_in_session": first,
        "seconds": 14.2,
        "train_seconds": 13.1,
        "steps": 390,
        "batch_size": 128,
        "replicas": 1,
        "steps_per_second": 29.8,
        "images_per_second": 3811.0,
        "images_per_second_per_device": 3811.0,
        "loss": 1.2,
        "accuracy": 0.55,
        "val_loss": 1.3,
        "val_accuracy": 0.52,
    }


VALID = {
    "schema": "courselab.train-results/2",
    "status": "complete",
    "run_name": "cifar10",
    "created": "2026-01-01T00:00:00+00:00",
    "updated": "2026-01-01T00:01:00+00:00",
    "config": {
        "dataset": "cifar10",
        "output": "/home/lab/work/runs",
        "run_name": "cifar10",
        "fresh": False,
        "epochs": 3,
        "batch_size": 128,
        "learning_rate": 0.001,
        "max_steps": None,
        "steps_per_execution": 1,
        "mixed_precision": False,
        "xla": False,
        "synthetic": False,
        "synthetic_examples": 50000,
        "image_size": None,
        "width": 32,
        "device": "auto",
        "cpu_devices": 1,
        "data_dir": None,
        "download": True,
        "cache": True,
        "threads": None,
        "seed": 42,
    },
    "dataset": {
        "name": "cifar10",
        "source": "tfds",
        "image_shape": [32, 32, 3],
        "num_classes": 10,
        "train_examples": 50000,
        "validation_examples": 10000,
        "validation_split": "test",
        "data_dir": "/cache/tensorflow_datasets",
    },
    "device": "GPU:0",
    "device_info": DEVICE,
    "sessions": [
        {"session": 0, "started": "2026-01-01T00:00:00+00:00", "first_epoch": 1, "device_info": DEVICE, "host": "pc"},
        {"session": 1, "started": "2026-01-01T00:00:30+00:00", "first_epoch": 3, "device_info": DEVICE, "host": "pc"},
    ],
    "epochs": [epoch(1, 0, True), epoch(2, 0, False), epoch(3, 1, True)],
    "checkpoint": "model.keras",
    "summary": {
        "epochs_completed": 3,
        "first_epoch_seconds": 20.0,
        "steady_epochs": 1,
        "steady_epoch_seconds": 14.2,
        "steady_steps_per_second": 29.8,
        "steady_images_per_second": 3811.0,
        "steady_images_per_second_per_device": 3811.0,
        "final_loss": 1.2,
        "final_accuracy": 0.55,
        "final_val_accuracy": 0.52,
    },
    "plots": ["history.png", "epoch-times.png"],
}


def broken(change) -> dict:
    document = copy.deepcopy(VALID)
    change(document)
    return document


def test_a_complete_document_is_valid():
    assert validate(VALID) == []


BROKEN = {
    "missing_key": (lambda d: d.pop("summary"), "results.summary: missing"),
    "unknown_schema": (lambda d: d.update(schema="courselab.train-results/1"), "results.schema: invalid"),
    "unknown_status": (lambda d: d.update(status="done"), "results.status: invalid"),
    "unexpected_key": (lambda d: d.update(extra=1), "results.extra: unexpected key"),
    "string_number": (lambda d: d["epochs"][0].update(seconds="14"), "epochs[0].seconds: invalid"),
    "bool_as_int": (lambda d: d["epochs"][0].update(steps=True), "epochs[0].steps: invalid"),
    "epoch_gap": (lambda d: d["epochs"][2].update(epoch=4), "epochs: numbered [1, 2, 4]"),
    "bad_shape": (lambda d: d["dataset"].update(image_shape=[32, 32]), "dataset.image_shape: invalid"),
    "bad_device_kind": (lambda d: d["device_info"].update(kind="TPU"), "device_info.kind: invalid"),
    "bad_device": (lambda d: d.update(device="/device:GPU:0"), "results.device: invalid"),
    "complete_too_early": (lambda d: d["config"].update(epochs=5), "status: complete with fewer epochs"),
    "count_mismatch": (lambda d: d["summary"].update(epochs_completed=2), "summary.epochs_completed"),
    "no_checkpoint": (lambda d: d.update(checkpoint=None), "checkpoint: null"),
    "replicas_without_devices": (
        lambda d: d["device_info"].update(replicas=2),
        "device_info: replicas, devices and device disagree",
    ),
    "per_device_not_divided": (
        lambda d: d["epochs"][0].update(replicas=2),
        "epochs[0].images_per_second_per_device: not images_per_second / replicas",
    ),
    "unknown_session": (lambda d: d["epochs"][2].update(session=5), "no session 5"),
}


@pytest.mark.parametrize("change, expected", BROKEN.values(), ids=BROKEN.keys())
def test_validator_rejects(change, expected):
    problems = validate(broken(change))
    assert any(expected in problem for problem in problems), problems


def test_documentation_names_every_key_the_validator_checks():
    page = (REPO / "docs" / "train-results.md").read_text()
    documented = set(re.findall(r"`([a-z_]+)`", page))
    specs = [
        results_schema.TOP,
        results_schema.CONFIG,
        results_schema.DATASET,
        results_schema.DEVICE,
        results_schema.SESSION,
        results_schema.EPOCH,
        results_schema.SUMMARY,
    ]
    undocumented = {key for spec in specs for key in spec} - documented
    assert not undocumented, f"docs/train-results.md does not mention {sorted(undocumented)}"
