"""The GPU overlays on a machine without a GPU: what a student sees when the hardware or
the host setup is missing. No GPU driver exists here, so this proves the refusal path
(the gate's diagnosis, the exit code, JupyterLab never started), not that a GPU works."""

from __future__ import annotations

import json
import os
import stat

import dockerlab
import pytest
from dockerlab import ROCM_LAB_IMAGE, Stack, make_workdir, standins

RENDER_GID = 110  # the host's render group, as on many Ubuntu machines


VIDEO_GID = 44  # older hosts give /dev/kfd to the video group


def fake_device(path, *, gid: int = RENDER_GID, mode: int = 0o660):
    """A character device node where /dev/kfd or a render node would be. It is /dev/null's
    device (1:3): the container sees the paths the ROCm overlay passes, with no driver.
    Owned root:render, mode 0660, like the real nodes: Docker copies owner and mode into the
    container, so only the numeric group_add lets the non-root lab user open them."""
    os.mknod(path, stat.S_IFCHR | mode, os.makedev(1, 3))
    os.chown(path, 0, gid)
    os.chmod(path, mode)
    return path


# Each host layout: the two device nodes (group, mode) and the group ids .env gives the lab.
LAYOUTS = {
    # Current hosts: both nodes belong to the render group, so no LAB_KFD_GID.
    "render-gid": {"kfd": (RENDER_GID, 0o660), "settings": {"LAB_RENDER_GID": "110"}},
    "render-gid-wrong": {"kfd": (RENDER_GID, 0o660), "settings": {"LAB_RENDER_GID": "111"}},
    # Older hosts: /dev/kfd in video, named by the current or the old variable, or not at all.
    "kfd-in-video": {"kfd": (VIDEO_GID, 0o660), "settings": {"LAB_RENDER_GID": "110", "LAB_KFD_GID": "44"}},
    "kfd-in-video-old-name": {"kfd": (VIDEO_GID, 0o660), "settings": {"LAB_RENDER_GID": "110", "LAB_VIDEO_GID": "44"}},
    "kfd-group-not-given": {"kfd": (VIDEO_GID, 0o660), "settings": {"LAB_RENDER_GID": "110"}},
    # /dev/kfd left crw-rw-rw- root:root (issue 11): only the render group, and no group 0.
    "kfd-open-to-everyone": {"kfd": (0, 0o666), "settings": {"LAB_RENDER_GID": "110"}},
}


