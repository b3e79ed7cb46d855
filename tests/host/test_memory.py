"""Telling the student that the lab ran out of memory: the message, and reading Docker.

The replayed answers are real ones (tests/host/fixtures/README.md): one container with a
256 MB limit in which the OOM killer ended 6 processes (six parallel 200 MB allocations, then
one process with eight allocating threads), on Engine 20.10 and on Engine 26 with each image
store; the engines printed 133, 249 and 18 `oom` events for those 6 kills."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from labhost import memory
from labhost.docker import Completed

FIXTURES = Path(__file__).parent / "fixtures" / "docker"
ENGINES = ("oom-engine-20.10", "oom-engine-26", "oom-engine-26-containerd")
NOW = datetime(2026, 12, 7, 19, 0, tzinfo=timezone.utc)


def test_nothing_killed_means_nothing_said():
    assert memory.message(0, False, "8g") is None


def test_a_killed_kernel_names_the_limit_and_what_to_change():
    line = memory.message(1, False, "8g")
    assert line.startswith("Out of memory: 1 process(es) in the lab were stopped")
    assert "raise LAB_MEMORY_LIMIT (now 8g)" in line
    assert "\n" not in line


def test_without_a_limit_the_computer_itself_ran_out():
    line = memory.message(2, False, "0")
    assert "the computer ran out of memory" in line


def test_a_killed_container_is_reported_even_without_events():
    assert "the lab itself was stopped" in memory.message(0, True, None)


def test_an_unknown_count_is_said_as_at_least_one():
    assert memory.message(None, False, "8g").startswith("Out of memory: at least one process in the lab was stopped")


class Recorded:
    """Replays what one engine's CLI printed for one lab container (its ID 3f2a1b)."""

    def __init__(self, engine: str, state: str = "state-running-after-kills.json", *, exec_works: bool = True,
                 counted: str | None = None):  # fmt: skip
        self.folder = FIXTURES / engine
        self.state = (self.folder / state).read_text()
        self.exec_works = exec_works
        self.counted = counted or (self.folder / "exec-cat-cgroup.stdout").read_text()
        self.calls = []

    def __call__(self, argv):
        self.calls.append(list(argv))
        if "ps" in argv:
            return Completed(0, "3f2a1b\n")
        if argv[:2] == ["docker", "inspect"]:
            return Completed(0, self.state)
        if argv[:2] == ["docker", "exec"]:
            if not self.exec_works:
                return Completed(1, "", "Error response from daemon: container 3f2a1b is not running\n")
            # `cat` of both cgroup versions' files: the one that exists is printed, exit 1.
            return Completed(1, self.counted, "cat: /sys/fs/cgroup/memory.events: No such file or directory\n")
        if argv[:2] == ["docker", "events"]:
            return Completed(0, (self.folder / "events-oom.stdout").read_text())
        raise AssertionError(argv)

    def ran(self, command: str) -> bool:
        return any(call[:2] == ["docker", command] for call in self.calls)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_kill_is_counted_once_from_the_kernels_count_not_the_events(engine):
    run = Recorded(engine)
    assert len((run.folder / "events-oom.stdout").read_text().split()) > 6  # what counting events said
    note = memory.memory_report(run, "cpu", {"LAB_MEMORY_LIMIT": "256m"}, now=NOW)
    assert note is not None
    assert note.startswith("Out of memory: 6 process(es) in the lab were stopped")
    assert not run.ran("events")  # the count was read: no event is needed


@pytest.mark.parametrize("engine", ENGINES)
def test_a_running_lab_is_never_said_to_be_stopped_whatever_oomkilled_says(engine):
    # Engine 26 sets OOMKilled as soon as a notebook's kernel is killed; 20.10 does not.
    oom_killed = json.loads(Recorded(engine).state)["OOMKilled"]
    assert oom_killed is (engine != "oom-engine-20.10")
    note = memory.memory_report(Recorded(engine), "cpu", {}, now=NOW)
    assert "the lab itself was stopped" not in note


@pytest.mark.parametrize("engine", ENGINES)
def test_a_lab_stopped_after_a_kernel_was_killed_was_not_itself_killed(engine):
    note = memory.memory_report(Recorded(engine, "state-stopped-after-kills.json"), "cpu", {}, now=NOW)
    assert note.startswith("Out of memory: at least one process in the lab was stopped")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_lab_whose_own_process_was_killed_is_said_to_be_stopped(engine):
    note = memory.memory_report(Recorded(engine, "state-main-process-killed.json"), "cpu", {}, now=NOW)
    assert note.startswith("Out of memory: the lab itself was stopped")


@pytest.mark.parametrize("engine", ENGINES)
def test_without_the_count_the_events_since_the_start_say_at_least_one(engine):
    run = Recorded(engine, exec_works=False)
    note = memory.memory_report(run, "cpu", {"LAB_MEMORY_LIMIT": "300m"}, now=NOW)
    assert note.startswith("Out of memory: at least one process in the lab was stopped")
    events = next(call for call in run.calls if call[:2] == ["docker", "events"])
    started = datetime.fromisoformat(json.loads(run.state)["StartedAt"][:19]).replace(tzinfo=timezone.utc)
    assert events[events.index("--since") + 1] == str(int(started.timestamp()))
    assert events[events.index("--until") + 1] == str(int(NOW.timestamp()))
    assert "event=oom" in events


def test_a_lab_with_no_kill_is_silent():
    run = Recorded("oom-engine-20.10", counted="oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
    run.state = json.dumps(
        {"Status": "running", "Running": True, "OOMKilled": False, "StartedAt": "2026-12-07T18:00:00.12345Z"}
    )
    assert memory.memory_report(run, "cpu", {}, now=NOW) is None


@pytest.mark.parametrize(
    ("state", "counted", "events", "expected"),
    [
        pytest.param({"Running": True, "OOMKilled": False}, 0, 3, memory.Kills(0), id="the-count-beats-events"),
        pytest.param({"Running": True, "OOMKilled": True}, None, 0, memory.Kills(None), id="26-running-no-count"),
        pytest.param({"Running": True, "OOMKilled": False}, None, 0, memory.Kills(0), id="nothing-at-all"),
        pytest.param(
            {"Running": False, "OOMKilled": True, "ExitCode": 137},
            None,
            0,
            memory.Kills(0, True),
            id="main-process-killed",
        ),  # fmt: skip
        pytest.param(
            {"Running": False, "OOMKilled": True, "ExitCode": 0}, None, 0, memory.Kills(None), id="stopped-after-a-kill"
        ),  # fmt: skip
        pytest.param(
            {"Running": False, "OOMKilled": False, "ExitCode": 137},
            None,
            0,
            memory.Kills(0),
            id="killed-but-not-for-memory",
        ),  # fmt: skip
    ],
)
def test_decide(state, counted, events, expected):
    assert memory.decide(state, counted, events) == expected
