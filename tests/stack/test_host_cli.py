"""`scripts/lab` against the real engine, the way a student uses it: in their own copy of the
course folder, with their own .env. Bad settings stop it before anything starts."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import urllib.request
import uuid

import dockerlab
import pytest
import websocket
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


@pytest.mark.parametrize("project_from", [".env", "environment"])
def test_the_running_lab_is_found_under_the_project_name_compose_uses(checkout, tmp_path, project_from):
    # COMPOSE_PROJECT_NAME in .env or in the shell wins over compose.yaml's `name: courselab`
    # (compose's own rule): the host commands must ask Docker about that project too.
    student = checkout(project_from=project_from)
    assert student.lab("up").returncode == 0

    doctor = student.lab("doctor", "--json")
    port = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}["port"]
    again = student.lab("up")
    report = student.lab("report", "--no-gate", "-o", str(tmp_path / "report.txt"))

    assert port["status"] == "ok", port
    assert port["detail"] == f"port {student.port} is used by the running lab"
    assert doctor.returncode == 0, doctor.stdout
    assert again.returncode == 0, again.stderr
    assert "used by another program" not in again.stderr
    assert report.returncode == 0, report.stderr
    written = (tmp_path / "report.txt").read_text()
    assert f"port {student.port} is used by the running lab" in written
    assert "used by another program" not in written
    assert len(student.containers()) == 1


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
    # The kernel's count of the processes the OOM killer ended (labhost.memory); under memory
    # pressure it may end more than the hog (a health probe started at that moment), so the
    # count is at least one.
    killed = re.search(r"Out of memory: (\d+) process\(es\) in the lab were stopped", result.stderr)
    assert killed and int(killed.group(1)) >= 1, result.stderr
    assert "raise LAB_MEMORY_LIMIT (now 1g)" in result.stderr
    # The lab itself survived: only what asked for too much was ended.
    status, _ = dockerlab.http_get(f"http://127.0.0.1:{student.port}/api/status?token={student.token}")
    assert status == 200


def test_a_bad_env_stops_the_real_up_before_anything_starts_and_keeps_the_file(checkout):
    # The whole table of bad .env files runs in the host tier (tests/host/test_up_bad_env.py);
    # this one goes through the real command, engine and compose.
    student = checkout(HSA_OVERRIDE_GFX_VERSION="")
    before = (student.root / ".env").read_bytes()
    result = student.lab("up")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        ".env line 9: HSA_OVERRIDE_GFX_VERSION: is set but empty, and an empty override makes ROCm find no GPU "
        "at all. Fix: delete the line, or set the value the lab's doctor prints for your card.",
        "Nothing was started. Fix the line above, or run `scripts/lab setup`.",
    ]
    assert student.containers() == []
    assert (student.root / ".env").read_bytes() == before


def test_missing_work_folder_is_refused_not_created_as_root(checkout, tmp_path):
    missing = tmp_path / "gone"
    student = checkout(LAB_WORK_DIR=str(missing))
    result = student.lab("up")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{missing} does not exist (Docker would create it owned by root). "
        f"Fix: run `mkdir -p {missing}`. Nothing was started."
    ]
    assert student.containers() == []
    assert not missing.exists()


def test_plain_compose_refuses_a_missing_work_folder_with_dockers_own_message(checkout, tmp_path):
    # What a student without scripts/lab sees (docs/troubleshooting.md quotes it).
    missing = tmp_path / "gone"
    student = checkout(LAB_WORK_DIR=str(missing))
    result = subprocess.run(
        ["docker", "compose", "-p", student.project, "up", "-d", "lab"],
        cwd=student.root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert 'invalid mount config for type "bind": bind source path does not exist' in result.stderr
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
    assert "Starting JupyterLab" not in logs


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


@pytest.mark.parametrize("token_from", [".env", "generated"])
def test_a_malformed_terminal_message_leaves_no_token_in_the_labs_log(checkout, token_from):
    # tornado logs the request of an uncaught websocket error with its URL, token included,
    # and Jupyter hides tokens in its access log only. The start's URL line is the one place
    # the token is shown on purpose.
    student = checkout(**({"JUPYTER_TOKEN": ""} if token_from == "generated" else {}))
    started = student.lab("up")
    assert started.returncode == 0, started.stdout + started.stderr
    token = re.search(r"/lab\?token=([\w-]+)", started.stdout)[1]
    assert token_from == ".env" or token != student.token
    terminal = urllib.request.Request(
        f"http://127.0.0.1:{student.port}/api/terminals", method="POST", headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(terminal, timeout=30) as answer:  # noqa: S310 - loopback only
        name = json.loads(answer.read())["name"]
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{student.port}/terminals/websocket/{name}?token={token}", timeout=30
    )
    try:
        ws.send("not a terminado message")
        logs = dockerlab.wait_for(
            lambda: (
                (done := student.lab("logs")) and "Uncaught exception GET /terminals/websocket/" in done.stdout and done
            ),
            timeout=30,
            what="tornado's uncaught exception line",
        ).stdout
    finally:
        ws.close()
    assert f"Uncaught exception GET /terminals/websocket/{name}?token=[secret]" in logs
    assert "json.decoder.JSONDecodeError" in logs
    shown = [line for line in logs.splitlines() if token in line]
    assert len(shown) == 1, shown
    assert shown[0].endswith(f"[lab]     http://127.0.0.1:{student.port}/lab?token={token}")
