"""A run killed with SIGKILL after an epoch resumes from its last completed epoch.

Each scenario has its own fixture and its own copy of the run folder, so the tests pass in any
order (`./scripts/test tests/workload/test_resume.py -p random_order --random-order`): one
killed run is made once per module and never touched again; every scenario copies it (or the
resumed copy) before it trains.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from results_schema import validate
from workload_support import LAB, TINY_ARGS, needs_tensorflow, run_script, script_env

pytestmark = needs_tensorflow

EPOCHS = 4
RUN = "killed"
# About a second per steady epoch on one CPU thread: the kill lands long before the end.
ARGS = ["--synthetic", "--synthetic-examples", str(16 * 600), "--run-name", RUN, *TINY_ARGS]


@dataclass(frozen=True)
class RunCopy:
    output: Path  # the --output folder holding RUN
    env: dict

    @property
    def results(self) -> dict:
        return json.loads((self.output / RUN / "results.json").read_text())

    def train(self, *extra: str, epochs: int = EPOCHS):
        return run_script(
            "train.py",
            ["--output", str(self.output), "--epochs", str(epochs), *ARGS, *extra],
            env=self.env,
            cwd=self.output,
        )


def copy_of(source: RunCopy, destination: Path) -> RunCopy:
    shutil.copytree(source.output, destination)
    return RunCopy(destination, source.env)


def start_and_kill_after_first_epoch(output: Path, env: dict) -> str:
    process = subprocess.Popen(
        [sys.executable, str(LAB / "train.py"), "--output", str(output), "--epochs", str(EPOCHS), *ARGS],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    deadline = time.monotonic() + 120
    try:
        for line in process.stdout:
            seen.append(line)
            # Printed once the epoch's results.json, backup, model and CSV row are written.
            if line.startswith("[train] epoch 1/"):
                os.kill(process.pid, signal.SIGKILL)
                break
            assert time.monotonic() < deadline, "no epoch completed in 120 s:\n" + "".join(seen[-20:])
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "".join(seen[-20:])
    return "".join(seen)


@pytest.fixture(scope="module")
def killed(tmp_path_factory, empty_tfds) -> RunCopy:
    """The run as SIGKILL left it. Read-only: scenarios that train work on copies."""
    output = tmp_path_factory.mktemp("killed") / "runs"
    output.mkdir()
    env = script_env(empty_tfds)
    start_and_kill_after_first_epoch(output, env)
    return RunCopy(output, env)


@pytest.fixture(scope="module")
def resumed(killed, tmp_path_factory):
    """A copy of the killed run, started again with the same command. Read-only afterwards."""
    run = copy_of(killed, tmp_path_factory.mktemp("resumed") / "runs")
    done = run.train()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return run, done


def test_killed_run_leaves_valid_results_marked_running(killed):
    after_kill = killed.results
    assert validate(after_kill) == []
    assert after_kill["status"] == "running"
    assert 1 <= len(after_kill["epochs"]) < EPOCHS


def test_killed_run_backup_holds_the_epochs_results_list(killed):
    metadata = json.loads((killed.output / RUN / "backup" / "training_metadata.json").read_text())
    assert metadata["epoch"] == len(killed.results["epochs"])


def test_resumed_run_continues_the_epoch_count(killed, resumed):
    run, done = resumed
    completed = len(killed.results["epochs"])
    final = run.results
    assert f"resuming after epoch {completed} of {EPOCHS}" in done.stdout
    assert f"[train] epoch {completed + 1}/{EPOCHS}" in done.stdout
    assert "[train] epoch 1/" not in done.stdout
    assert [epoch["epoch"] for epoch in final["epochs"]] == list(range(1, EPOCHS + 1))
    assert final["sessions"][1]["first_epoch"] == completed + 1


def test_resumed_run_starts_from_the_trained_weights(killed, resumed):
    # Loss keeps falling from where the killed run stopped instead of starting over.
    run, _ = resumed
    completed = len(killed.results["epochs"])
    first_loss = killed.results["epochs"][0]["loss"]
    assert run.results["epochs"][completed]["loss"] < first_loss


def test_resumed_session_reports_its_own_first_epoch(killed, resumed):
    run, _ = resumed
    completed = len(killed.results["epochs"])
    final = run.results
    firsts = [epoch["epoch"] for epoch in final["epochs"] if epoch["first_in_session"]]
    assert firsts == [1, completed + 1]
    assert {epoch["session"] for epoch in final["epochs"][completed:]} == {1}


def test_resumed_results_are_complete_and_valid(resumed):
    run, _ = resumed
    final = run.results
    assert validate(final) == []
    assert final["status"] == "complete"
    assert final["checkpoint"] == "model.keras"
    assert len((run.output / RUN / "history.csv").read_text().splitlines()) == EPOCHS + 1


def test_finished_run_started_again_trains_nothing_and_says_how_to_continue(resumed, tmp_path):
    run = copy_of(resumed[0], tmp_path / "runs")
    again = run.train()
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"already has {EPOCHS} of {EPOCHS} epochs; --epochs {EPOCHS + 1} or more continues" in again.stdout
    assert [epoch["epoch"] for epoch in run.results["epochs"]] == list(range(1, EPOCHS + 1))


def test_more_epochs_train_a_finished_run_further(resumed, tmp_path):
    run = copy_of(resumed[0], tmp_path / "runs")
    more = run.train("--max-steps", "10", epochs=EPOCHS + 1)
    assert more.returncode == 0, more.stderr[-3000:]
    final = run.results
    assert [epoch["epoch"] for epoch in final["epochs"]] == list(range(1, EPOCHS + 2))
    assert validate(final) == []


def test_resume_with_other_settings_is_refused(killed, tmp_path):
    run = copy_of(killed, tmp_path / "runs")
    before = (run.output / RUN / "results.json").read_bytes()
    args = [arg if arg != "4" else "6" for arg in ARGS]  # --width 4 -> 6: another model
    refused = run_script("train.py", ["--output", str(run.output), "--epochs", "9", *args], env=run.env, cwd=run.output)
    assert refused.returncode == 2
    assert "was started with other settings: width 4 (now 6)" in refused.stderr
    assert (run.output / RUN / "results.json").read_bytes() == before


def test_results_ahead_of_the_backup_are_trained_again(killed, tmp_path):
    # A kill between writing results.json and the backup leaves results one epoch ahead.
    run = copy_of(killed, tmp_path / "runs")
    metadata = run.output / RUN / "backup" / "training_metadata.json"
    backed_up = json.loads(metadata.read_text())["epoch"]
    metadata.write_text(json.dumps({"epoch": backed_up - 1, "batch": 0}))
    again = run.train()
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"the backup holds {backed_up - 1} of the {backed_up} epochs" in again.stdout
    assert [epoch["epoch"] for epoch in run.results["epochs"]] == list(range(1, EPOCHS + 1))
    assert validate(run.results) == []


def test_a_backup_torn_by_the_kill_is_kept_and_training_starts_again(killed, tmp_path):
    # CI's kill once landed while Keras wrote the first epoch's backup: a torn weights file and
    # no metadata, with no earlier copy for Keras to fall back on; the resume then crashed in
    # h5py ("bad object header version number"). Torn here the same way: half the file.
    run = copy_of(killed, tmp_path / "runs")
    backup = run.output / RUN / "backup"
    for name in os.listdir(backup):
        if name != "latest.weights.h5":
            (backup / name).unlink()
    weights = backup / "latest.weights.h5"
    torn = weights.read_bytes()[: weights.stat().st_size // 2]
    weights.write_bytes(torn)
    again = run.train()
    assert again.returncode == 0, again.stderr[-3000:]
    assert "was cut off while it was being written" in again.stdout
    assert [epoch["epoch"] for epoch in run.results["epochs"]] == list(range(1, EPOCHS + 1))
    assert run.results["sessions"][-1]["first_epoch"] == 1
    (kept,) = (run.output / RUN).glob("backup.torn-*")  # kept, never deleted
    assert (kept / "latest.weights.h5").read_bytes() == torn
