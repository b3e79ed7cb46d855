"""Fixtures for VS Code's dev containers: the pinned Dev Containers CLI, and the CPU lab as
`devcontainer up` starts it on the stand-in image (one per module, always torn down)."""

from __future__ import annotations

import pytest
from ci_policy import require


@pytest.fixture(scope="session")
def devcontainer_cli(docker_engine):
    import devcontainers

    require(devcontainers.cli_problem(), "Dev Containers CLI (devcontainer tier)")


@pytest.fixture
def dev_lab(started_dev_lab):
    """The module's CPU dev container, healthy (a test that restarted it may leave it starting)."""
    started_dev_lab.wait_healthy()
    return started_dev_lab


@pytest.fixture(scope="module")
def started_dev_lab(devcontainer_cli, cpu_lab_image, tmp_path_factory):
    """The CPU dev container, started with `devcontainer up`."""
    import dockerlab
    from devcontainers import DevLab

    lab = DevLab(dockerlab.make_workdir(tmp_path_factory, "vscode"))
    try:
        lab.devcontainer_up()
        yield lab
    finally:
        lab.down()
