"""Training on several devices at once (tf.distribute.MirroredStrategy): `--device all`.

No machine here has two GPUs, so the CPU is split into two logical devices (TensorFlow's
tf.config.set_logical_device_configuration, which its own distribution tests use). The same
code path mirrors over GPUs; only real GPUs can show the speedup.
"""

from __future__ import annotations

import json

import pytest
from results_schema import validate
from workload_support import TINY_ARGS, needs_tensorflow, run_script, script_env

pytestmark = needs_tensorflow


@pytest.fixture(scope="module")
def mirrored_run(tmp_path_factory, empty_tfds):
    output = tmp_path_factory.mktemp("mirrored")
    args = ["--synthetic", "--epochs", "2", "--max-steps", "5", "--device", "all", "--cpu-devices", "2", *TINY_ARGS]
    done = run_script("train.py", ["--output", str(output), *args], env=script_env(empty_tfds), cwd=output)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done, json.loads((output / "cifar10-synthetic" / "results.json").read_text())


def test_mirrored_run_trains_on_every_device(mirrored_run):
    _, results = mirrored_run
    info = results["device_info"]
    assert validate(results) == []
    assert info["strategy"] == "MirroredStrategy"
    assert info["devices"] == ["CPU:0", "CPU:1"]
    assert info["replicas"] == 2
    assert results["device"] == "CPU:0,CPU:1"


def test_global_batch_is_the_batch_size_times_the_devices(mirrored_run):
    done, results = mirrored_run
    assert {epoch["batch_size"] for epoch in results["epochs"]} == {2 * 16}
    assert "each trains on 16 images per step, 32 in all (the global batch)" in done.stdout


def test_per_device_throughput_is_reported(mirrored_run):
    done, results = mirrored_run
    for epoch in results["epochs"]:
        assert epoch["replicas"] == 2
        assert epoch["images_per_second_per_device"] == pytest.approx(epoch["images_per_second"] / 2, abs=0.1)
    steady = results["summary"]["steady_images_per_second_per_device"]
    assert steady == pytest.approx(results["summary"]["steady_images_per_second"] / 2, abs=0.1)
    assert f"[train] per device: {steady:.0f} images/s on each of 2 devices (CPU:0, CPU:1)" in done.stdout
    assert "per device)" in done.stdout  # each epoch's line too


def test_one_device_is_the_default(tmp_path, empty_tfds):
    args = ["--synthetic", "--epochs", "1", "--max-steps", "2", "--cpu-devices", "2", *TINY_ARGS]
    done = run_script("train.py", ["--output", str(tmp_path), *args], env=script_env(empty_tfds), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    info = json.loads((tmp_path / "cifar10-synthetic" / "results.json").read_text())["device_info"]
    assert (info["strategy"], info["replicas"], info["devices"]) == ("OneDeviceStrategy", 1, ["CPU:0"])


def test_a_gpu_that_is_not_there_is_one_line(tmp_path, empty_tfds):
    args = ["--synthetic", "--device", "gpu:1", *TINY_ARGS]
    done = run_script("train.py", ["--output", str(tmp_path), *args], env=script_env(empty_tfds), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("[train] ERROR: --device gpu:1: TensorFlow sees no GPU")
    assert "Traceback" not in done.stderr
