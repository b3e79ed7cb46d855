"""Telling the student that the lab ran out of memory: the message, and reading Docker."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from labhost import memory
from labhost.docker import Completed


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


class Recorded:
    """Replays what the Docker CLI printed for one running lab container after one OOM kill."""

    def __init__(self, oom_lines: str, oom_killed: bool = False):
        self.oom_lines = oom_lines
        self.oom_killed = oom_killed
        self.calls = []

    def __call__(self, argv):
        self.calls.append(list(argv))
        if "ps" in argv:
            return Completed(0, "3f2a1b\n")
        if argv[:2] == ["docker", "inspect"]:
            state = {"Status": "running", "OOMKilled": self.oom_killed, "StartedAt": "2026-11-27T04:40:00.123456789Z"}
            return Completed(0, json.dumps(state) + "\n")
        if argv[:2] == ["docker", "events"]:
            return Completed(0, self.oom_lines)
        raise AssertionError(argv)


def test_oom_events_since_the_container_started_are_counted():
    run = Recorded("oom\noom\n")
    note = memory.memory_report(
        run, "cpu", {"LAB_MEMORY_LIMIT": "300m"}, now=datetime(2026, 11, 27, 5, 0, tzinfo=timezone.utc)
    )
    assert note is not None
    assert "2 process(es)" in note
    events = next(call for call in run.calls if call[:2] == ["docker", "events"])
    start = datetime(2026, 11, 27, 4, 40, tzinfo=timezone.utc).timestamp()
    assert events[events.index("--since") + 1] == str(int(start))
    assert events[events.index("--until") + 1] == str(int(start) + 20 * 60)
    assert "event=oom" in events


def test_no_events_and_no_kill_is_silent():
    assert memory.memory_report(Recorded(""), "cpu", {}) is None
