"""The instructor report: everything useful, no secret."""

from __future__ import annotations

import json

from fakehost import FakeDocker
from fakeworld import make_world
from labhost import cli, report
from labhost.docker import Completed

TOKEN = "s3cret-token-in-env-0123456789"
CONTAINER_TOKEN = "generated-in-container-abcdef987654"


def gate_output() -> str:
    # The in-container gate's data as `check --json` prints it, with the token in its environment dump.
    return json.dumps(
        {
            "verdict": "ok",
            "env": {"JUPYTER_TOKEN": TOKEN, "HSA_OVERRIDE_GFX_VERSION": "10.3.0"},
            "log": [f"Jupyter Server is running at http://127.0.0.1:8888/lab?token={TOKEN}"],
            "lab_token": CONTAINER_TOKEN,
        },
        indent=1,
    )


def test_report_never_contains_the_token_from_env_or_gate(tmp_path) -> None:
    run = FakeDocker(
        {
            ("docker", "compose", "-f", "compose.yaml", "-f", "compose.rocm.yaml", "run"): Completed(0, gate_output()),
            ("docker", "compose", "-f", "compose.yaml", "-f", "compose.rocm.yaml", "exec"): Completed(
                0, CONTAINER_TOKEN
            ),
        }
    )
    env = (
        f"LAB_FLAVOUR=rocm\nHSA_OVERRIDE_GFX_VERSION=10.3.0\nJUPYTER_TOKEN={TOKEN}\nWANDB_API_KEY=wandb-key-42424242\n"
    )
    world = make_world(tmp_path, "rx6700xt", run=run, env=env)
    target = tmp_path / "report.txt"

    assert cli.main(["report", "-o", str(target)], world) == 0
    text = target.read_text()

    assert TOKEN not in text
    assert CONTAINER_TOKEN not in text
    assert "wandb-key-42424242" not in text
    assert report.REDACTED in text
    assert '"verdict": "ok"' in text
    assert "HSA_OVERRIDE_GFX_VERSION=10.3.0" in text
    for section in ("doctor", "versions", ".env", "gpu gate: check --json"):
        assert f"===== {section} =====" in text
    assert [
        "docker",
        "compose",
        "-f",
        "compose.yaml",
        "-f",
        "compose.rocm.yaml",
        "run",
        "--rm",
        "--no-deps",
        "lab",
        "check",
        "--json",
    ] in run.calls


def test_report_without_the_gate(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu")
    target = tmp_path / "report.txt"

    assert cli.main(["report", "--no-gate", "-o", str(target)], world) == 0
    assert "(not run: --no-gate)" in target.read_text()


def test_redact_removes_known_secrets_and_token_shapes() -> None:
    text = 'url http://x/lab?token=abc123&x=1\nJUPYTER_TOKEN=zzz\n{"api_token": "qqq"}\nmine: hunter22\n'

    redacted = report.redact(text, ["hunter22"])

    for secret in ("abc123", "zzz", "qqq", "hunter22"):
        assert secret not in redacted
    assert "&x=1" in redacted


def test_secrets_are_found_by_their_setting_names() -> None:
    values = {"JUPYTER_TOKEN": "a", "WANDB_API_KEY": "b", "HF_TOKEN": "c", "LAB_PORT": "8888", "DB_PASSWORD": "d"}

    assert sorted(report.secrets_in(values)) == ["a", "b", "c", "d"]


def test_report_speaks_to_the_student_in_vietnamese_and_writes_the_file_in_english(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LAB_LANG", "vi")
    world = make_world(tmp_path, "no-gpu")
    target = tmp_path / "report.txt"

    assert cli.main(["report", "--no-gate", "-o", str(target)], world) == 0
    said = world.out.getvalue()  # type: ignore[attr-defined]
    assert said.strip() == f"Đã ghi {target}: hãy gửi file này cho giảng viên hoặc trợ giảng (token đã được xóa)."
    # The file is for the instructor: its framing stays English whatever the student reads.
    assert "(not run: --no-gate)" in target.read_text()
