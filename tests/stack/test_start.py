"""How the CPU lab starts on a real engine: the image's own health check, with compose tuning
only its timing, says healthy once the GPU check passed and JupyterLab answers."""

from __future__ import annotations

import json

from dockerlab import run


def inspect(lab_stack) -> dict:
    container = lab_stack.compose("ps", "-q", "lab").stdout.strip()
    return json.loads(run(["docker", "inspect", container]).stdout)[0]


def test_compose_keeps_the_images_health_check_and_tunes_its_timing(lab_stack) -> None:
    healthcheck = inspect(lab_stack)["Config"]["Healthcheck"]

    assert healthcheck["Test"] == ["CMD", "python", "-S", "-m", "labkit", "health", "--wait", "15"]
    assert healthcheck["Interval"] == 2 * 10**9


def test_healthy_means_the_gpu_check_passed_and_jupyterlab_answers(lab_stack) -> None:
    health = inspect(lab_stack)["State"]["Health"]

    assert health["Status"] == "healthy"
    assert health["Log"][-1]["Output"] == "JupyterLab answers and the GPU check passed\n"


def test_the_url_comes_after_the_gpu_checks_report_and_jupyterlab_still_speaks(lab_stack) -> None:
    logs = lab_stack.logs().splitlines()
    verdict = next(i for i, line in enumerate(logs) if "NOTICE: No GPU in the CPU lab" in line)
    ready = logs.index("[lab] The lab is ready. Open:")

    assert verdict < ready
    assert any("ServerApp]" in line for line in logs)  # JupyterLab's own lines, held, then shown
