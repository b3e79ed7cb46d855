"""The image's own HEALTHCHECK and the login that opens only after the GPU check (labkit.health,
labkit.identity), in the real CPU image: JupyterLab itself, started the way the entrypoint
starts it, with the GPU check's result written by hand."""

from __future__ import annotations

import json
import uuid

import pytest
from dockerlab import TEST_GID, TEST_UID, free_port, http_get, make_workdir, run, wait_for
from labkit.entrypoint import CONTAINER_PATHS, lab_command


def test_the_image_declares_its_healthcheck(cpu_lab_image) -> None:
    config = json.loads(
        run(["docker", "image", "inspect", "--format", "{{json .Config.Healthcheck}}", cpu_lab_image]).stdout
    )

    assert config["Test"] == ["CMD", "python", "-P", "-S", "-m", "labkit", "health", "--wait", "15"]


@pytest.fixture
def bare_jupyter(cpu_lab_image, tmp_path_factory):
    """JupyterLab with the lab's options, no entrypoint: nothing passes the gate for it."""
    port = free_port()
    token = f"login-{uuid.uuid4().hex}"
    name = f"cltest-login-{uuid.uuid4().hex[:8]}"
    command = lab_command(python="/opt/lab-venv/bin/python", paths=CONTAINER_PATHS, host_port=str(port))
    run(
        [
            "docker", "run", "-d", "--rm", "--name", name,
            "--user", f"{TEST_UID}:{TEST_GID}",
            "-e", f"JUPYTER_TOKEN={token}",
            "-p", f"127.0.0.1:{port}:8888",
            "-v", f"{make_workdir(tmp_path_factory)}:/home/lab/work",
            "--entrypoint", command[0], cpu_lab_image, *command[1:],
        ]
    )  # fmt: skip
    try:
        wait_for(lambda: http_get(f"http://127.0.0.1:{port}/api")[0] == 200, timeout=120, what="JupyterLab's /api")
        yield name, port, token
    finally:
        run(["docker", "rm", "-f", name], check=False)


def test_no_login_before_the_gpu_check_passed_even_with_the_token(bare_jupyter) -> None:
    name, port, token = bare_jupyter
    status_url = f"http://127.0.0.1:{port}/api/status?token={token}"

    assert http_get(status_url)[0] == 403
    health = run(["docker", "exec", name, "python", "-P", "-S", "-m", "labkit", "health"], check=False)
    assert health.returncode == 1

    # What the entrypoint does when the check passes (labkit.runstate).
    run(["docker", "exec", name, "sh", "-c", "mkdir -p /tmp/labkit && echo lab > /tmp/labkit/mode"])
    run(["docker", "exec", name, "touch", "/tmp/labkit/gate-passed"])

    assert http_get(status_url)[0] == 200
    health = run(["docker", "exec", name, "python", "-P", "-S", "-m", "labkit", "health"], check=False)
    assert health.returncode == 0, health.stdout + health.stderr
    assert health.stdout == "JupyterLab answers and the GPU check passed\n"
