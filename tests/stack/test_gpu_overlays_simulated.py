"""The GPU overlays on a machine without a GPU: what a student sees when the hardware or
the host setup is missing. No GPU driver exists here, so this proves the refusal path
(the gate's diagnosis, the exit code, JupyterLab never started), not that a GPU works."""

from __future__ import annotations

import json
import os
import stat

import pytest
from dockerlab import ROCM_LAB_IMAGE, Stack, make_workdir, standins

RENDER_GID = 110  # the host's render group, as on many Ubuntu machines


def fake_device(path):
    """A character device node where /dev/kfd or a render node would be. It is /dev/null's
    device (1:3): the container sees the paths the ROCm overlay passes, with no driver.
    Owned root:render, mode 0660, like the real nodes: Docker copies owner and mode into the
    container, so only the numeric group_add lets the non-root lab user open them."""
    os.mknod(path, stat.S_IFCHR | 0o660, os.makedev(1, 3))
    os.chown(path, 0, RENDER_GID)
    os.chmod(path, 0o660)
    return path


@pytest.fixture(params=[{"LAB_RENDER_GID": str(RENDER_GID)}])
def rocm_stack(request, rocm_lab_image, tmp_path_factory, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("creating device nodes needs root")
    kfd = fake_device(tmp_path / "kfd")
    render = fake_device(tmp_path / "renderD128")
    # Test-only overlay: the real compose.rocm.yaml passes the host's /dev/kfd and /dev/dri,
    # which do not exist here; swap in the fake nodes at the same container paths.
    overlay = tmp_path / "fake-gpu.yaml"
    overlay.write_text(
        "services:\n"
        "  lab:\n"
        f"    devices: !override ['{kfd}:/dev/kfd', '{render}:/dev/dri/renderD128']\n"
    )
    # Both nodes belong to the render group, as on current hosts: LAB_KFD_GID stays out.
    settings = {"LAB_ROCM_IMAGE": ROCM_LAB_IMAGE, "LAB_ROCM_BASE_IMAGE": standins.ROCM_IMAGE, **request.param}
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
    assert "JupyterLab is starting" not in logs


def test_rocm_gate_exits_non_zero_and_sees_the_device_files(rocm_stack):
    result = rocm_stack.compose("run", "--rm", "--no-deps", "lab", "check", "--json", check=False)
    assert result.returncode == 3
    data = json.loads(result.stdout[result.stdout.index("{") :])
    assert data["devices"]["/dev/kfd"] == "ok"
    assert data["devices"]["/dev/dri/renderD128"] == "ok"
    assert data["verdict"]["status"] == "fail"


@pytest.mark.parametrize("rocm_stack", [{"LAB_RENDER_GID": "111"}], indirect=True, ids=["render-gid-wrong"])
def test_wrong_render_gid_is_diagnosed_as_a_permission_problem(rocm_stack):
    result = rocm_stack.compose("run", "--rm", "--no-deps", "lab", "check", check=False)
    assert result.returncode == 3
    assert "ERROR: The container is not allowed to open the AMD GPU devices." in result.stdout
    assert "LAB_RENDER_GID" in result.stdout


@pytest.mark.parametrize(
    "rocm_stack", [{"LAB_RENDER_GID": "111", "LAB_VIDEO_GID": str(RENDER_GID)}], indirect=True, ids=["old-name"]
)
def test_the_old_name_lab_video_gid_still_opens_dev_kfd_with_a_notice(rocm_stack):
    # compose.rocm.yaml reads it through the nested default of LAB_KFD_GID: here it is the
    # only group that opens /dev/kfd (the render group number is wrong on purpose).
    result = rocm_stack.compose("run", "--rm", "--no-deps", "lab", "check", "--json", check=False)
    data = json.loads(result.stdout[result.stdout.index("{") :])
    assert data["devices"]["/dev/kfd"] == "ok"
    assert data["devices"]["/dev/dri/renderD128"] == "denied"
    assert "NOTICE: LAB_VIDEO_GID is the old name of LAB_KFD_GID: rename it in .env" in result.stdout


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
