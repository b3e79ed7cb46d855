"""Shared test harness: tiers by folder, and the Docker fixtures every engine-backed tier uses.

Tiers (folder -> marker): unit, host, workload (pure Python), config (`docker compose
config`), image (real Dockerfiles on stand-in bases), stack (the real compose stack),
browser (headless Chromium), devcontainer (VS Code's dev containers, through the Dev
Containers reference CLI on the real engine). Without Docker those tiers are skipped with the reason
printed (config needs only the compose CLI); with CI=true that is a failure, never a skip.
With CI=true every other skip fails too, except the hardware-only tests in tests/ci_policy.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

# Which second engine this session runs on, if any (the current-engine tier, tests/engines.py).
import engines  # noqa: E402

# Helper modules import these from ci_policy, never `from conftest import ...`: with several
# conftest.py files in the tree, the name `conftest` means whichever was imported last.
from ci_policy import in_ci, require, skip_is_a_failure  # noqa: E402

TIER_OF_FOLDER = {
    "unit": "unit",
    "host": "unit",
    "workload": "unit",
    "config": "config",
    "image": "image",
    "stack": "stack",
    "browser": "browser",
    "devcontainer": "devcontainer",
}


def compose_cli_problem() -> str | None:
    """Why `docker compose` cannot run here, or None. `config` needs only this."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    compose = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True, text=True)
    if compose.returncode != 0:
        return "Docker Compose v2 (`docker compose`) is not installed"
    return None


def engine_problem() -> str | None:
    """Why the tiers that build and start containers cannot run here, or None."""
    problem = compose_cli_problem()
    if problem:
        return problem
    info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True)
    if info.returncode != 0:
        last = (info.stderr.strip().splitlines() or ["no output"])[-1]
        return f"the Docker engine is not reachable ({last})"
    return None


def devcontainer_problem() -> str | None:
    """Why VS Code's dev containers cannot be tested here (the engine, the pinned CLI), or None."""
    import devcontainers

    return engine_problem() or devcontainers.cli_problem()


# What each Docker tier needs, checked once per run.
REQUIREMENT_OF_TIER = {
    "config": compose_cli_problem,
    "image": engine_problem,
    "stack": engine_problem,
    "browser": engine_problem,
    "devcontainer": devcontainer_problem,
}


# The engine tiers this session collected: the summary names the engine only when one ran.
ENGINE_TIERS_COLLECTED: set[str] = set()


def pytest_collection_modifyitems(config, items):
    problems: dict = {}
    for item in items:
        folder = Path(str(item.fspath)).relative_to(REPO / "tests").parts[0]
        tier = TIER_OF_FOLDER.get(folder)
        if tier is None:
            continue
        item.add_marker(getattr(pytest.mark, tier))
        check = REQUIREMENT_OF_TIER.get(tier)
        if check is None:
            continue
        if check is engine_problem:
            ENGINE_TIERS_COLLECTED.add(tier)
        if check not in problems:
            problems[check] = check()
        if problems[check] and not in_ci():
            item.add_marker(pytest.mark.skip(reason=f"{tier} tier: {problems[check]}"))


def pytest_ignore_collect(collection_path, config):
    """A session on a second engine is the tier itself: it never starts the tier again."""
    return engines.current() is not None and collection_path.name == "test_current_engines.py" or None


def pytest_report_header(config):
    engine = engines.current()
    return f"docker engine: {engine.key}, {engine.label} (the current-engine tier)" if engine else None


def pytest_terminal_summary(terminalreporter):
    """The engines this run used, with their versions and image stores."""
    import enginetier

    if not ENGINE_TIERS_COLLECTED:
        return
    described = engines.describe(engines.current()) if engine_problem() is None else None
    lines = [f"this session: {described.text if described else 'no engine reachable'}"]
    lines += [f"{run.line}" for run in enginetier.RUNS]
    terminalreporter.write_sep("-", "docker engines")
    for line in lines:
        terminalreporter.write_line(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """CI=true: a skip (importorskip, skipif, a fixture's skip) fails unless hardware-only."""
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    failure = skip_is_a_failure(item.nodeid, reason.removeprefix("Skipped: "), ci=in_ci())
    if failure:
        report.outcome = "failed"
        report.longrepr = failure


@pytest.fixture(scope="session")
def compose_cli():
    require(compose_cli_problem(), "config tier")


@pytest.fixture(scope="session")
def docker_engine():
    require(engine_problem(), "Docker tiers")
    return True


@pytest.fixture(scope="session")
def standin_images(docker_engine):
    """Stand-in vendor bases, built locally (cached between runs when the recipe is unchanged).
    A second engine gets the CPU stand-in from the primary (docker save | docker load): the
    tier needs no other, and a stand-in is never built twice."""
    import dockerlab

    engine = engines.current()
    if engine is None:
        return dockerlab.standins.ensure()
    build = REPO / "tests" / "standins" / "build.py"
    subprocess.run([sys.executable, str(build), "cpu"], env=engines.docker_env(None), check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    engines.move_images(engine, [dockerlab.standins.CPU_IMAGE])
    return {"cpu": dockerlab.standins.CPU_IMAGE}


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

    dockerlab.build_image("Dockerfile", standin_images["cuda"], dockerlab.CUDA_LAB_IMAGE, args={"LAB_LOCK": "nvidia"})
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


# Session fixtures kept in their own modules, registered here once so that every test module
# shares one registry and one release (imported into two test modules, each would get its own).
from registry import local_registry  # noqa: E402, F401
from releases import released_cpu_fixture  # noqa: E402, F401
