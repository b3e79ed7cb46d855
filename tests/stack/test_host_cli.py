"""`scripts/lab` against the real engine, the way a student uses it: in their own copy of the
course folder, with their own .env. Bad settings stop it before anything starts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid

import dockerlab
import pytest
from clicheckout import checkout_fixture  # noqa: F401 - the fixture `checkout`
from dockerlab import make_workdir


def test_up_starts_the_cpu_lab_prints_the_plain_command_and_the_url(checkout):
    student = checkout()
    result = student.lab("up")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "$ docker compose -f compose.yaml up -d --wait" in result.stdout
    assert f"http://127.0.0.1:{student.port}/lab?token={student.token}" in result.stdout
    status, _ = dockerlab.http_get(f"http://127.0.0.1:{student.port}/api/status?token={student.token}")
    assert status == 200
    down = student.lab("down")
    assert down.returncode == 0
    assert "$ docker compose -f compose.yaml down" in down.stdout
    assert student.containers() == []


def test_a_process_killed_for_memory_is_reported_by_ps(checkout):
    student = checkout(LAB_MEMORY_LIMIT="1g")
    assert student.lab("up").returncode == 0
    hog = subprocess.run(
        ["docker", "compose", "-p", student.project, "exec", "-T", "lab", "python", "-c", "b = bytearray(3 * 1024**3)"],
        cwd=student.root,
        capture_output=True,
        text=True,
    )
    assert hog.returncode == 137  # SIGKILL from the kernel's OOM killer
    result = dockerlab.wait_for(
        lambda: (done := student.lab("ps")) and "Out of memory" in done.stderr and done,
        timeout=30,
        what="the out-of-memory note",
    )
    assert "1 process(es) in the lab were stopped" in result.stderr
    assert "raise LAB_MEMORY_LIMIT (now 1g)" in result.stderr


BAD_ENV = [
    ("override-malformed", {"HSA_OVERRIDE_GFX_VERSION": "10.3"}, "HSA_OVERRIDE_GFX_VERSION"),
    ("override-empty", {"HSA_OVERRIDE_GFX_VERSION": ""}, "HSA_OVERRIDE_GFX_VERSION"),
    ("override-gfx-name", {"HSA_OVERRIDE_GFX_VERSION": "gfx1031"}, "HSA_OVERRIDE_GFX_VERSION"),
    ("allow-growth-yes", {"TF_FORCE_GPU_ALLOW_GROWTH": "yes"}, "TF_FORCE_GPU_ALLOW_GROWTH"),
    ("uid-name", {"LAB_UID": "student"}, "LAB_UID"),
    ("uid-root", {"LAB_UID": "0"}, "LAB_UID"),
    ("gid-negative", {"LAB_GID": "-1"}, "LAB_GID"),
    ("render-gid-name", {"LAB_RENDER_GID": "render"}, "LAB_RENDER_GID"),
    ("port-out-of-range", {"LAB_PORT": "70000"}, "LAB_PORT"),
    ("token-too-short", {"JUPYTER_TOKEN": "abc123"}, "JUPYTER_TOKEN"),
    ("flavour-unknown", {"LAB_FLAVOUR": "intel"}, "LAB_FLAVOUR"),
    ("image-malformed", {"LAB_IMAGE": "Course Lab:latest"}, "LAB_IMAGE"),
    ("bind-hostname", {"LAB_BIND_ADDRESS": "my-laptop"}, "LAB_BIND_ADDRESS"),
    ("memory-word", {"LAB_MEMORY_LIMIT": "lots"}, "LAB_MEMORY_LIMIT"),
    ("pids-too-few", {"LAB_PIDS_LIMIT": "5"}, "LAB_PIDS_LIMIT"),
    ("both-visible-device-filters", {"ROCR_VISIBLE_DEVICES": "0", "HIP_VISIBLE_DEVICES": "0"}, "HIP_VISIBLE_DEVICES"),
    ("equal-gpu-groups", {"LAB_VIDEO_GID": "110", "LAB_RENDER_GID": "110"}, "LAB_VIDEO_GID"),
]


@pytest.mark.parametrize(("settings", "key"), [c[1:] for c in BAD_ENV], ids=[c[0] for c in BAD_ENV])
def test_bad_env_stops_before_anything_starts_and_keeps_the_file(checkout, settings, key):
    student = checkout(**settings)
    before = (student.root / ".env").read_bytes()
    result = student.lab("up")
    assert result.returncode != 0
    problem_lines = [line for line in result.stderr.splitlines() if key in line]
    assert len(problem_lines) >= 1
    assert "Nothing was started" in result.stderr
    assert student.containers() == []
    assert (student.root / ".env").read_bytes() == before


def test_missing_work_folder_is_refused_by_compose_not_created_as_root(checkout, tmp_path):
    missing = tmp_path / "no such folder"
    student = checkout(LAB_WORK_DIR=str(missing))
    result = student.lab("up")
    assert result.returncode != 0
    assert "no such folder" in result.stderr or "does not exist" in result.stderr
    assert not missing.exists()


def test_rocm_on_a_host_without_the_gpu_devices_stops_before_anything_starts(checkout):
    # The group ids are optional now (a device open to everyone needs none); what this host
    # lacks is /dev/kfd itself, and `up` says so before compose builds or starts anything.
    student = checkout(LAB_FLAVOUR="rocm")
    result = student.lab("up")
    assert result.returncode == 1
    assert "missing: /dev/kfd" in result.stderr
    assert "Nothing was started" in result.stderr
    assert student.containers() == []


def test_the_disk_need_comes_from_the_base_the_engine_holds(checkout, standin_images):
    # The ROCm stand-in base is in the engine, the lab image not yet: only the lab layer has to
    # fit. A base the engine lacks makes the doctor ask for the whole image. Worded so it holds
    # whatever this machine has free.
    never_built = f"courselab.invalid/lab:never-built-{uuid.uuid4().hex[:8]}"
    base_here = checkout(LAB_FLAVOUR="rocm", LAB_ROCM_BASE_IMAGE=standin_images["rocm"], LAB_ROCM_IMAGE=never_built)
    no_base = checkout(
        LAB_FLAVOUR="rocm",
        LAB_ROCM_BASE_IMAGE=f"courselab.invalid/base:absent-{uuid.uuid4().hex[:8]}",
        LAB_ROCM_IMAGE=never_built,
    )

    def disk_line(student) -> str:
        result = student.lab("doctor", "--json")
        return {c["name"]: c["detail"] for c in json.loads(result.stdout)["checks"]}["disk"]

    assert "the lab layer on the rocm base already here needs about 3 GB" in disk_line(base_here)
    assert "the rocm image (its base and the lab layer) needs about 45 GB" in disk_line(no_base)


def test_unwritable_work_folder_stops_the_lab_with_the_fix(checkout, tmp_path_factory):
    workdir = make_workdir(tmp_path_factory)
    os.chown(workdir, 0, 0)
    workdir.chmod(0o755)
    student = checkout(LAB_WORK_DIR=str(workdir))
    result = student.lab("up")
    assert result.returncode != 0
    logs = student.lab("logs").stdout
    assert "is not writable by user 4242" in logs
    assert "JupyterLab is starting" not in logs


def test_port_in_use_is_one_line_with_the_fix_and_nothing_starts(checkout):
    student = checkout()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", student.port))
        taken.listen()
        result = student.lab("up")
    assert result.returncode == 1
    assert f"port {student.port} is used by another program" in result.stderr
    assert "set LAB_PORT=" in result.stderr
    assert student.containers() == []


def test_no_docker_on_the_path_is_one_line_and_nothing_starts(checkout, tmp_path):
    student = checkout()
    result = student.lab("up", path=str(tmp_path / "empty-bin"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "the docker command is not installed" in lines[0]
    assert "Nothing was started" in result.stderr
    assert student.containers() == []
