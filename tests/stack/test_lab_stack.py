"""The CPU lab on a real engine: auth, the printed URL, a notebook run through the server's
kernel, file ownership, persistence across `down -v`, the train profile, and the start: the
image's health check (compose tunes only its timing) and the URL after the GPU check."""

from __future__ import annotations

import json
import uuid

import dockerlab
from jupyter_kernel import run_notebook_in_kernel


def test_api_answers_with_the_token(lab_stack):
    status, body = lab_stack.api("/api/status")
    assert status == 200
    assert "started" in body


def test_api_refuses_requests_without_a_token(lab_stack):
    status, _ = lab_stack.api("/api/status", token=None)
    assert status == 403


def test_api_refuses_a_wrong_token(lab_stack):
    status, _ = lab_stack.api("/api/contents", token="not-the-token-at-all")
    assert status == 403


def test_printed_url_has_the_host_port_and_the_token(lab_stack):
    logs = lab_stack.logs()
    assert f"http://127.0.0.1:{lab_stack.port}/lab?token={lab_stack.token}" in logs


def test_cpu_lab_says_loudly_that_it_runs_on_the_cpu(lab_stack):
    logs = lab_stack.logs()
    assert "NOTICE: No GPU in the CPU lab: TensorFlow runs on the CPU." in logs


def test_lab_opens_in_the_work_folder_with_the_course_material(lab_stack):
    status, listing = lab_stack.api("/api/contents/course")
    assert status == 200
    names = {entry["name"] for entry in listing["content"]}
    assert "01-check-gpu.ipynb" in names
    assert "train.py" in names


def test_first_notebook_runs_in_a_kernel_and_reports_devices(lab_stack):
    output = run_notebook_in_kernel(lab_stack, "course/01-check-gpu.ipynb")
    assert "TensorFlow 2.20.0" in output
    assert "No GPU visible: TensorFlow runs on the CPU" in output
    assert "DEVICE REPORT DONE" in output


def test_file_saved_in_the_lab_belongs_to_the_host_user(lab_stack):
    name = f"saved-{uuid.uuid4().hex[:6]}.txt"
    status, _ = lab_stack.api(
        f"/api/contents/{name}", method="PUT", body={"type": "file", "format": "text", "content": "hello"}
    )
    assert status in (200, 201)
    saved = lab_stack.workdir / name
    assert saved.read_text() == "hello"
    assert saved.stat().st_uid == dockerlab.TEST_UID
    assert saved.stat().st_gid == dockerlab.TEST_GID


def test_kernel_writes_files_as_the_host_user_too(lab_stack):
    output = run_notebook_in_kernel(
        lab_stack, source="import os\nopen('from-kernel.txt', 'w').write('x')\nprint('uid', os.getuid())"
    )
    assert f"uid {dockerlab.TEST_UID}" in output
    assert (lab_stack.workdir / "from-kernel.txt").stat().st_uid == dockerlab.TEST_UID


def test_work_survives_down_v_and_a_new_up(fresh_stack):
    fresh_stack.up("lab")
    status, _ = fresh_stack.api(
        "/api/contents/keep-me.txt", method="PUT", body={"type": "file", "format": "text", "content": "my homework"}
    )
    assert status in (200, 201)
    fresh_stack.compose("down", "-v")
    assert (fresh_stack.workdir / "keep-me.txt").read_text() == "my homework"
    fresh_stack.up("lab")
    status, body = fresh_stack.api("/api/contents/keep-me.txt")
    assert status == 200
    assert body["content"] == "my homework"


def test_edited_course_notebook_is_not_overwritten_on_restart(fresh_stack):
    fresh_stack.up("lab")
    notebook = fresh_stack.workdir / "course" / "01-check-gpu.ipynb"
    edited = notebook.read_text().replace("What TensorFlow sees", "What TensorFlow sees (my notes)")
    notebook.write_text(edited)
    fresh_stack.compose("restart", "lab")
    fresh_stack.compose("up", "-d", "--wait", "lab")
    assert "(my notes)" in notebook.read_text()


def test_train_profile_runs_once_on_the_cpu_and_writes_results(fresh_stack):
    result = fresh_stack.compose(
        "--profile", "train", "run", "--rm", "train", "--synthetic", "--epochs", "1", "--max-steps", "5", timeout=600
    )
    results = sorted((fresh_stack.workdir / "runs").rglob("results.json"))
    assert results, f"no results.json under runs/:\n{result.stdout[-2000:]}"
    data = json.loads(results[-1].read_text())
    assert data["device"] == "CPU:0"
    assert results[-1].stat().st_uid == dockerlab.TEST_UID


# --- the start: the image's health check (compose tunes its timing), the URL after the check


def inspect_lab(lab_stack) -> dict:
    container = lab_stack.compose("ps", "-q", "lab").stdout.strip()
    return json.loads(dockerlab.run(["docker", "inspect", container]).stdout)[0]


def test_compose_keeps_the_images_health_check_and_tunes_its_timing(lab_stack) -> None:
    healthcheck = inspect_lab(lab_stack)["Config"]["Healthcheck"]

    assert healthcheck["Test"] == ["CMD", "python", "-P", "-S", "-m", "labkit", "health", "--wait", "15"]
    assert healthcheck["Interval"] == 2 * 10**9


def test_healthy_means_the_gpu_check_passed_and_jupyterlab_answers(lab_stack) -> None:
    health = inspect_lab(lab_stack)["State"]["Health"]

    assert health["Status"] == "healthy"
    assert health["Log"][-1]["Output"] == "JupyterLab answers and the GPU check passed\n"


def test_the_url_comes_after_the_gpu_checks_report_and_jupyterlab_still_speaks(lab_stack) -> None:
    logs = lab_stack.logs().splitlines()
    verdict = next(i for i, line in enumerate(logs) if "NOTICE: No GPU in the CPU lab" in line)
    ready = logs.index("[lab] The lab is ready. Open:")

    assert verdict < ready
    assert any("ServerApp]" in line for line in logs)  # JupyterLab's own lines, held, then shown
