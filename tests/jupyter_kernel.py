"""Run code in a kernel of a running Jupyter server, over its REST and websocket APIs, the
way JupyterLab itself does. Returns the text the cells printed."""

from __future__ import annotations

import json
import uuid

import websocket


def _execute(ws, session: str, code: str, timeout: float) -> str:
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "session": session,
                    "username": "test",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                },
                "channel": "shell",
            }
        )
    )
    ws.settimeout(timeout)
    output = []
    while True:
        message = json.loads(ws.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = message["msg_type"]
        content = message["content"]
        if kind == "stream":
            output.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            output.append(content["data"].get("text/plain", ""))
        elif kind == "error":
            raise AssertionError(f"cell failed: {content['ename']}: {content['evalue']}\n{''.join(output)}")
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(output)


def run_notebook_in_kernel(stack, path: str | None = None, *, source: str | None = None, timeout: float = 300) -> str:
    if path is not None:
        status, model = stack.api(f"/api/contents/{path}")
        assert status == 200, f"cannot read {path}: {status}"
        cells = [c["source"] for c in model["content"]["cells"] if c["cell_type"] == "code"]
        cwd = path.rsplit("/", 1)[0] if "/" in path else ""
    else:
        cells, cwd = [source], ""
    # The server starts the kernel in `path` (relative to its root), as JupyterLab does.
    status, kernel = stack.api("/api/kernels", method="POST", body={"name": "python3", "path": cwd})
    assert status in (200, 201), f"kernel start failed: {status}"
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{stack.port}/api/kernels/{kernel['id']}/channels?token={stack.token}", timeout=60
    )
    session = uuid.uuid4().hex
    try:
        return "".join(_execute(ws, session, code, timeout) for code in cells)
    finally:
        ws.close()
        stack.api(f"/api/kernels/{kernel['id']}", method="DELETE")
