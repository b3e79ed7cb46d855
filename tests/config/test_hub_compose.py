"""deploy/compose.yaml through the real `docker compose config`: what a department gets by
default, the refusal without the two required settings, and one list of HUB_* variables
shared by the compose file, deploy/.env.example and the hub's settings reader."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "deploy" / "compose.yaml"
ENV_EXAMPLE = REPO / "deploy" / ".env.example"
SETTINGS = REPO / "deploy" / "hub" / "courselab_hub" / "settings.py"
PASSED_THROUGH = ("PATH", "HOME", "LANG", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "XDG_RUNTIME_DIR")
REQUIRED = "HUB_LAB_IMAGE=courselab/lab:2.20.0-cpu\nHUB_ADMIN_USERS=teacher\n"


def render(tmp_path: Path, dotenv: str) -> subprocess.CompletedProcess:
    env_file = tmp_path / f"{uuid.uuid4().hex[:8]}.env"
    env_file.write_text(dotenv)
    command = ["docker", "compose", "--project-name", f"courselab-cfgtest-{uuid.uuid4().hex[:10]}"]
    command += ["-f", str(COMPOSE), "--env-file", str(env_file), "config", "--format", "json"]
    process_env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    return subprocess.run(command, capture_output=True, text=True, env=process_env, cwd=REPO, timeout=60)


@pytest.fixture
def hub_model(compose_cli, tmp_path):
    result = render(tmp_path, REQUIRED)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_hub_listens_on_this_computer_only_by_default(hub_model):
    ports = hub_model["services"]["hub"]["ports"]
    assert [(p["host_ip"], p["published"], p["target"]) for p in ports] == [("127.0.0.1", "8000", 8000)]


def test_only_the_hub_gets_the_docker_socket_and_its_data_is_a_volume(hub_model):
    mounts = {m["target"]: m for m in hub_model["services"]["hub"]["volumes"]}
    assert mounts["/var/run/docker.sock"]["source"] == "/var/run/docker.sock"
    assert mounts["/srv/jupyterhub/data"]["type"] == "volume"
    assert mounts["/srv/jupyterhub/config.d"]["read_only"] is True
    assert list(hub_model["services"]) == ["hub"]


def test_the_hubs_network_has_a_fixed_name_and_students_get_their_own_from_a_block(hub_model):
    environment = hub_model["services"]["hub"]["environment"]
    assert hub_model["networks"]["default"]["name"] == environment["HUB_NETWORK"] == "courselab-hub"
    assert environment["HUB_STUDENT_SUBNETS"] == "172.29.0.0/16"


def test_the_hub_learns_its_published_port_for_its_default_address(hub_model):
    """HUB_PUBLIC_URL empty: the hub makes it http://hub.localhost:HUB_PORT (settings.py)."""
    environment = hub_model["services"]["hub"]["environment"]
    assert environment["HUB_PUBLIC_URL"] == ""
    assert environment["HUB_PORT"] == "8000"


def test_the_hub_has_a_healthcheck(hub_model):
    assert "/hub/health" in " ".join(hub_model["services"]["hub"]["healthcheck"]["test"])


@pytest.mark.parametrize("missing", ["HUB_LAB_IMAGE", "HUB_ADMIN_USERS"])
def test_a_missing_required_setting_stops_compose_with_a_readable_line(compose_cli, tmp_path, missing):
    dotenv = "".join(line + "\n" for line in REQUIRED.splitlines() if not line.startswith(missing))
    result = render(tmp_path, dotenv)
    assert result.returncode != 0
    assert f"Set {missing} in deploy/.env" in result.stderr


def test_the_example_env_renders_and_its_values_reach_the_hub(compose_cli, tmp_path):
    result = render(tmp_path, ENV_EXAMPLE.read_text())
    assert result.returncode == 0, result.stderr
    environment = json.loads(result.stdout)["services"]["hub"]["environment"]
    assert environment["HUB_GATE_TIMEOUT"] == "300"
    assert environment["HUB_MEM_LIMIT"] == "2G"


def variables(text: str) -> set[str]:
    return set(re.findall(r"\bHUB_[A-Z_]+\b", text))


def test_one_list_of_settings_in_compose_env_example_and_the_reader():
    compose = variables(COMPOSE.read_text())
    example = {line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines() if line.startswith("HUB_")}
    read = variables(SETTINGS.read_text())
    # HUB_HOST is fixed by the compose file (the service's name); the rest are the department's.
    assert compose - {"HUB_HOST"} == example
    assert read <= compose
