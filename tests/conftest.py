"""Shared test harness: tiers by folder, and the Docker fixtures every engine-backed tier uses.

Tiers (folder -> marker): unit, host, workload (pure Python), config (`docker compose
config`), image (real Dockerfiles on stand-in bases), stack (the real compose stack),
browser (headless Chromium). Without a Docker engine the engine tiers are skipped with the
reason printed; with CI=true a missing engine is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

ENGINE_TIERS = {"config", "image", "stack", "browser"}
TIER_OF_FOLDER = {
    "unit": "unit",
    "host": "unit",
    "workload": "unit",
    "config": "config",
    "image": "image",
    "stack": "stack",
    "browser": "browser",
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def engine_problem() -> str | None:
    """Why the Docker tiers cannot run here, or None when they can."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True)
    if info.returncode != 0:
        last = (info.stderr.strip().splitlines() or ["no output"])[-1]
        return f"the Docker engine is not reachable ({last})"
    compose = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True, text=True)
    if compose.returncode != 0:
        return "Docker Compose v2 (`docker compose`) is not installed"
    return None


def pytest_collection_modifyitems(config, items):
    problem = None
    checked = False
    for item in items:
        folder = Path(str(item.fspath)).relative_to(REPO / "tests").parts[0]
        tier = TIER_OF_FOLDER.get(folder)
        if tier is None:
            continue
        item.add_marker(getattr(pytest.mark, tier))
        if tier in ENGINE_TIERS:
            if not checked:
                problem, checked = engine_problem(), True
            if problem and not in_ci():
                item.add_marker(pytest.mark.skip(reason=f"{tier} tier needs Docker: {problem}"))


@pytest.fixture(scope="session")
def docker_engine():
    problem = engine_problem()
    if problem:
        if in_ci():
            pytest.fail(f"CI requires the Docker tiers, but {problem}")
        pytest.skip(problem)
    return True


@pytest.fixture(scope="session")
def standin_images(docker_engine):
    """Stand-in vendor bases, built locally (cached between runs when the recipe is unchanged)."""
    import dockerlab

    return dockerlab.standins.ensure()


@pytest.fixture(scope="session")
def cpu_lab_image(standin_images):
    """The real Dockerfile built on the CPU stand-in base."""
    import dockerlab

    dockerlab.build_image("Dockerfile", standin_images["cpu"], dockerlab.CPU_LAB_IMAGE)
    return dockerlab.CPU_LAB_IMAGE


@pytest.fixture(scope="session")
def cuda_lab_image(standin_images):
    """The real Dockerfile built on the CUDA (-gpu) stand-in base, as compose.nvidia.yaml does."""
    import dockerlab

    dockerlab.build_image("Dockerfile", standin_images["cuda"], dockerlab.CUDA_LAB_IMAGE)
    return dockerlab.CUDA_LAB_IMAGE


@pytest.fixture(scope="session")
def rocm_lab_image(standin_images):
    """The real Dockerfile.rocm built on the ROCm stand-in base (Ubuntu-24.04-like, PEP 668)."""
    import dockerlab

    dockerlab.build_image("Dockerfile.rocm", standin_images["rocm"], dockerlab.ROCM_LAB_IMAGE)
    return dockerlab.ROCM_LAB_IMAGE


@pytest.fixture(scope="module")
def lab_stack(cpu_lab_image, tmp_path_factory):
    """The CPU lab, up and healthy, shared by one test module; always torn down."""
    import dockerlab

    stack = dockerlab.Stack(dockerlab.make_workdir(tmp_path_factory))
    try:
        stack.up("lab")
        yield stack
    finally:
        stack.down()


@pytest.fixture
def fresh_stack(cpu_lab_image, tmp_path_factory):
    """A stack not yet started, for tests that start and stop it themselves."""
    import dockerlab

    stack = dockerlab.Stack(dockerlab.make_workdir(tmp_path_factory))
    try:
        yield stack
    finally:
        stack.down()
