"""labkit.launch: JupyterLab starts beside the GPU check, speaks and lets people in only after
it passed. The server here is a small Python process standing in for JupyterLab."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from labkit import launch
from labkit.runstate import RunState

REPO = Path(__file__).resolve().parents[2]


def fake_server(folder: Path, *, exit_code: int = 0) -> list[str]:
    """Prints a line, says it started, waits for the gate to pass, then exits."""
    script = textwrap.dedent(
        f"""
        import os, pathlib, sys, time
        folder = pathlib.Path({str(folder)!r})
        print("server is up", flush=True)
        (folder / "server.pid").write_text(str(os.getpid()))
        while not (folder / "state" / "gate-passed").exists():
            time.sleep(0.02)
        sys.exit({exit_code})
        """
    )
    return [sys.executable, "-c", script]


def wait_for(path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def state(tmp_path) -> RunState:
    state = RunState(tmp_path / "state")
    state.start("lab")
    return state


def test_the_server_is_heard_and_the_url_printed_only_after_the_check_passed(tmp_path, state) -> None:
    out = io.StringIO()

    def gate() -> int | None:
        wait_for(tmp_path / "server.pid")  # the server has started and printed its line
        time.sleep(0.2)
        out.write("check passed\n")
        return None

    code = launch.lab_with_gate(
        fake_server(tmp_path, exit_code=7),
        os.environ,
        gate=gate,
        ready=lambda: out.write("URL\n"),
        state=state,
        out=out,
    )

    lines = out.getvalue().splitlines()
    assert code == 7
    assert lines[:2] == ["check passed", "server is up"]
    assert state.gate_passed()


def test_a_failed_check_stops_the_server_which_never_says_a_word(tmp_path, state) -> None:
    out = io.StringIO()

    def gate() -> int | None:
        wait_for(tmp_path / "server.pid")
        return 3

    code = launch.lab_with_gate(
        fake_server(tmp_path), os.environ, gate=gate, ready=lambda: out.write("URL\n"), state=state, out=out
    )

    assert code == 3
    assert out.getvalue() == ""
    assert not state.gate_passed()
    assert not alive(int((tmp_path / "server.pid").read_text()))


def test_docker_stop_during_the_check_stops_both(tmp_path) -> None:
    runner = textwrap.dedent(
        f"""
        import os, sys, time
        sys.path.insert(0, {str(REPO / "scripts")!r})
        from pathlib import Path
        from labkit import launch
        from labkit.runstate import RunState
        folder = Path({str(tmp_path)!r})
        state = RunState(folder / "state"); state.start("lab")
        server = [sys.executable, "-c", "import os, time, pathlib; "
                  "pathlib.Path({str(tmp_path / "server.pid")!r}).write_text(str(os.getpid())); time.sleep(60)"]
        def gate():
            time.sleep(60)
        sys.exit(launch.lab_with_gate(server, os.environ, gate=gate, ready=lambda: None, state=state))
        """
    )
    lab = subprocess.Popen([sys.executable, "-c", runner])
    wait_for(tmp_path / "server.pid")

    lab.send_signal(signal.SIGTERM)

    assert lab.wait(20) == 128 + signal.SIGTERM
    assert not alive(int((tmp_path / "server.pid").read_text()))
