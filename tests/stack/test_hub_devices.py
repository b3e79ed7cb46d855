"""A GPU student's container plan (deploy/hub/courselab_hub/plan.py) sent to the real engine
through docker-py, the client DockerSpawner uses. This engine has no GPU, no NVIDIA
Container Toolkit and no /dev/kfd, so it refuses to start either container, and how it
refuses proves what reached it: a device request for the nvidia driver, and the AMD device
files. (Whether TensorFlow then uses the card is for a real GPU server.)"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import dockerlab
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "hub"))

from courselab_hub.assign import Assignment  # noqa: E402
from courselab_hub.plan import spawn_plan  # noqa: E402
from courselab_hub.settings import from_env  # noqa: E402

BASE = {"HUB_ADMIN_USERS": "teacher", "HUB_GPU_LAB_IMAGE": "unused"}


@pytest.fixture
def engine(cpu_lab_image):
    import docker

    client = docker.APIClient(version="auto")
    made: list[str] = []
    yield client, made
    for container in made:
        client.remove_container(container, force=True, v=True)


def start_planned(engine, env: dict, assignment: Assignment) -> str:
    """Create and start a container with the plan's host config; the engine's refusal."""
    import docker

    client, made = engine
    plan = spawn_plan(assignment, from_env({**BASE, **env}))
    container = client.create_container(
        image=dockerlab.CPU_LAB_IMAGE,
        name=f"cltest-dev-{uuid.uuid4().hex[:8]}",
        command=["check"],
        environment=plan.environment,
        labels=plan.labels,
        host_config=client.create_host_config(**plan.host_config),
    )
    made.append(container["Id"])
    with pytest.raises(docker.errors.APIError) as refused:
        client.start(container["Id"])
    return str(refused.value)


def test_an_nvidia_server_reaches_the_engine_as_a_device_request(engine):
    env = {"HUB_LAB_IMAGE": dockerlab.CPU_LAB_IMAGE, "HUB_GPU_VENDOR": "nvidia", "HUB_GPUS": "0"}
    message = start_planned(engine, env, Assignment("ann", "nvidia", "0", "r"))
    assert 'could not select device driver "nvidia" with capabilities: [[gpu]]' in message


def test_a_rocm_server_reaches_the_engine_with_kfd_and_its_render_node(engine):
    env = {
        "HUB_LAB_IMAGE": dockerlab.CPU_LAB_IMAGE,
        "HUB_GPU_VENDOR": "rocm",
        "HUB_GPUS": "renderD129",
        "HUB_RENDER_GID": "110",
    }
    message = start_planned(engine, env, Assignment("ann", "rocm", "renderD129", "r"))
    assert "/dev/kfd" in message
    assert "no such file or directory" in message
