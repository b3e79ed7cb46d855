"""The hub's HUB_* settings: good values parse, each bad one is one line naming the fix."""

from __future__ import annotations

import pytest
from courselab_hub.settings import SettingsError, from_env

GOOD = {"HUB_LAB_IMAGE": "courselab/lab:2.20.0-cpu", "HUB_ADMIN_USERS": "teacher, ta"}


def test_defaults_are_a_cpu_hub_with_limits():
    settings = from_env(GOOD)
    assert settings.vendor == "none"
    assert settings.gpus == ()
    assert settings.admin_users == frozenset({"teacher", "ta"})
    assert (settings.mem_limit, settings.cpu_limit, settings.idle_timeout) == ("2G", 1.0, 3600)
    assert settings.gpu_lab_image == settings.lab_image


def test_a_gpu_hub_lists_its_gpus_in_order():
    settings = from_env({**GOOD, "HUB_GPU_VENDOR": "nvidia", "HUB_GPUS": "1, 0,GPU-3f2a-77", "HUB_GPU_LAB_IMAGE": "g"})
    assert settings.gpus == ("1", "0", "GPU-3f2a-77")


@pytest.mark.parametrize(
    ("changes", "variable", "words"),
    [
        pytest.param({"HUB_LAB_IMAGE": ""}, "HUB_LAB_IMAGE", "is empty", id="no-lab-image"),
        pytest.param({"HUB_ADMIN_USERS": " , "}, "HUB_ADMIN_USERS", "is empty", id="no-admin"),
        pytest.param({"HUB_GPU_VENDOR": "intel"}, "HUB_GPU_VENDOR", "not one of", id="unknown-vendor"),
        pytest.param(
            {"HUB_GPU_VENDOR": "nvidia", "HUB_GPU_LAB_IMAGE": "g"}, "HUB_GPUS", "is empty", id="vendor-without-gpus"
        ),
        pytest.param({"HUB_GPUS": "0"}, "HUB_GPUS", "HUB_GPU_VENDOR=none", id="gpus-without-vendor"),
        pytest.param(
            {"HUB_GPU_VENDOR": "rocm", "HUB_GPUS": "card0", "HUB_RENDER_GID": "110", "HUB_GPU_LAB_IMAGE": "g"},
            "HUB_GPUS",
            "not a rocm device",
            id="rocm-card-not-render-node",
        ),
        pytest.param(
            {"HUB_GPU_VENDOR": "nvidia", "HUB_GPUS": "0,0", "HUB_GPU_LAB_IMAGE": "g"},
            "HUB_GPUS",
            "twice",
            id="gpu-twice",
        ),
        pytest.param({"HUB_GPU_VENDOR": "nvidia", "HUB_GPUS": "0"}, "HUB_GPU_LAB_IMAGE", "is empty", id="no-gpu-image"),
        pytest.param(
            {"HUB_GPU_VENDOR": "rocm", "HUB_GPUS": "renderD128", "HUB_GPU_LAB_IMAGE": "g"},
            "HUB_RENDER_GID",
            "needed for ROCm",
            id="rocm-without-render-gid",
        ),
        pytest.param({"HUB_RENDER_GID": "render"}, "HUB_RENDER_GID", "numeric", id="group-name-not-gid"),
        pytest.param(
            {"HUB_HSA_OVERRIDE_GFX_VERSION": "gfx1031"}, "HUB_HSA_OVERRIDE_GFX_VERSION", "N.N.N", id="override"
        ),
        pytest.param({"HUB_MEM_LIMIT": "2 GB"}, "HUB_MEM_LIMIT", "not a size", id="memory"),
        pytest.param({"HUB_CPU_LIMIT": "0"}, "HUB_CPU_LIMIT", "positive", id="cpu-zero"),
        pytest.param({"HUB_STUDENTS_PER_GPU": "0"}, "HUB_STUDENTS_PER_GPU", "at least 1", id="per-gpu-zero"),
        pytest.param({"HUB_IDLE_TIMEOUT": "soon"}, "HUB_IDLE_TIMEOUT", "whole number", id="timeout-word"),
        pytest.param({"HUB_PREFIX": "my class"}, "HUB_PREFIX", "Docker name", id="prefix-space"),
        pytest.param(
            {"HUB_START_TIMEOUT": "120", "HUB_GATE_TIMEOUT": "120"},
            "HUB_START_TIMEOUT",
            "no time after",
            id="start-too-short",
        ),
    ],
)
def test_each_bad_value_is_one_line_with_the_variable_and_a_fix(changes, variable, words):
    with pytest.raises(SettingsError) as raised:
        from_env({**GOOD, **changes})
    lines = [problem.line() for problem in raised.value.problems]
    matching = [line for line in lines if line.startswith(f"{variable}: ")]
    assert len(matching) == 1, lines
    assert words in matching[0]
    assert "Fix: " in matching[0]
    assert "\n" not in matching[0]


def test_every_problem_is_reported_at_once():
    with pytest.raises(SettingsError) as raised:
        from_env({"HUB_MEM_LIMIT": "lots"})
    assert {p.variable for p in raised.value.problems} == {"HUB_LAB_IMAGE", "HUB_ADMIN_USERS", "HUB_MEM_LIMIT"}
