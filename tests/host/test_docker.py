"""The Docker CLI's real outputs (recorded), parsed into what the doctor needs."""

from __future__ import annotations

import json

import pytest
from fakehost import DOCKER, FakeDocker, recorded
from labhost import docker, imagestore
from labhost.docker import Completed


def test_a_working_engine_is_usable() -> None:
    facts = docker.gather(FakeDocker())

    assert facts.usable
    assert facts.client_version == "28.2.2"
    assert facts.server_version == "20.10.24+dfsg1"
    assert facts.compose_version == "2.40.3"
    assert facts.rootless is False
    assert facts.root_dir == "/var/lib/docker"
    assert "runc" in facts.runtimes


def test_permission_denied_means_the_user_is_not_in_the_docker_group() -> None:
    facts = docker.gather(FakeDocker(engine="denied"))

    assert not facts.usable
    assert facts.problem == "permission"
    assert facts.client_version == "28.2.2"
    assert "permission denied while trying to connect to the Docker daemon socket" in facts.problem_text


def test_cannot_connect_means_the_engine_is_not_running() -> None:
    facts = docker.gather(FakeDocker(engine="stopped"))

    assert facts.problem == "not-running"
    assert facts.problem_text.startswith("Cannot connect to the Docker daemon")


def test_no_docker_cli_at_all() -> None:
    facts = docker.gather(lambda argv: Completed(127, "", "docker: command not found"))

    assert not facts.cli_installed
    assert facts.problem == "not-installed"


def test_rootless_engine_is_detected_from_its_security_options() -> None:
    run = FakeDocker({("docker", "info"): recorded("info-rootless")})

    assert docker.gather(run).rootless is True


def test_compose_v1_or_missing_plugin_gives_no_version() -> None:
    run = FakeDocker({("docker", "compose"): Completed(1, "", "docker: 'compose' is not a docker command.")})

    assert docker.gather(run).compose_version is None


@pytest.mark.parametrize(
    ("text", "version"),
    [("2.40.3\n", "2.40.3"), ("v2.29.7\n", "2.29.7"), ("", None), ("Usage: docker", None)],
    ids=["plain", "v-prefix", "empty", "garbage"],
)
def test_compose_short_version(text: str, version: str | None) -> None:
    assert docker.parse_compose_version(text) == version


@pytest.mark.parametrize(
    ("text", "parts"),
    [("2.40.3", (2, 40, 3)), ("20.10.24+dfsg1", (20, 10, 24)), ("2.3.3-desktop.1", (2, 3, 3))],
)
def test_version_tuple(text: str, parts: tuple[int, ...]) -> None:
    assert docker.version_tuple(text) == parts


def test_image_labels_of_a_missing_image_are_none() -> None:
    assert docker.image_labels(FakeDocker(), "courselab/lab:absent") is None


def test_image_labels_are_read_from_inspect_json() -> None:
    run = FakeDocker({("docker", "image", "inspect"): Completed(0, '{"io.courselab.flavour":"rocm"}\n')})

    assert docker.image_labels(run, "courselab/lab:rocm") == {"io.courselab.flavour": "rocm"}


@pytest.mark.parametrize(
    "recording,project",
    [("compose-config-cpu.json", "courselab"), ("compose-config-cpu-mylab.json", "mylab")],
    ids=["name-in-compose-yaml", "COMPOSE_PROJECT_NAME-in-env-file"],
)
def test_the_project_name_is_the_one_composes_model_gives(recording, project) -> None:
    assert docker.project_name((DOCKER / recording).read_text()) == project


@pytest.mark.parametrize("answer", ["", "no configuration file provided: not found", "[]", '{"name": 3}'])
def test_no_project_name_when_compose_gives_no_model(answer) -> None:
    assert docker.project_name(answer) is None


def test_the_ports_of_a_project_are_asked_by_its_compose_label() -> None:
    engine = FakeDocker({("docker", "ps"): Completed(0, "127.0.0.1:8888->8888/tcp\n")})
    assert docker.published_ports(engine, "mylab") == "127.0.0.1:8888->8888/tcp"
    assert engine.calls == [
        ["docker", "ps", "--filter", "label=com.docker.compose.project=mylab", "--format", "{{.Ports}}"]
    ]


# Debian 13's Engine 26 with its own docker CLI, recorded once per image store
# (tests/host/fixtures/README.md): the facts the doctor reads mean the same on both.
ENGINE_26 = {
    "default": ("engine-26", "/var/lib/courselab-e26", "/var/lib/courselab-e26"),
    "containerd": ("engine-26-containerd", "/var/lib/courselab-e26c", "/var/lib/courselab-e26c/containerd/daemon"),
}


@pytest.mark.parametrize("store", ENGINE_26)
def test_engine_26_is_read_on_both_image_stores(store: str) -> None:
    name, root, images = ENGINE_26[store]
    run = FakeDocker({("docker", "version"): recorded(f"version-{name}"), ("docker", "info"): recorded(f"info-{name}")})

    facts = docker.gather(run)

    assert (facts.client_version, facts.server_version) == ("26.1.5+dfsg1", "26.1.5+dfsg1")
    assert facts.rootless is False
    assert facts.root_dir == root
    assert {"runc", "io.containerd.runc.v2"} <= set(facts.runtimes)
    assert facts.cdi_spec_dirs == ()
    assert facts.architecture == "x86_64"
    assert facts.mem_total and facts.mem_total > 10**9
    found = imagestore.decide(json.loads(recorded(f"info-{name}").stdout), system_socket_exists=False,
                              containerd_config=None)  # fmt: skip
    assert (found.containerd, found.image_dir) == (store == "containerd", images)
