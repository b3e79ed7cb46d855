"""labkit.runstate: what a container runs, for the health check and the login gate."""

from __future__ import annotations

from labkit.runstate import RunState


def test_a_new_lab_run_forgets_the_gate_of_the_last_run(tmp_path) -> None:
    state = RunState(tmp_path / "state")
    state.start("lab")
    state.mark_gate_passed()

    state.start("lab")  # the container was restarted

    assert state.mode() == "lab"
    assert not state.gate_passed()


def test_another_command_in_a_running_lab_changes_nothing(tmp_path) -> None:
    state = RunState(tmp_path / "state")
    state.start("lab")
    state.mark_gate_passed()

    state.start("check")  # docker compose exec lab python -m labkit check

    assert state.mode() == "lab"
    assert state.gate_passed()


def test_a_fresh_container_records_its_command(tmp_path) -> None:
    state = RunState(tmp_path / "state")

    assert state.mode() is None
    state.start("train")
    assert state.mode() == "train"
