"""Command building, the printed URL and the token: the entrypoint's decisions."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from labkit import entrypoint, urls

PATHS = entrypoint.Paths(work=Path("/home/lab/work"), course_source=Path("/opt/lab/course"), state=Path("/cache/lab"))


@pytest.mark.parametrize(
    "address,url",
    [
        ("127.0.0.1", "http://127.0.0.1:18888/lab?token=abc"),
        ("0.0.0.0", "http://127.0.0.1:18888/lab?token=abc"),  # listens everywhere; this computer opens loopback
        ("192.168.1.20", "http://192.168.1.20:18888/lab?token=abc"),  # published there only
    ],
    ids=["loopback", "every-address", "one-lan-address"],
)
def test_url_uses_the_published_address_the_host_port_and_the_token(address, url):
    assert urls.lab_url(address=address, port="18888", token="abc") == url


@pytest.mark.parametrize(
    "address,others", [("127.0.0.1", False), ("127.0.0.2", False), ("0.0.0.0", True), ("10.0.0.5", True)]
)
def test_who_else_can_reach_the_lab(address, others):
    assert urls.reachable_from_other_computers(address) is others


def test_jupyters_own_log_shows_the_published_address():
    command = entrypoint.lab_command(python="/p/python", paths=PATHS, host_port="9999", host_address="192.168.1.20")
    assert "--ServerApp.custom_display_url=http://192.168.1.20:9999" in command


def test_lab_command_serves_the_work_folder_and_never_carries_the_token():
    command = entrypoint.lab_command(python="/opt/lab-venv/bin/python", paths=PATHS, host_port="9999")
    assert command[0] == "/opt/lab-venv/bin/jupyter-lab"
    assert "--ServerApp.root_dir=/home/lab/work" in command
    assert "--ServerApp.custom_display_url=http://127.0.0.1:9999" in command
    assert not any("token" in part.lower() for part in command)


def test_lab_command_does_not_hunt_for_another_port():
    # The host port is fixed by compose; a silent switch to 8889 would break the URL.
    command = entrypoint.lab_command(python="/p/python", paths=PATHS, host_port="8888")
    assert "--ServerApp.port=8888" in command
    assert "--ServerApp.port_retries=0" in command


def test_train_command_runs_the_students_copy_and_passes_arguments():
    command = entrypoint.train_command(python="/p/python", paths=PATHS, args=["--synthetic", "--epochs", "1"])
    assert command == [
        "/p/python",
        "/home/lab/work/course/train.py",
        "--output",
        "/home/lab/work/runs",
        "--synthetic",
        "--epochs",
        "1",
    ]


def test_train_arguments_may_start_with_dashes():
    args = entrypoint.parse_args(["train", "--synthetic", "--epochs", "2"])
    assert args.command == "train"
    assert args.passthrough == ["--synthetic", "--epochs", "2"]


def test_bench_runs_the_installed_package_never_the_students_folder():
    command = entrypoint.bench_command(python="/p/python", paths=PATHS, args=["--steps", "5"])
    assert command == ["/p/python", "-P", "-m", "labtrain.bench", "--output", "/home/lab/work/runs", "--steps", "5"]
    assert not any("course" in part for part in command)


def test_prepare_runs_the_installed_package():
    command = entrypoint.prepare_command(python="/p/python", paths=PATHS, args=["--dataset", "mnist"])
    assert command == ["/p/python", "-P", "-m", "labtrain.prepare", "--dataset", "mnist"]


@pytest.mark.parametrize("command", ["train", "bench", "prepare"])
def test_passthrough_commands_hand_on_their_arguments_and_help(command):
    args = entrypoint.parse_args([command, "--steps", "3", "--help"])
    assert args.command == command
    assert args.passthrough == ["--steps", "3", "--help"]


@pytest.mark.parametrize("command", ["train", "bench", "prepare"])
def test_passthrough_commands_run_after_the_settings_and_gpu_check(command):
    handler, _help = entrypoint.COMMANDS[command]
    assert handler.__qualname__.startswith("after_gate")


def test_no_subcommand_means_lab():
    assert entrypoint.parse_args([]).command == "lab"


def test_unknown_arguments_are_refused_outside_train():
    with pytest.raises(SystemExit):
        entrypoint.parse_args(["lab", "--bogus"])


def test_token_from_settings_wins(tmp_path):
    assert entrypoint.resolve_token({"JUPYTER_TOKEN": "x" * 20}, tmp_path) == "x" * 20
    assert not (tmp_path / "jupyter-token").exists()


def test_generated_token_is_kept_private_and_reused(tmp_path):
    first = entrypoint.resolve_token({}, tmp_path / "state")
    second = entrypoint.resolve_token({}, tmp_path / "state")
    assert first == second
    assert len(first) >= 16
    mode = stat.S_IMODE((tmp_path / "state" / "jupyter-token").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "[lab] ERROR in .env: HSA_OVERRIDE_GFX_VERSION: is set but empty"),
        ("10.3", "[lab] ERROR in .env: HSA_OVERRIDE_GFX_VERSION: is '10.3', but ROCm expects three numbers"),
        ("gfx1030", "[lab] ERROR in .env: HSA_OVERRIDE_GFX_VERSION: is 'gfx1030', but ROCm expects three numbers"),
    ],
    ids=["empty", "two-numbers", "gfx-name"],
)
def test_a_bad_override_stops_before_the_gpu_check_runs(monkeypatch, capsys, value, message):
    # Why the diagnosis has no rule for an empty or malformed override: it never gets one.
    monkeypatch.setenv("HSA_OVERRIDE_GFX_VERSION", value)
    started = []
    monkeypatch.setattr(entrypoint, "run_gate", lambda env: started.append(env))
    assert entrypoint.main(["check"]) == 2
    assert started == []
    err = capsys.readouterr().err
    assert message in err
    assert "[lab] Nothing was started. Edit .env and start again." in err


def test_lab_language_vi_starts_jupyterlab_in_vietnamese(tmp_path):
    path = entrypoint.write_ui_language(tmp_path, "vi")
    assert path == tmp_path / "@jupyterlab/translation-extension/plugin.jupyterlab-settings"
    assert json.loads(path.read_text()) == {"locale": "vi_VN"}


def test_english_needs_no_language_setting(tmp_path):
    assert entrypoint.write_ui_language(tmp_path, "en") is None
    assert list(tmp_path.iterdir()) == []


def test_the_entrypoints_lines_hide_the_token_except_the_url_to_open(monkeypatch, capsys):
    token = "t0ken-from-the-env-file-1234"
    monkeypatch.setenv("JUPYTER_TOKEN", token)
    entrypoint.say(f"Running: jupyterhub-singleuser --ServerApp.token={token}")
    entrypoint.say_with_token(f"    http://127.0.0.1:8888/lab?token={token}")
    assert capsys.readouterr().out.splitlines() == [
        "[lab] Running: jupyterhub-singleuser --ServerApp.token=[secret]",
        f"[lab]     http://127.0.0.1:8888/lab?token={token}",
    ]
