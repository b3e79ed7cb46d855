"""The benchmark (`python -m labkit bench` starts `python -m labtrain.bench`) end to end on the
CPU, with few steps: one device, and the CPU split into two logical devices for the
several-device row."""

from __future__ import annotations

import json

import pytest
from workload_support import TINY_ARGS, TINY_DATASET, TINY_TRAIN, needs_tensorflow, run_module, script_env

pytestmark = needs_tensorflow

BENCH_ARGS = ["--steps", "5", "--repeats", "1", *TINY_ARGS]


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory, tiny_tfds):
    cwd = tmp_path_factory.mktemp("bench")
    done = run_module(
        "labtrain.bench",
        ["--dataset", TINY_DATASET, "--json", str(cwd / "bench.json"), *BENCH_ARGS],
        env=script_env(tiny_tfds),
        cwd=cwd,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done, json.loads((cwd / "bench.json").read_text())


def test_bench_measures_cpu_with_real_and_synthetic_data(bench_run):
    _, report = bench_run
    assert report["schema"] == "courselab.bench/2"
    assert [(row["device"], row["data"]) for row in report["rows"]] == [("/CPU:0", "real"), ("/CPU:0", "synthetic")]
    for row in report["rows"]:
        assert row["steps"] == 5
        assert row["steps_per_second"] > 0
        assert row["images_per_second"] == pytest.approx(row["steps_per_second"] * 16, rel=0.01)
        assert row["replicas"] == 1
        assert row["all_over_one"] is None
        assert row["variables_on"].endswith("device:CPU:0")
        assert row["full_epoch_images"] == TINY_TRAIN


def test_bench_says_whether_real_data_is_input_bound(bench_run):
    _, report = bench_run
    real, synthetic = report["rows"]
    assert real["real_over_synthetic"] == pytest.approx(real["seconds"] / synthetic["seconds"], rel=0.01)
    assert isinstance(real["input_bound"], bool)
    assert synthetic["input_bound"] is None


def test_bench_has_no_gpu_speedup_without_a_gpu(bench_run):
    done, report = bench_run
    assert all(row["gpu_speedup"] is None for row in report["rows"])
    assert "only the CPU was measured" in done.stdout


def test_bench_prints_a_table_and_the_lecture_reference(bench_run):
    done, _ = bench_run
    header = next(line for line in done.stdout.splitlines() if line.startswith("device"))
    for column in ("steps/s", "images/s", "per device", "ms/step", "GPU/CPU", "all/one", "real/synth", "input-bound"):
        assert column in header
    assert "Lecture reference" in done.stdout
    assert "RX 6700 XT" in done.stdout and "about 14 s per epoch" in done.stdout
    assert "T4" in done.stdout and "about 50 s per epoch" in done.stdout
    assert "hundreds of ms per batch" in done.stdout


def test_bench_table_in_vietnamese_has_whole_headings_over_its_columns(bench_run, monkeypatch):
    from labtrain import bench

    _, report = bench_run
    monkeypatch.setenv("LAB_LANG", "vi")
    header, _ruler, *rows = bench.format_table(report["rows"]).splitlines()

    for heading in ("mỗi thiết bị", "làm nóng (s)", "s/epoch (ước tính)", "tất cả/một", "thật/ngẫu nhiên"):
        assert heading in header
    # Every column is as wide as its heading: the last one starts at the same place on every line.
    last = header.index("chờ dữ liệu")
    assert rows and all(row[last - 1] == " " and row[last:] in ("có", "không", "-") for row in rows), rows


def test_lecture_reference_in_vietnamese_has_no_english_left(monkeypatch):
    import vietnamese
    from labtrain import bench

    monkeypatch.setenv("LAB_LANG", "vi")
    lines = bench.reference_lines()

    assert lines[0].startswith("Số liệu trong bài giảng để tham khảo")
    assert vietnamese.english_lines("\n".join(lines), vietnamese.english_vocabulary()) == []


def test_bench_shows_progress_while_it_runs(bench_run):
    done, _ = bench_run
    assert "[bench] (1/1) CPU /CPU:0" in done.stdout
    for kind in ("real", "synthetic"):
        assert f"/CPU:0 {kind}: warm-up" in done.stdout
        assert f"/CPU:0 {kind}: round 1" in done.stdout
        assert f"-> {kind}:" in done.stdout


def test_bench_without_the_dataset_still_measures_synthetic_data(tmp_path, empty_tfds):
    done = run_module(
        "labtrain.bench",
        ["--json", str(tmp_path / "bench.json"), *BENCH_ARGS],
        env=script_env(empty_tfds),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "bench.json").read_text())
    assert [row["data"] for row in report["rows"]] == ["synthetic"]
    assert any(note.startswith("real data skipped: dataset 'cifar10'") for note in report["notes"])


def test_bench_compares_one_device_with_all_of_them(tmp_path, empty_tfds):
    # No GPUs here: the CPU split into two logical devices stands in for two GPUs, as
    # TensorFlow's own multi-device tests do. The "all" row trains on both at once.
    done = run_module(
        "labtrain.bench",
        ["--json", str(tmp_path / "bench.json"), "--data", "synthetic", "--cpu-devices", "2", *BENCH_ARGS],
        env=script_env(empty_tfds),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "bench.json").read_text())
    one, both = report["rows"]
    assert (one["device"], one["replicas"], one["devices"]) == ("/CPU:0", 1, ["/CPU:0"])
    assert (both["device"], both["replicas"], both["devices"]) == ("all 2 CPU", 2, ["/CPU:0", "/CPU:1"])
    assert both["batch_size"] == 2 * one["batch_size"]
    assert both["images_per_second_per_device"] == pytest.approx(both["images_per_second"] / 2, abs=0.1)
    assert both["all_over_one"] == pytest.approx(both["images_per_second"] / one["images_per_second"], abs=0.01)
    assert "all 2 CPU synthetic: round 1" in done.stdout
