"""`scripts/lab verify` for real, on the CPU flavour and the real engine: it starts the lab,
runs the gate, the benchmark and the first notebook, leaves the lab stopped as it found it,
and writes a record with no token, user name or folder in it. What a GPU adds (the gate
passing on a GPU, GPU rows in the benchmark) only a real card can show."""

from __future__ import annotations

import json
import platform

from clicheckout import checkout_fixture  # noqa: F401 - the fixture `checkout`
from labhost import hardware_table


def test_verify_runs_every_step_on_the_cpu_lab_and_writes_a_redacted_record(checkout, tmp_path):
    student = checkout()
    record_path = tmp_path / "record.json"

    # Few benchmark steps: this proves the steps run and the record is right, not a speed.
    result = student.lab("verify", "-o", str(record_path), "--bench-steps", "2", timeout=900)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "verify: pass (cpu)" in result.stdout
    assert student.containers() == []  # stopped again: it was not running before
    record = json.loads(record_path.read_text())
    steps = record["steps"]
    assert record["result"] == "pass"
    assert record["flavour"] == "cpu"
    assert steps["up"]["exit_code"] == 0
    assert steps["gate"]["exit_code"] == 0
    assert steps["gate"]["status"] == "cpu"
    assert steps["gate"]["tensorflow"]
    assert steps["benchmark"]["exit_code"] == 0
    assert steps["benchmark"]["settings"]["steps"] == 2
    assert [row["kind"] for row in steps["benchmark"]["rows"]] == ["CPU"]
    assert steps["benchmark"]["rows"][0]["images_per_second"] > 0
    assert steps["notebook"]["exit_code"] == 0
    assert steps["notebook"]["errors"] == []
    assert steps["notebook"]["cells_run"] == steps["notebook"]["code_cells"] > 0
    assert "TensorFlow" in steps["notebook"]["printed"]

    text = record_path.read_text()
    assert student.token not in text
    assert str(student.root) not in text
    assert "course lab" not in text  # the checkout's folder name
    assert "bài tập" not in text  # the work folder's name
    assert platform.node() not in text
    assert record["host"]["kernel"] == platform.release()

    # The table a maintainer regenerates lists it.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / record_path.name).write_text(text)
    table = hardware_table.table(docs)
    assert "| CPU only | cpu |" in table
