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


def command_for(*, args=(), extension_paths=("/opt/lab-venv/share/jupyter/labextensions",)):
    return hubmode.singleuser_command(
        python="/opt/lab-venv/bin/python",
        work=Path("/home/lab/work"),
        args=list(args),
        extension_paths=list(extension_paths),
    )


def test_singleuser_command_serves_the_work_folder_with_crash_safe_saves():
    command = command_for()
    assert command[0] == "/opt/lab-venv/bin/jupyterhub-singleuser"
    assert "--ServerApp.root_dir=/home/lab/work" in command
    assert "--ServerApp.contents_manager_class=labkit.contents.ReplacingFileManager" in command


def test_singleuser_command_never_sets_a_port_or_token_the_hub_owns():
    command = command_for()
    assert not any("port" in part.lower() or "token" in part.lower() for part in command)


def test_spawner_arguments_reach_the_server_after_ours():
    args = entrypoint.parse_args(["hub", "--SingleUserNotebookApp.default_url=/lab", "--debug"])
    assert args.command == "hub"
    command = command_for(args=args.passthrough)
    assert command[-2:] == ["--SingleUserNotebookApp.default_url=/lab", "--debug"]


def test_lab_extensions_come_only_from_the_folders_given():
    command = command_for(extension_paths=["/opt/lab-venv/share/jupyter/labextensions", "/usr/share/x"])
    assert '--LabApp.labextensions_path=["/opt/lab-venv/share/jupyter/labextensions", "/usr/share/x"]' in command
    assert "--LabApp.extra_labextensions_path=[]" in command
    assert "--LabApp.labextensions_path=[]" in command_for(extension_paths=[])


# The folders jupyter_core's jupyter_path("labextensions") lists in the lab image, for the
# image's user (UID 1000): HOME=/home/lab (mode 1777), PYTHONUSERBASE=/cache/python-user
# (/cache is 1777), the venv (root's), /usr/local and /usr (root's, the first missing).
IMAGE_PATHS = [
    "/home/lab/.local/share/jupyter/labextensions",
    "/cache/python-user/share/jupyter/labextensions",
    "/opt/lab-venv/share/jupyter/labextensions",
    "/usr/local/share/jupyter/labextensions",
    "/usr/share/jupyter/labextensions",
]
EXISTING = {
    "/",
    "/home",
    "/home/lab",
    "/cache",
    "/opt",
    "/opt/lab-venv",
    "/opt/lab-venv/share",
    "/opt/lab-venv/share/jupyter",
    "/opt/lab-venv/share/jupyter/labextensions",
    "/usr",
    "/usr/local",
    "/usr/local/share",
    "/usr/share",
}
WRITABLE_BY_1000 = {"/home/lab", "/cache"}


def split_for(writable: set[str], existing: set[str] = EXISTING):
    return hubmode.split_extension_paths(
        IMAGE_PATHS, writable=lambda path: str(path) in writable, exists=lambda path: str(path) in existing
    )


def test_lab_extensions_from_the_students_folders_are_ignored():
    kept, ignored = split_for(WRITABLE_BY_1000)
    assert kept == [
        "/opt/lab-venv/share/jupyter/labextensions",
        "/usr/local/share/jupyter/labextensions",
        "/usr/share/jupyter/labextensions",
    ]
    assert ignored == ["/home/lab/.local/share/jupyter/labextensions", "/cache/python-user/share/jupyter/labextensions"]


def test_a_folder_is_the_students_when_any_folder_above_it_is_writable():
    """~/.local/share/jupyter/labextensions existing and root-owned is still the student's:
    they can rename ~/.local away and put their own in its place."""
    existing = EXISTING | {"/home/lab/.local", "/home/lab/.local/share/jupyter/labextensions"}
    _kept, ignored = split_for(WRITABLE_BY_1000, existing)
    assert "/home/lab/.local/share/jupyter/labextensions" in ignored


def test_a_server_running_as_root_loads_no_lab_extension_folder():
    kept, ignored = split_for({"/"} | EXISTING)
    assert kept == []
    assert ignored == IMAGE_PATHS


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
