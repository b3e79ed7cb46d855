"""Type a command into a JupyterLab terminal of a running lab, as a student does, over the
Jupyter server's REST API and its terminal websocket (terminado's protocol: JSON lists
["stdin", text] in, ["stdout", text] out). Returns what the command printed and its exit code."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass

import websocket

# Terminal output carries colour and cursor codes; a test reads the words.
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


@dataclass(frozen=True)
class Typed:
    output: str
    exit_code: int

    @property
    def lines(self) -> list[str]:
        return [line for line in self.output.splitlines() if line.strip()]


class Terminal:
    def __init__(self, stack) -> None:
        self.stack = stack
        status, model = stack.api("/api/terminals", method="POST")
        assert status in (200, 201), f"terminal start failed: {status}"
        self.name = model["name"]
        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{stack.port}/terminals/websocket/{self.name}?token={stack.token}", timeout=60
        )

    def type(self, command: str, *, timeout: float = 300) -> Typed:
        # The markers are printed by the shell, not echoed: the typed text has them split in two.
        tag = uuid.uuid4().hex[:8]
        start, end = f"<<{tag}", f">>{tag}"
        typed = f"printf '%s\\n' '<<''{tag}'; {command}; printf '%s %s\\n' '>>''{tag}' \"$?\"\r"
        self.ws.send(json.dumps(["stdin", typed]))
        seen = ""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ws.settimeout(max(1.0, deadline - time.monotonic()))
            message = json.loads(self.ws.recv())
            if message[0] == "stdout":
                seen += ANSI.sub("", message[1])
            match = re.search(rf"^{re.escape(start)}\n(.*?)^{re.escape(end)} (\d+)$", seen, re.S | re.M)
            if match:
                return Typed(match.group(1), int(match.group(2)))
        raise AssertionError(f"the terminal did not finish {command!r} in {timeout:.0f} s; it showed:\n{seen[-3000:]}")

    def close(self) -> None:
        self.ws.close()
        self.stack.api(f"/api/terminals/{self.name}", method="DELETE")


def type_once(stack, command: str, *, timeout: float = 300) -> Typed:
    """`command` in a terminal of its own, closed again."""
    terminal = Terminal(stack)
    try:
        return terminal.type(command, timeout=timeout)
    finally:
        terminal.close()
