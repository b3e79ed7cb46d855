"""train.py in a host venv: synthetic epochs through the entrypoint's own command line, a tiny
real dataset read through tfds.load, and the one-line errors students see."""

from __future__ import annotations

import json
import sys

import pytest
from labkit.entrypoint import Paths, train_command
from results_schema import validate
from workload_support import (
    TINY_ARGS,
    TINY_DATASET,
    TINY_TEST,
    TINY_TRAIN,
    make_work,
    needs_tensorflow,
    png_size,
    run_script,
    script_env,
)

pytestmark = needs_tensorflow


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory, empty_tfds):
    """Two short synthetic epochs, started with exactly the command the container runs."""
    work = make_work(tmp_path_factory.mktemp("synthetic"))
    paths = Paths(work=work, course_source=work / "course", state=work / "state")
    extra = ["--synthetic", "--epochs", "2", "--max-steps", "5", *TINY_ARGS]
    command = train_command(python=sys.executable, paths=paths, args=extra)
    import subprocess

    done = subprocess.run(command, env=script_env(empty_tfds), cwd=work, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done, paths.runs / "cifar10-synthetic"


@pytest.fixture(scope="module")
def tfds_run(tmp_path_factory, tiny_tfds):
    cwd = tmp_path_factory.mktemp("tfds-run")
    done = run_script(
        "train.py",
        ["--output", str(cwd / "runs"), "--dataset", TINY_DATASET, "--epochs", "3", "--no-download", *TINY_ARGS],
        env=script_env(tiny_tfds),
        cwd=cwd,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done, json.loads((cwd / "runs" / TINY_DATASET / "results.json").read_text())


def test_synthetic_run_states_the_device_it_ran_on(synthetic_run):
    done, run_dir = synthetic_run
    results = json.loads((run_dir / "results.json").read_text())
    assert "[train] device: CPU /CPU:0" in done.stdout
    assert results["device"] == "CPU:0"
    assert results["device_info"]["kind"] == "CPU"
    assert results["device_info"]["variables_on"].endswith("device:CPU:0")


def test_synthetic_run_reports_first_epoch_apart_from_steady_state(synthetic_run):
    done, run_dir = synthetic_run
    results = json.loads((run_dir / "results.json").read_text())
    assert [epoch["first_in_session"] for epoch in results["epochs"]] == [True, False]
    assert results["summary"]["steady_epochs"] == 1
    assert results["summary"]["steady_steps_per_second"] == results["epochs"][1]["steps_per_second"]
    assert "[train] first epoch:" in done.stdout
    assert "[train] steady state (median of 1 epochs)" in done.stdout


def test_synthetic_run_uses_in_memory_data_of_the_dataset_shape(synthetic_run):
    _, run_dir = synthetic_run
    dataset = json.loads((run_dir / "results.json").read_text())["dataset"]
    assert dataset["source"] == "synthetic"
    assert dataset["image_shape"] == [8, 8, 3]
    assert dataset["num_classes"] == 10  # CIFAR-10's, known without its files


def test_results_json_matches_the_documented_schema(synthetic_run, tfds_run):
    _, run_dir = synthetic_run
    assert validate(json.loads((run_dir / "results.json").read_text())) == []
    assert validate(tfds_run[1]) == []


def test_plots_are_real_png_images_of_sensible_size(synthetic_run):
    _, run_dir = synthetic_run
    results = json.loads((run_dir / "results.json").read_text())
    assert results["plots"] == ["history.png", "epoch-times.png"]
    for name in results["plots"]:
        width, height = png_size(run_dir / name)
        assert 400 <= width <= 3000, (name, width)
        assert 200 <= height <= 2000, (name, height)


def test_run_folder_has_keras_own_checkpoint_backup_and_csv_log(synthetic_run):
    _, run_dir = synthetic_run
    results = json.loads((run_dir / "results.json").read_text())
    assert results["checkpoint"] == "model.keras"
    assert (run_dir / "model.keras").stat().st_size > 10_000
    # BackupAndRestore's own record of where a restart resumes.
    assert json.loads((run_dir / "backup" / "training_metadata.json").read_text())["epoch"] == 2
    rows = (run_dir / "history.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,") and len(rows) == 3


def test_saved_model_loads_and_predicts(synthetic_run):
    import keras
    import numpy as np

    _, run_dir = synthetic_run
    model = keras.models.load_model(run_dir / "model.keras")
    probabilities = model.predict(np.zeros((2, 8, 8, 3), dtype="float32"), verbose=0)
    assert probabilities.shape == (2, 10)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3)


def test_keras_progress_bar_is_kept(synthetic_run):
    done, _ = synthetic_run
    assert "Epoch 1/2" in done.stdout
    assert "5/5" in done.stdout


def test_real_dataset_is_read_through_tfds(tfds_run):
    done, results = tfds_run
    assert results["dataset"]["source"] == "tfds"
    assert results["dataset"]["train_examples"] == TINY_TRAIN
    assert results["dataset"]["validation_examples"] == TINY_TEST
    assert results["dataset"]["num_classes"] == 2
    assert f"data: {TINY_DATASET}, TFDS (" in done.stdout


def test_real_dataset_labels_are_learned(tfds_run):
    # Dark vs bright images: only the real labels make accuracy this high.
    _, results = tfds_run
    assert results["summary"]["final_accuracy"] > 0.9
    assert all(epoch["val_accuracy"] is not None for epoch in results["epochs"])


def test_missing_dataset_offline_is_one_clear_line_and_exit_3(tmp_path, empty_tfds):
    done = run_script(
        "train.py",
        ["--output", str(tmp_path), "--no-download", "--epochs", "1"],
        env=script_env(empty_tfds),
        cwd=tmp_path,
    )
    errors = [line for line in done.stderr.splitlines() if line.startswith("[train] ERROR")]
    assert done.returncode == 3
    assert len(errors) == 1
    assert "not available offline" in errors[0]
    assert "course/docs/datasets.md" in errors[0]
    assert "docker compose run --rm lab prepare --dataset cifar10" in errors[0]
    assert "Traceback" not in done.stderr


def test_unknown_dataset_is_one_clear_line(tmp_path, empty_tfds):
    done = run_script(
        "train.py",
        ["--output", str(tmp_path), "--dataset", "no_such_dataset_xyz"],
        env=script_env(empty_tfds),
        cwd=tmp_path,
    )
    assert done.returncode == 3
    assert "unknown to TensorFlow Datasets" in done.stderr
    assert "Traceback" not in done.stderr


def test_mixed_precision_is_refused_on_the_cpu(tmp_path, empty_tfds):
    done = run_script(
        "train.py",
        ["--output", str(tmp_path), "--synthetic", "--mixed-precision"],
        env=script_env(empty_tfds),
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "--mixed-precision needs a GPU" in done.stderr
    assert not (tmp_path / "cifar10-synthetic").exists()
