"""A run killed with SIGKILL after an epoch resumes from its last completed epoch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from results_schema import validate
from workload_support import LAB, TINY_ARGS, needs_tensorflow, run_script, script_env

pytestmark = needs_tensorflow

EPOCHS = 4
# About a second per steady epoch on one CPU thread: the kill lands long before the end.
ARGS = ["--synthetic", "--synthetic-examples", str(16 * 600), "--run-name", "killed", *TINY_ARGS]


def start_and_kill_after_first_epoch(output, env) -> str:
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
def killed_then_resumed(tmp_path_factory, empty_tfds):
    output = tmp_path_factory.mktemp("resume")
    env = script_env(empty_tfds)
    first_output = start_and_kill_after_first_epoch(output, env)
    after_kill = json.loads((output / "killed" / "results.json").read_text())
    resumed = run_script("train.py", ["--output", str(output), "--epochs", str(EPOCHS), *ARGS], env=env, cwd=output)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-3000:]
    final = json.loads((output / "killed" / "results.json").read_text())
    return {
        "output": output,
        "env": env,
        "first": first_output,
        "after_kill": after_kill,
        "resumed": resumed,
        "final": final,
    }


def test_killed_run_leaves_valid_results_marked_running(killed_then_resumed):
    after_kill = killed_then_resumed["after_kill"]
    assert validate(after_kill) == []
    assert after_kill["status"] == "running"
    assert 1 <= len(after_kill["epochs"]) < EPOCHS


def test_resumed_run_continues_the_epoch_count(killed_then_resumed):
    completed = len(killed_then_resumed["after_kill"]["epochs"])
    final = killed_then_resumed["final"]
    assert f"resuming after epoch {completed} of {EPOCHS}" in killed_then_resumed["resumed"].stdout
    assert f"[train] epoch {completed + 1}/{EPOCHS}" in killed_then_resumed["resumed"].stdout
    assert "[train] epoch 1/" not in killed_then_resumed["resumed"].stdout
    assert [epoch["epoch"] for epoch in final["epochs"]] == list(range(1, EPOCHS + 1))
    assert final["sessions"][1]["first_epoch"] == completed + 1


def test_resumed_session_reports_its_own_first_epoch(killed_then_resumed):
    completed = len(killed_then_resumed["after_kill"]["epochs"])
    final = killed_then_resumed["final"]
    firsts = [epoch["epoch"] for epoch in final["epochs"] if epoch["first_in_session"]]
    assert firsts == [1, completed + 1]
    assert {epoch["session"] for epoch in final["epochs"][completed:]} == {1}


def test_resumed_results_are_complete_and_valid(killed_then_resumed):
    final = killed_then_resumed["final"]
    assert validate(final) == []
    assert final["status"] == "complete"
    checkpoints = sorted(path.name for path in (killed_then_resumed["output"] / "killed" / "checkpoints").iterdir())
    assert checkpoints == [f"epoch-{EPOCHS:04d}.keras"]


def test_more_epochs_train_a_finished_run_further(killed_then_resumed):
    output, env = killed_then_resumed["output"], killed_then_resumed["env"]
    more = run_script(
        "train.py",
        ["--output", str(output), "--epochs", str(EPOCHS + 1), *ARGS, "--max-steps", "10"],
        env=env,
        cwd=output,
    )
    assert more.returncode == 0, more.stderr[-3000:]
    final = json.loads((output / "killed" / "results.json").read_text())
    assert [epoch["epoch"] for epoch in final["epochs"]] == list(range(1, EPOCHS + 2))
    assert validate(final) == []


def test_resume_with_other_settings_is_refused(killed_then_resumed):
    output, env = killed_then_resumed["output"], killed_then_resumed["env"]
    args = [arg if arg != "4" else "6" for arg in ARGS]  # --width 4 -> 6: another model
    refused = run_script("train.py", ["--output", str(output), "--epochs", "9", *args], env=env, cwd=output)
    assert refused.returncode == 2
    assert "was started with other settings: width 4 (now 6)" in refused.stderr
