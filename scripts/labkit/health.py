"""`python -m labkit health`: the image's HEALTHCHECK (and compose's, which only tunes timing).

Healthy means: the GPU check passed in this run and JupyterLab answers /api on its port.
A container that runs training, the GPU check alone or a shell has no server: healthy too.
--wait SECONDS keeps looking (every 0.2 s) while the lab is still starting, so the first
probe reports the moment the lab is ready instead of at the next probe interval (Debian's
Docker 20.10 has no start_interval). Standard library only; run with `python -P -S` (never the
work folder, its current folder; no site-packages) it starts in a few milliseconds.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import time

from labkit.runstate import RunState

PORT = 8888
POLL_SECONDS = 0.2


def api_answers(*, port: int = PORT, prefix: str = "/", timeout: float = 3.0) -> bool:
    # A hub's single-user server lives under its prefix (JUPYTERHUB_SERVICE_PREFIX).
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", prefix.rstrip("/") + "/api")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def status(state: RunState, *, port: int = PORT, prefix: str = "/") -> tuple[bool, str]:
    """(healthy, one line saying why)."""
    mode = state.mode()
    if mode is None:
        return False, "the lab has not started yet"
    if mode != "lab":
        return True, f"no server to check: this container runs `{mode}`"
    if not state.gate_passed():
        return False, "the GPU check has not passed yet"
    if not api_answers(port=port, prefix=prefix):
        return False, f"JupyterLab does not answer on port {port} yet"
    return True, "JupyterLab answers and the GPU check passed"


def main(argv: list[str] | None = None, *, state: RunState | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labkit health", description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="keep looking while it starts")
    args = parser.parse_args(argv)
    state = state or RunState()
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    deadline = time.monotonic() + args.wait
    healthy, why = status(state, prefix=prefix)
    while not healthy and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        healthy, why = status(state, prefix=prefix)
    print(why)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
