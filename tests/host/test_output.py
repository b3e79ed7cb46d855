"""Text and JSON output; colour only on a terminal and never with NO_COLOR."""

from __future__ import annotations

import io
import json

import pytest
from labhost import output
from labhost.checks import CheckResult

RESULTS = [
    CheckResult("docker", "ok", "Docker client 28.2.2"),
    CheckResult("env", "warn", "no .env", "run `scripts/lab setup`"),
    CheckResult("nvidia toolkit", "fail", "not installed", "install nvidia-container-toolkit"),
]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "environ", "colour"),
    [
        (Tty(), {}, True),
        (io.StringIO(), {}, False),
        (Tty(), {"NO_COLOR": "1"}, False),
        (Tty(), {"NO_COLOR": ""}, True),
        (Tty(), {"TERM": "dumb"}, False),
    ],
    ids=["terminal", "pipe", "no-color", "empty-no-color-is-unset", "dumb-terminal"],
)
def test_use_colour(stream, environ, colour: bool) -> None:
    assert output.use_colour(stream, environ) is colour


def test_text_has_one_line_per_check_and_a_fix_line_for_problems() -> None:
    lines = output.text(RESULTS, colour=False).splitlines()

    assert lines[0].startswith("[ok]   docker")
    assert lines[1].startswith("[warn] env")
    assert lines[2].strip() == "fix: run `scripts/lab setup`"
    assert "1 problem(s) stop the lab" in lines[-1]
    assert "\033[" not in "\n".join(lines)


def test_colour_wraps_only_the_status() -> None:
    text = output.text(RESULTS, colour=True)

    assert "\033[31m[fail]" in text


def test_json_lists_every_check_and_says_whether_the_lab_can_start() -> None:
    data = json.loads(output.as_json(RESULTS, {"plan": {"flavour": "cpu"}}))

    assert data["ok"] is False
    assert [c["name"] for c in data["checks"]] == ["docker", "env", "nvidia toolkit"]
    assert set(data["checks"][2]) == {"name", "status", "detail", "fix"}
    assert data["plan"] == {"flavour": "cpu"}
