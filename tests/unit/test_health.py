"""labkit.health: the image's HEALTHCHECK against a real HTTP server on a free port."""

from __future__ import annotations

import http.server
import threading

import pytest
from labkit import health
from labkit.runstate import RunState


class Api(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200 if self.path.endswith("/api") else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()


@pytest.fixture
def state(tmp_path) -> RunState:
    return RunState(tmp_path / "state")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_not_started_is_unhealthy(state) -> None:
    assert health.status(state) == (False, "the lab has not started yet")


def test_during_the_gpu_check_the_lab_is_not_healthy_even_if_jupyter_answers(state, server) -> None:
    state.start("lab")

    assert health.status(state, port=server) == (False, "the GPU check has not passed yet")


def test_after_the_check_it_is_healthy_once_jupyter_answers(state, server) -> None:
    state.start("lab")
    state.mark_gate_passed()

    assert health.status(state, port=free_port())[0] is False
    assert health.status(state, port=server) == (True, "JupyterLab answers and the GPU check passed")


def test_a_hub_server_is_asked_under_its_prefix(state, server) -> None:
    state.start("lab")
    state.mark_gate_passed()

    assert health.status(state, port=server, prefix="/user/lan/")[0] is True


@pytest.mark.parametrize("mode", ["train", "check", "shell"])
def test_commands_without_a_server_are_healthy(state, mode) -> None:
    state.start(mode)

    assert health.status(state) == (True, f"no server to check: this container runs `{mode}`")


def test_wait_returns_as_soon_as_the_lab_is_ready(state, monkeypatch, capsys) -> None:
    state.start("lab")
    monkeypatch.setattr(health, "api_answers", lambda **kwargs: True)
    polls = []

    def pass_the_gate_on_the_third_look(seconds):
        polls.append(seconds)
        if len(polls) == 3:
            state.mark_gate_passed()

    monkeypatch.setattr(health.time, "sleep", pass_the_gate_on_the_third_look)

    assert health.main(["--wait", "60"], state=state) == 0
    assert len(polls) == 3
    assert capsys.readouterr().out == "JupyterLab answers and the GPU check passed\n"


def test_without_wait_one_look_decides(state, capsys) -> None:
    assert health.main([], state=state) == 1
    assert capsys.readouterr().out == "the lab has not started yet\n"
