"""Start JupyterLab while the GPU check runs, and let students in only when it passed.

One after the other, the two take the sum of their times (TensorFlow's import and the GPU
check, then JupyterLab's own start); side by side, the longer of the two. JupyterLab starts as
a child process with its login closed (labkit.identity) and its output held back; the check
runs meanwhile. When the check passes, the login opens, the held output is printed and the
lab is ready; when it fails, JupyterLab is stopped and never said a word. This process stays
as JupyterLab's parent: it passes on the stop signals (docker stop, Ctrl-C) and exits with
JupyterLab's status.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from labkit import redact
from labkit.runstate import RunState

STOP_SECONDS = 10


class HeldOutput:
    """Copies a child's output to `out` line by line, holding it back until released; each
    line passes through `clean` first (labkit.redact: no token reaches the log)."""

    def __init__(self, stream: TextIO, out: TextIO, *, clean: Callable[[str], str] = str) -> None:
        self._stream = stream
        self._out = out
        self._clean = clean
        self._held: list[str] = []
        self._released = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._copy, daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        for raw in self._stream:
            line = self._clean(raw)
            with self._lock:
                if self._released:
                    self._out.write(line)
                    self._out.flush()
                else:
                    self._held.append(line)

    def release(self) -> None:
        with self._lock:
            self._out.writelines(self._held)
            self._out.flush()
            self._held.clear()
            self._released = True

    def discard(self) -> None:
        with self._lock:
            self._held.clear()

    def join(self, timeout: float = STOP_SECONDS) -> None:
        self._thread.join(timeout)


def stop(process: subprocess.Popen, *, signum: int = signal.SIGTERM) -> int:
    """Ask `process` to stop, then make it; its exit status."""
    if process.poll() is None:
        process.send_signal(signum)
        try:
            return process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def lab_with_gate(
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    gate: Callable[[], int | None],
    ready: Callable[[], None],
    state: RunState,
    out: TextIO | None = None,
) -> int:
    """Run `command` (JupyterLab) beside `gate` (the GPU check: None when the lab may start,
    else the exit status). `ready` prints the URL once the login is open."""
    out = out or sys.stdout
    # Everything the server and its kernels print, not only what goes through its logging.
    secrets = redact.secrets_of(env)
    server = subprocess.Popen(  # noqa: S603 - an argv list, never a shell string
        list(command), env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    output = HeldOutput(server.stdout, out, clean=lambda line: redact.redact(line, secrets))  # type: ignore[arg-type]

    def pass_on(signum, _frame):
        # Stop JupyterLab; during the check, stop waiting for it too (subprocess.run then
        # kills the probe on the way out).
        stop(server, signum=signum)
        if not state.gate_passed():
            raise SystemExit(128 + signum)

    previous = {signum: signal.signal(signum, pass_on) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        refused = gate()
        if refused is not None:
            output.discard()
            stop(server)
            return refused
        state.mark_gate_passed()
        output.release()
        if server.poll() is None:
            ready()
        code = server.wait()
        output.join()
        return code
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if server.poll() is None:
            stop(server)
