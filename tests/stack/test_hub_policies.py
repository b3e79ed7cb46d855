"""The hub's policies on a real engine, on a hub configured for one NVIDIA GPU on a machine
without one: the GPU decision reaches the engine as a real device request (which this engine,
like any host without the NVIDIA Container Toolkit, refuses), the CPU profile still works,
and the idle culler stops an idle server and keeps its work volume."""

from __future__ import annotations

import dockerlab
import hubdeploy
import pytest
from hubclient import HubUser

PASSWORD = "correct horse battery staple"
IDLE_TIMEOUT = 20  # seconds; the culler checks every 5


@pytest.fixture(scope="module")
def gpu_hub(cpu_lab_image, tmp_path_factory):
    hubdeploy.build_hub_image()
    settings = {
        "HUB_GPU_VENDOR": "nvidia",
        "HUB_GPUS": "0",
        # The CPU lab image stands in for the NVIDIA one: the engine refuses the device
        # request before any image would run.
        "HUB_GPU_LAB_IMAGE": cpu_lab_image,
        "HUB_IDLE_TIMEOUT": str(IDLE_TIMEOUT),
    }
    stack = hubdeploy.HubStack(dockerlab.make_workdir(tmp_path_factory, "gpuhub"), settings=settings)
    try:
        stack.up("hub")
        teacher = HubUser(stack.url, hubdeploy.ADMIN, PASSWORD)
        teacher.sign_up()
        teacher.log_in(start_server=False)
        assert teacher.logged_in
        students = {}
        for name in ("carol", "dave"):
            student = HubUser(stack.url, name, PASSWORD)
            student.sign_up()
            assert teacher.request("GET", f"/hub/authorize/{name}").status == 200
            student.log_in(start_server=False)
            assert student.logged_in
            student.create_token()
            students[name] = student
        yield stack, students
    finally:
        stack.down()


def test_a_gpu_students_server_asks_the_engine_for_that_gpu(gpu_hub):
    stack, students = gpu_hub
    carol = students["carol"]
    response = carol.api("POST", "/hub/api/users/carol/server")
    assert response.status in (201, 202, 500), response.body[:300]

    def spawn_failed():
        return carol.server() is None and 'could not select device driver "nvidia"' in stack.logs()

    dockerlab.wait_for(spawn_failed, timeout=120, what="the engine to refuse the NVIDIA device request")
    logs = stack.logs()
    assert "courselab: carol GPU 0, shared with 0 other student(s)" in logs


def test_the_cpu_profile_starts_on_the_cpu_image_on_a_gpu_hub(gpu_hub):
    stack, students = gpu_hub
    dave = students["dave"]
    dave.start_server(options={"profile": "cpu"})
    labels = dockerlab.run(["docker", "inspect", "--format", "{{json .Config.Labels}}", stack.container("dave")]).stdout
    assert '"courselab.hub.flavour":"cpu"' in labels
    assert "courselab: dave the CPU profile was chosen: CPU" in stack.logs()


def test_the_idle_culler_stops_an_idle_server_and_keeps_its_volume(gpu_hub):
    stack, students = gpu_hub
    dave = students["dave"]
    assert dave.put_file("before-cull.txt", "still here").status == 201
    if dave.server() is None:
        dave.start_server(options={"profile": "cpu"})
    dockerlab.wait_for(lambda: dave.server() is None, timeout=IDLE_TIMEOUT * 6, what="the idle culler")
    assert "idle-culler" in stack.logs()
    assert stack.container("dave") not in dockerlab.run(["docker", "ps", "-a", "--format", "{{.Names}}"]).stdout
    assert stack.volume("dave") in stack.students_volumes()
    dave.start_server(options={"profile": "cpu"})
    assert dave.get_file("dave", "before-cull.txt").json()["content"] == "still here"
