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


def test_by_default_students_servers_are_subdomains_of_hub_localhost_on_the_hubs_port():
    assert from_env(GOOD).public_url == "http://hub.localhost:8000"
    assert from_env({**GOOD, "HUB_PORT": "9123"}).public_url == "http://hub.localhost:9123"
    assert str(from_env(GOOD).student_subnets) == "172.29.0.0/16"


@pytest.mark.parametrize(
    "url",
    ["https://hub.example.edu", "https://hub.example.edu:8443/", "http://localhost:8000", "http://class.localhost"],
)
def test_a_public_url_with_subdomains_and_tls_or_on_this_computer_is_taken(url):
    assert from_env({**GOOD, "HUB_PUBLIC_URL": url}).public_url == url.rstrip("/")


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
        pytest.param({"HUB_PUBLIC_URL": "http://hub.example.edu"}, "HUB_PUBLIC_URL", "plain http", id="http"),
        pytest.param({"HUB_PUBLIC_URL": "https://10.0.0.5"}, "HUB_PUBLIC_URL", "IP address", id="ip-address"),
        pytest.param({"HUB_PUBLIC_URL": "https://hub.example.edu/jupyter"}, "HUB_PUBLIC_URL", "not an", id="path"),
        pytest.param({"HUB_PUBLIC_URL": "hub.example.edu"}, "HUB_PUBLIC_URL", "not an", id="no-scheme"),
        pytest.param({"HUB_STUDENT_SUBNETS": "172.29.0.0/29"}, "HUB_STUDENT_SUBNETS", "/28 or larger", id="tiny"),
        pytest.param({"HUB_STUDENT_SUBNETS": "lots"}, "HUB_STUDENT_SUBNETS", "IPv4 block", id="subnets-word"),
        pytest.param({"HUB_ADMIN_USERS": "Teacher"}, "HUB_ADMIN_USERS", "not an account name", id="admin-uppercase"),
        pytest.param(
            {"HUB_ADMIN_USERS": "tea\u200bcher"}, "HUB_ADMIN_USERS", "not an account name", id="admin-invisible"
        ),
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
