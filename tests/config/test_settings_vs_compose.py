"""The compose files against the settings table (labkit.settings), through the real compose.

`docker compose config --variables` is compose's own list of the variables a stack reads,
with each default and whether it is required; `config --no-interpolate` shows which of them
survive the merge of the overlays (an overlay's `image:` replaces compose.yaml's). A variable
compose reads and the table lacks, a default that differs, or a row for a variable no compose
file reads any more fails here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from labkit import settings
from labkit.settings import SETTINGS, Reader

REPO = Path(__file__).resolve().parents[2]
FLAVOUR_FILES = {
    "cpu": ("compose.yaml",),
    "nvidia": ("compose.yaml", "compose.nvidia.yaml"),
    "rocm": ("compose.yaml", "compose.rocm.yaml"),
}
PASSED_THROUGH = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "XDG_RUNTIME_DIR")
COMPOSE_READ = [s for s in SETTINGS if Reader.COMPOSE in s.readers]
OLD_NAMES = set(settings.RENAMED)


def compose_json(flavour: str, *args: str) -> dict:
    command = ["docker", "compose", "--project-name", "courselab-settings-test"]
    for name in FLAVOUR_FILES[flavour]:
        command += ["-f", str(REPO / name)]
    command += ["--env-file", os.devnull, "--profile", "train", "config", "--format", "json", *args]
    # Nothing of the developer's own environment but what docker needs; the ROCm overlay
    # requires a render group, and any number renders the model.
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    env["LAB_RENDER_GID"] = "110"
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def variables(compose_cli) -> dict[str, dict[str, dict]]:
    """flavour -> {variable: compose's Name/DefaultValue/Required}."""
    return {flavour: compose_json(flavour, "--variables") for flavour in FLAVOUR_FILES}


@pytest.fixture(scope="module")
def merged(compose_cli) -> dict[str, dict]:
    """flavour -> the merged services, variables left as written."""
    return {flavour: compose_json(flavour, "--no-interpolate")["services"] for flavour in FLAVOUR_FILES}


@pytest.fixture(scope="module")
def rendered(compose_cli) -> dict[str, dict]:
    return {flavour: compose_json(flavour)["services"] for flavour in FLAVOUR_FILES}


def test_every_variable_compose_reads_is_in_the_table(variables) -> None:
    read = {name for per_stack in variables.values() for name in per_stack}
    known = {s.name for s in COMPOSE_READ} | OLD_NAMES

    assert read - known == set(), "add a row to scripts/labkit/settings.py for each"


def test_every_compose_row_is_still_read_by_compose(variables) -> None:
    read = {name for per_stack in variables.values() for name in per_stack}

    assert {s.name for s in COMPOSE_READ} - read == set()


@pytest.mark.parametrize("setting", COMPOSE_READ, ids=lambda s: s.name)
def test_default_and_required_agree_with_compose(variables, setting: settings.Setting) -> None:
    seen = [per_stack[setting.name] for per_stack in variables.values() if setting.name in per_stack]

    for variable in seen:
        # `${NAME:?...}` would stop a student's plain `docker compose up` with compose's own
        # message; every variable has a default instead, and the table says which.
        assert variable["Required"] is False, f"{setting.name} is required by a compose file"
        assert variable["DefaultValue"] == (setting.default or "")


@pytest.mark.parametrize("setting", COMPOSE_READ, ids=lambda s: s.name)
def test_flavours_are_the_stacks_whose_merged_services_use_it(merged, setting: settings.Setting) -> None:
    pattern = re.compile(r"\$\{" + re.escape(setting.name) + r"\b")
    using = {flavour for flavour, services in merged.items() if pattern.search(json.dumps(services))}

    assert using == set(setting.flavours)


def test_variables_passed_by_name_are_the_by_name_rows(rendered) -> None:
    # Compose renders a name-only environment entry as null when it is unset.
    for flavour, services in rendered.items():
        passed = {
            name
            for service in services.values()
            for name, value in (service.get("environment") or {}).items()
            if value is None
        }
        rows = {s.name for s in SETTINGS if Reader.BY_NAME in s.readers and flavour in s.flavours}
        assert passed - OLD_NAMES == rows, flavour


def test_internal_rows_are_set_by_the_compose_files(rendered) -> None:
    for setting in (s for s in SETTINGS if Reader.INTERNAL in s.readers):
        for flavour, services in rendered.items():
            assert all(setting.name in service["environment"] for service in services.values()), flavour
