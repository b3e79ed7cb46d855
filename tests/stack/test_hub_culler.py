"""The idle culler on a real hub: a server nobody uses is stopped after HUB_IDLE_TIMEOUT,
its container goes, its work volume stays with the work in it."""

from __future__ import annotations

import dockerlab
import hubdeploy
import pytest
from hubclient import HubUser

PASSWORD = "correct horse battery staple"
IDLE_TIMEOUT = 10  # seconds (the least HUB_IDLE_TIMEOUT allows); the culler then checks every 5


@pytest.fixture(scope="module")
def culling_hub(cpu_lab_image, tmp_path_factory):
    with hubdeploy.running_hub(tmp_path_factory, "cullhub", {"HUB_IDLE_TIMEOUT": str(IDLE_TIMEOUT)}) as stack:
        yield stack


def test_the_idle_culler_stops_an_idle_server_and_keeps_its_volume(culling_hub):
    stack = culling_hub
    teacher = HubUser(stack.url, hubdeploy.ADMIN, PASSWORD)
    teacher.sign_up()
    teacher.log_in()  # starts the server
    teacher.create_token()
    teacher.wait_usable()
    assert teacher.put_file("before-cull.txt", "still here").status == 201
    dockerlab.wait_for(lambda: teacher.server() is None, timeout=IDLE_TIMEOUT * 9, what="the idle culler")
    assert "idle-culler" in stack.logs()
    # Docker removes the stopped container (auto_remove) a moment after the hub reports it.
    dockerlab.wait_for(
        lambda: (
            stack.container(hubdeploy.ADMIN)
            not in dockerlab.run(["docker", "ps", "-a", "--format", "{{.Names}}"]).stdout
        ),
        timeout=120,
        what="Docker to remove the culled container",
    )
    # The volume, with the file, stays (test_hub_deploy shows a new server finds such work).
    assert stack.volume(hubdeploy.ADMIN) in stack.students_volumes()
    listing = dockerlab.run(
        [
            "docker",
            "run",
            "--rm",
            "--entrypoint",
            "ls",
            "-v",
            f"{stack.volume(hubdeploy.ADMIN)}:/w",
            dockerlab.CPU_LAB_IMAGE,
            "/w",
        ]
    ).stdout
    assert "before-cull.txt" in listing.split()
