"""The dev containers of the three flavours, as the Dev Containers CLI reads them: each lists
the flavour's own compose files (those `scripts/lab up` runs) and VS Code's overlay, and the
compose model it gives is the plain lab's with VS Code's server volume added and the build
left out, GPU devices and groups included (`docker compose config`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid

import pytest
from devcontainers import OVERLAY, REPO, cli, compose_files, read_configuration
from labhost import compose

FLAVOURS = sorted(compose.DEVCONTAINERS)
# What may differ between the flavours' devcontainer.json: which lab, and its files.
PER_FLAVOUR = ("name", "dockerComposeFile", "initializeCommand", "configFilePath")


@pytest.fixture(scope="module")
def configurations(devcontainer_cli) -> dict[str, dict]:
    return {flavour: read_configuration(compose.devcontainer(flavour)[0]) for flavour in FLAVOURS}


def render(files: list[str], tmp_path) -> dict:
    """`docker compose config` of `files`, with an .env of the tests (never the developer's)."""
    env_file = tmp_path / "config.env"
    env_file.write_text("LAB_UID=4242\nLAB_GID=4242\nLAB_RENDER_GID=109\nLAB_KFD_GID=44\n")
    command = ["docker", "compose", "-p", f"cldevcfg-{uuid.uuid4().hex[:8]}", "--env-file", str(env_file)]
    for name in files:
        command += ["-f", str(REPO / name)]
    done = subprocess.run([*command, "config", "--format", "json"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_cli_reads_each_flavours_dev_container(configurations, flavour) -> None:
    config = configurations[flavour]

    assert config["name"] == compose.devcontainer(flavour)[1]
    assert config["service"] == "lab"
    assert config["workspaceFolder"] == "/home/lab/work"
    assert config["overrideCommand"] is False
    assert config["updateRemoteUserUID"] is False
    assert config["userEnvProbe"] == "none"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_each_dev_container_lists_the_compose_files_of_scripts_lab_up_then_vscodes(flavour, devcontainer_cli) -> None:
    assert compose_files(compose.devcontainer(flavour)[0]) == [*compose.files_for(flavour), OVERLAY]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_image_comes_from_the_flavours_own_compose_files(configurations, flavour) -> None:
    command = configurations[flavour]["initializeCommand"]

    assert command[:2] == ["docker", "compose"]
    assert command[2 : 2 + 2 * len(compose.files_for(flavour))] == compose.command(flavour)[2:]
    assert command[2 + 2 * len(compose.files_for(flavour)) :] == [
        "run", "--rm", "--no-deps", "-T", "--entrypoint", "true", "lab",
    ]  # fmt: skip


def test_the_flavours_differ_only_in_their_lab(configurations) -> None:
    def shared(config: dict) -> dict:
        return {key: value for key, value in config.items() if key not in PER_FLAVOUR}

    cpu = shared(configurations["cpu"])
    assert all(shared(configurations[flavour]) == cpu for flavour in FLAVOURS)


def test_vscodes_python_and_jupyter_extensions_are_recommended(configurations) -> None:
    vscode = configurations["cpu"]["customizations"]["vscode"]

    assert {"ms-python.python", "ms-toolsai.jupyter"} <= set(vscode["extensions"])
    assert vscode["settings"]["python.defaultInterpreterPath"] == "/opt/lab-venv/bin/python"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_vscodes_lab_is_the_plain_lab_plus_its_server_volume_without_the_build(flavour, devcontainer_cli, tmp_path):
    plain = render(list(compose.files_for(flavour)), tmp_path)
    vscode = render(compose_files(compose.devcontainer(flavour)[0]), tmp_path)
    lab, expected = vscode["services"]["lab"], dict(plain["services"]["lab"])

    del expected["build"]
    expected["volumes"] = [
        *expected["volumes"],
        {"type": "volume", "source": "vscode-server", "target": "/home/lab/.vscode-server", "volume": {}},
    ]
    assert lab == expected
    assert set(vscode["volumes"]) == set(plain["volumes"]) | {"vscode-server"}


def test_the_rocm_dev_container_renders_the_overlays_devices_and_groups(devcontainer_cli, tmp_path) -> None:
    plain = render(list(compose.files_for("rocm")), tmp_path)["services"]["lab"]
    lab = render(compose_files(compose.devcontainer("rocm")[0]), tmp_path)["services"]["lab"]

    assert [d["source"] for d in lab["devices"]] == ["/dev/kfd", "/dev/dri"]
    assert lab["devices"] == plain["devices"]
    assert lab["group_add"] == plain["group_add"] == ["109", "44"]
    assert lab["environment"]["LAB_FLAVOUR"] == "rocm"


def test_the_nvidia_dev_container_renders_the_overlays_gpu_reservation(devcontainer_cli, tmp_path) -> None:
    plain = render(list(compose.files_for("nvidia")), tmp_path)["services"]["lab"]
    lab = render(compose_files(compose.devcontainer("nvidia")[0]), tmp_path)["services"]["lab"]
    devices = lab["deploy"]["resources"]["reservations"]["devices"]

    assert devices == [{"capabilities": ["gpu"], "driver": "nvidia", "count": -1}]
    assert lab["deploy"] == plain["deploy"]
    assert lab["environment"]["LAB_FLAVOUR"] == "nvidia"


def test_vscode_names_the_compose_project_as_compose_and_scripts_lab_do(devcontainer_cli, tmp_path) -> None:
    # No COMPOSE_PROJECT_NAME: the CLI must pick the name compose itself picks (compose.yaml's
    # `name:`), so `scripts/lab ps/down/logs` and the doctor find the lab VS Code started.
    # --expect-existing-container makes the CLI look the lab up and stop there; the copy of
    # the configuration without initializeCommand keeps it from creating anything.
    path = compose.devcontainer("cpu")[0]
    config = read_configuration(path)
    copy = {k: v for k, v in config.items() if k not in ("initializeCommand", "configFilePath")}
    copy["dockerComposeFile"] = [str(REPO / name) for name in compose_files(path)]
    (tmp_path / "devcontainer.json").write_text(json.dumps(copy))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAB_", "JUPYTER_", "COMPOSE_"))}
    looked_up = cli(
        "up", "--workspace-folder", str(REPO), "--config", str(tmp_path / "devcontainer.json"),
        "--expect-existing-container", "--log-level", "trace", "--user-data-folder", str(tmp_path / "cli"),
        env=env, check=False,
    )  # fmt: skip
    named = re.findall(r"label=com\.docker\.compose\.project=([^ \n]+)", looked_up.stderr)
    composes = subprocess.run(
        ["docker", "compose", "-f", "compose.yaml", "config", "--format", "json"],
        capture_output=True, text=True, cwd=REPO, env=env, check=True,
    ).stdout  # fmt: skip

    assert named, looked_up.stderr[-3000:]
    assert set(named) == {json.loads(composes)["name"]}
