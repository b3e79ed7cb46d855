"""labkit.redact: no token in a log line. The lines are the real ones: tornado's own logging call
for an uncaught websocket error, with a real request object, formatted by the formatter the
Jupyter server uses; and the entrypoint's pipe with a real child process."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from labkit import launch, redact
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.log import LogFormatter
from traitlets.config import Config

REPO = Path(__file__).resolve().parents[2]

TOKEN = "test-token-c894663a20b1436e8480583ff2887d3e"
HUB_API_TOKEN = "6d7e1b0c4a2f4b8e9c1d2e3f4a5b6c7d"


def tornado_uncaught_exception(log: logging.Logger, uri: str) -> None:
    """What tornado.web.RequestHandler.log_exception logs when a websocket handler raises."""
    start_line = RequestStartLine("GET", uri, "HTTP/1.1")
    request = HTTPServerRequest(start_line=start_line, headers=HTTPHeaders({"Host": "127.0.0.1:8888"}))
    request.remote_ip = "172.23.0.1"
    try:
        json.loads("not json at all")
    except ValueError:
        summary = f"{request.method} {request.uri} ({request.remote_ip})"
        log.error("Uncaught exception %s\n%r", summary, request, exc_info=True)


@pytest.fixture
def server_log():
    """A logger wired like the Jupyter server's: its own handler with tornado's LogFormatter,
    the lab's filter configured from the image's jupyter_server_config.py."""
    config = Config()
    source = (REPO / "image/jupyter/jupyter_server_config.py").read_text()
    exec(compile(source, "jupyter_server_config.py", "exec"), {"get_config": lambda: config})  # noqa: S102
    logging_config = config.ServerApp.logging_config
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LogFormatter(color=False))
    (filter_name,) = logging_config["handlers"]["console"]["filters"]
    factory = logging_config["filters"][filter_name]["()"]
    module, _, name = factory.rpartition(".")
    handler.addFilter(getattr(__import__(module, fromlist=[name]), name)(environ={"JUPYTER_TOKEN": TOKEN}))
    log = logging.getLogger("test-redact-server")
    log.propagate = False
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    yield log, stream
    log.removeHandler(handler)


def test_tornados_uncaught_exception_line_loses_the_token_and_keeps_the_rest(server_log) -> None:
    log, stream = server_log
    tornado_uncaught_exception(log, f"/terminals/websocket/1?token={TOKEN}")
    text = stream.getvalue()
    assert TOKEN not in text
    assert "Uncaught exception GET /terminals/websocket/1?token=[secret] (172.23.0.1)" in text
    assert "uri='/terminals/websocket/1?token=[secret]'" in text
    assert "json.decoder.JSONDecodeError: Expecting value" in text


def test_a_token_the_lab_does_not_know_is_hidden_by_its_parameter_name(server_log) -> None:
    # A hub user's own API token, OAuth's code and state: jupyter_server's access log hides
    # these parameters, and so does every other line.
    log, stream = server_log
    log.info("GET /user/alice/oauth_callback?code=abc123def456&state=eyJzdGF0ZSI6IjEifQ%3D%3D&next=%2Flab")
    log.warning("GET /user/alice/api/contents?_xsrf=x&access_token=QWERTY123456 failed")
    text = stream.getvalue()
    assert "abc123def456" not in text and "eyJzdGF0ZSI6IjEifQ" not in text and "QWERTY123456" not in text
    assert "?code=[secret]&state=[secret]&next=%2Flab" in text
    assert "&access_token=[secret] failed" in text


def test_a_known_token_is_hidden_wherever_it_stands() -> None:
    secrets = redact.secrets_of({"JUPYTER_TOKEN": TOKEN, "JUPYTERHUB_API_TOKEN": HUB_API_TOKEN, "LAB_PORT": "8888"})
    line = f"Authorization: token {HUB_API_TOKEN}; env {{'JUPYTER_TOKEN': '{TOKEN}'}}"
    assert redact.redact(line, secrets) == "Authorization: token [secret]; env {'JUPYTER_TOKEN': '[secret]'}"


def test_empty_or_short_values_are_no_secrets_to_hunt_for() -> None:
    # An empty JUPYTER_TOKEN means "generate one"; replacing "" or a short word everywhere
    # would wreck every line.
    assert redact.secrets_of({"JUPYTER_TOKEN": "", "JPY_API_TOKEN": "abc"}) == ()
    assert redact.redact("GET /api/status 200", ()) == "GET /api/status 200"


def test_a_record_with_arguments_that_do_not_fit_its_format_is_still_logged() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s %s", (TOKEN,), None)
    assert redact.TokenFilter(environ={"JUPYTER_TOKEN": TOKEN}).filter(record)
    assert TOKEN not in record.getMessage()


def test_the_entrypoints_pipe_hides_what_the_server_prints_outside_its_logging(tmp_path) -> None:
    # Kernels and extensions write straight to the server's stdout and stderr.
    script = f"import sys; print('kernel said {TOKEN}'); print('GET /x?token=abcdefgh12345678', file=sys.stderr)"
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    out = io.StringIO()
    secrets = redact.secrets_of({"JUPYTER_TOKEN": TOKEN})
    held = launch.HeldOutput(child.stdout, out, clean=lambda line: redact.redact(line, secrets))
    child.wait()
    held.join()
    held.release()
    assert out.getvalue().splitlines() == ["kernel said [secret]", "GET /x?token=[secret]"]
