"""Hub mode of the lab image: the command it execs, and the refusal outside a hub."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from labkit import entrypoint, hubmode

REPO = Path(__file__).resolve().parents[2]
HUB_ENV = {
    "JUPYTERHUB_API_TOKEN": "t" * 32,
    "JUPYTERHUB_API_URL": "http://hub:8081/hub/api",
    "JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:8888/user/ann/",
}


def test_singleuser_command_serves_the_work_folder_with_crash_safe_saves():
    command = hubmode.singleuser_command(python="/opt/lab-venv/bin/python", work=Path("/home/lab/work"), args=[])
    assert command[0] == "/opt/lab-venv/bin/jupyterhub-singleuser"
    assert "--ServerApp.root_dir=/home/lab/work" in command
    assert "--ServerApp.contents_manager_class=labkit.contents.ReplacingFileManager" in command


def test_singleuser_command_never_sets_a_port_or_token_the_hub_owns():
    command = hubmode.singleuser_command(python="/p/python", work=Path("/w"), args=[])
    assert not any("port" in part.lower() or "token" in part.lower() for part in command)


def test_spawner_arguments_reach_the_server_after_ours():
    args = entrypoint.parse_args(["hub", "--SingleUserNotebookApp.default_url=/lab", "--debug"])
    assert args.command == "hub"
    command = hubmode.singleuser_command(python="/p/python", work=Path("/w"), args=args.passthrough)
    assert command[-2:] == ["--SingleUserNotebookApp.default_url=/lab", "--debug"]


def test_nothing_is_missing_when_a_spawner_started_the_server():
    assert hubmode.missing_hub_settings(HUB_ENV) == []


@pytest.mark.parametrize("name", hubmode.REQUIRED_FROM_HUB)
def test_each_missing_hub_setting_is_named(name):
    env = {**HUB_ENV, name: ""}
    assert hubmode.missing_hub_settings(env) == [name]


def test_hub_mode_outside_a_hub_stops_with_one_line_before_the_gate(capsys, monkeypatch):
    def no_gate(env):
        raise AssertionError("the gate must not run")

    monkeypatch.setattr(entrypoint, "run_gate", no_gate)
    args = entrypoint.parse_args(["hub"])
    code = entrypoint.cmd_hub(args, {}, entrypoint.CONTAINER_PATHS)
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 2
    assert len(out) == 1
    assert "JUPYTERHUB_API_TOKEN" in out[0]
    assert "Fix: " in out[0]


def pinned(path: Path, package: str) -> str:
    match = re.search(rf"^{package}==(\S+)$", path.read_text(), re.MULTILINE)
    assert match, f"{path} pins no {package}"
    return match.group(1)


def test_lab_image_and_hub_pin_the_same_jupyterhub():
    """jupyterhub-singleuser in every student's server and the hub speak one API version."""
    lab = pinned(REPO / "image" / "requirements-lab.txt", "jupyterhub")
    hub = pinned(REPO / "deploy" / "hub" / "requirements-hub.txt", "jupyterhub")
    assert lab == hub


def test_hub_base_image_tags_are_the_pinned_jupyterhub():
    version = pinned(REPO / "deploy" / "hub" / "requirements-hub.txt", "jupyterhub")
    dockerfile = (REPO / "deploy" / "hub" / "Dockerfile").read_text()
    compose = (REPO / "deploy" / "compose.yaml").read_text()
    env_example = (REPO / "deploy" / ".env.example").read_text()
    assert f"ARG HUB_BASE_IMAGE=quay.io/jupyterhub/jupyterhub:{version}\n" in dockerfile
    assert f"${{HUB_BASE_IMAGE:-quay.io/jupyterhub/jupyterhub:{version}}}" in compose
    assert f"HUB_BASE_IMAGE=quay.io/jupyterhub/jupyterhub:{version}\n" in env_example