@pytest.fixture(params=["render-gid"])
def rocm_stack(request, rocm_lab_image, tmp_path_factory, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("creating device nodes needs root")
    layout = LAYOUTS[request.param]
    kfd_gid, kfd_mode = layout["kfd"]
    kfd = fake_device(tmp_path / "kfd", gid=kfd_gid, mode=kfd_mode)
    render = fake_device(tmp_path / "renderD128")
    # Test-only overlay: the real compose.rocm.yaml passes the host's /dev/kfd and /dev/dri,
    # which do not exist here; swap in the fake nodes at the same container paths.
    overlay = tmp_path / "fake-gpu.yaml"
    overlay.write_text(
        f"services:\n  lab:\n    devices: !override ['{kfd}:/dev/kfd', '{render}:/dev/dri/renderD128']\n"
    )
    settings = {
        "LAB_ROCM_IMAGE": ROCM_LAB_IMAGE,
        "LAB_ROCM_BASE_IMAGE": standins.ROCM_IMAGE,
        **layout["settings"],
    }
    files = ["compose.yaml", "compose.rocm.yaml", str(overlay)]
    stack = Stack(make_workdir(tmp_path_factory), files=files, settings=settings)
    try:
        yield stack
    finally:
        stack.down()


def test_rocm_overlay_without_a_working_gpu_refuses_to_start_the_lab(rocm_stack):
    result = rocm_stack.compose("up", "-d", "--wait", "--wait-timeout", "120", "lab", check=False)
    logs = rocm_stack.logs()
    assert result.returncode != 0
    assert "Checking TensorFlow and the GPU (rocm lab" in logs
    assert "ERROR: TensorFlow sees no GPU." in logs
    assert "More: docs/troubleshooting.md#tensorflow-sees-no-gpu" in logs
    assert "The lab is ready" not in logs
    assert "/lab?token=" not in logs


def test_rocm_gate_exits_non_zero_and_sees_the_device_files(rocm_stack):
    result = rocm_stack.compose("run", "--rm", "--no-deps", "lab", "check", "--json", check=False)
    assert result.returncode == 3
    data = json.loads(result.stdout[result.stdout.index("{") :])
    assert data["devices"]["/dev/kfd"] == "ok"
    assert data["devices"]["/dev/dri/renderD128"] == "ok"
    assert data["verdict"]["status"] == "fail"


@pytest.mark.parametrize("rocm_stack", ["render-gid-wrong"], indirect=True)
def test_wrong_render_gid_is_diagnosed_as_a_permission_problem(rocm_stack):
    result = rocm_stack.compose("run", "--rm", "--no-deps", "lab", "check", check=False)
    assert result.returncode == 3
    assert "ERROR: The container is not allowed to open the AMD GPU devices." in result.stdout
    assert "LAB_RENDER_GID" in result.stdout


@pytest.mark.parametrize(
    ("rocm_stack", "notice"),
    [
        pytest.param("kfd-in-video", False, id="LAB_KFD_GID"),
        pytest.param("kfd-in-video-old-name", True, id="old-name-LAB_VIDEO_GID"),
    ],
    indirect=["rocm_stack"],
)
def test_a_kfd_group_of_its_own_opens_dev_kfd_by_either_name(rocm_stack, notice):
    # compose.rocm.yaml reads the old name through the nested default of LAB_KFD_GID.
    result = rocm_stack.compose("run", "--rm", "--no-deps", "lab", "check", "--json", check=False)
    data = json.loads(result.stdout[result.stdout.index("{") :])
    assert data["devices"] == {"/dev/kfd": "ok", "/dev/dri/renderD128": "ok"}
    said = "NOTICE: LAB_VIDEO_GID is the old name of LAB_KFD_GID: rename it in .env" in result.stdout
    assert said is notice


@pytest.mark.parametrize("rocm_stack", ["kfd-group-not-given"], indirect=True)
def test_without_the_kfd_group_dev_kfd_is_closed_and_the_fix_names_lab_kfd_gid(rocm_stack):
    result = rocm_stack.compose("run", "--rm", "--no-deps", "lab", "check", check=False)
    assert result.returncode == 3
    assert "ERROR: The container is not allowed to open the AMD GPU devices." in result.stdout
    assert "LAB_KFD_GID to the number `stat -c %g /dev/kfd` prints" in result.stdout


@pytest.mark.parametrize("rocm_stack", ["kfd-open-to-everyone"], indirect=True)
def test_world_writable_kfd_opens_with_the_render_group_alone_and_no_group_0(rocm_stack):
    # A real `up`: Docker accepts the group list (an empty item would be "Unable to find
    # group"), the container starts and its gate runs.
    up = rocm_stack.compose("up", "-d", "lab", check=False)
    assert up.returncode == 0, up.stderr
    assert "Checking TensorFlow and the GPU (rocm lab" in dockerlab.wait_for(
        lambda: (logs := rocm_stack.logs()) and "Checking TensorFlow" in logs and logs, timeout=60, what="the gate"
    )
    result = rocm_stack.compose("run", "--rm", "--no-deps", "--entrypoint", "id", "lab", "-G", check=False)
    assert result.returncode == 0, result.stderr
    groups = result.stdout.split()
    assert "110" in groups
    assert "0" not in groups
    check = rocm_stack.compose("run", "--rm", "--no-deps", "lab", "check", "--json", check=False)
    data = json.loads(check.stdout[check.stdout.index("{") :])
    assert data["devices"]["/dev/kfd"] == "ok"
    assert data["devices"]["/dev/dri/renderD128"] == "ok"


def test_rocm_overlay_on_a_host_without_the_amdgpu_driver_fails_at_start(rocm_lab_image, tmp_path_factory):
    # The real overlay on this machine, which has no /dev/kfd: Docker itself refuses.
    settings = {"LAB_ROCM_IMAGE": ROCM_LAB_IMAGE, "LAB_RENDER_GID": "110"}
    stack = Stack(make_workdir(tmp_path_factory), files=["compose.yaml", "compose.rocm.yaml"], settings=settings)
    try:
        result = stack.compose("up", "-d", "lab", check=False)
        assert result.returncode != 0
        assert "/dev/kfd" in result.stderr
    finally:
        stack.down()


def test_nvidia_overlay_without_the_container_toolkit_fails_with_dockers_message(cuda_lab_image, tmp_path_factory):
    settings = {"LAB_NVIDIA_IMAGE": cuda_lab_image, "LAB_NVIDIA_BASE_IMAGE": standins.CUDA_IMAGE}
    stack = Stack(make_workdir(tmp_path_factory), files=["compose.yaml", "compose.nvidia.yaml"], settings=settings)
    try:
        result = stack.compose("up", "-d", "lab", check=False)
        assert result.returncode != 0
        assert 'could not select device driver "nvidia" with capabilities: [[gpu]]' in result.stderr
    finally:
        stack.down()
