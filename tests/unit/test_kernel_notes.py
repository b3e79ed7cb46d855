"""The out-of-memory note in JupyterLab: counters in the formats the kernel writes, the
decision, and the extension's wiring into IPython's pre_run_cell event."""

from __future__ import annotations

import pytest
from labkit import kernel_notes

# cgroup v2 memory.events and cgroup v1 memory.oom_control, as Linux writes them
# (Documentation/admin-guide/cgroup-v2.rst; mm/memcontrol.c mem_cgroup_oom_control_read).
V2_EVENTS = "low 0\nhigh 0\nmax 31\noom 2\noom_kill 2\noom_group_kill 0\n"
V1_OOM_CONTROL = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"


@pytest.mark.parametrize("text,count", [(V2_EVENTS, 2), (V1_OOM_CONTROL, 3), ("oom_kill_disable 0\n", None)])
def test_oom_kill_count_is_read_from_either_cgroup_version(text, count):
    assert kernel_notes.parse_oom_kills(text) == count


@pytest.mark.parametrize(
    "text,limit",
    [("max\n", None), ("1073741824\n", 1073741824), ("9223372036854771712\n", None)],
    ids=["v2-no-limit", "one-gib", "v1-no-limit"],
)
def test_memory_limit_is_read_from_either_cgroup_version(text, limit):
    assert kernel_notes.parse_limit(text) == limit


@pytest.mark.parametrize(
    "now,seen,kills",
    [(None, None, 0), (2, None, 0), (2, 2, 0), (3, 2, 1), (5, 2, 3), (0, 4, 0)],
    ids=["no-counter", "first-kernel", "nothing-new", "one-kill", "three-kills", "counter-reset"],
)
def test_only_kills_since_the_previous_kernel_count(now, seen, kills):
    assert kernel_notes.new_kills(now, seen) == kills


def test_message_says_what_happened_and_the_fix():
    text = kernel_notes.message(1, 1024**3)
    assert "ran out of memory (the lab may use 1.0 GiB)" in text
    assert "LAB_MEMORY_LIMIT" in text and "Fix:" in text


class FakeEvents:
    def __init__(self):
        self.callbacks = []

    def register(self, name, callback):
        assert name == "pre_run_cell"
        self.callbacks.append(callback)

    def unregister(self, name, callback):
        self.callbacks.remove(callback)


class FakeShell:
    def __init__(self):
        self.events = FakeEvents()


def test_extension_shows_the_note_once_in_the_next_cell(tmp_path, monkeypatch, capsys):
    events = tmp_path / "memory.events"
    monkeypatch.setattr(kernel_notes, "EVENT_FILES", (events,))
    monkeypatch.setattr(kernel_notes, "LIMIT_FILES", (tmp_path / "none",))
    monkeypatch.setattr(kernel_notes, "SEEN_FILE", tmp_path / "seen")
    events.write_text(V2_EVENTS)
    first = FakeShell()
    kernel_notes.load_ipython_extension(first)  # the first kernel: nothing to say
    assert first.events.callbacks == []
    events.write_text(V2_EVENTS.replace("oom_kill 2", "oom_kill 3"))
    restarted = FakeShell()
    kernel_notes.load_ipython_extension(restarted)
    restarted.events.callbacks[0]()
    assert "The lab ran out of memory and stopped 1 process(es)" in capsys.readouterr().err
    assert restarted.events.callbacks == []  # once, not in every cell
