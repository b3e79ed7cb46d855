"""Security properties of every stack, checked on compose's merged model: the project's own
rules, which stay even where compose-lint (tests/config/test_compose_lint.py) checks the
same, because they pin this project's exact values (the pids limit, the user, the loopback
default). hadolint covers the Dockerfiles, in tests/unit/test_lint.py."""

from __future__ import annotations

import pytest

SERVICES = ("lab", "train")
STACKS = ("base", "rocm", "nvidia", "rocm-debug")
ROCM_GIDS = "LAB_KFD_GID=44\nLAB_RENDER_GID=110\n"
# The debug overlay adds ptrace and unconfined seccomp on purpose, for debuggers only.
HARDENED_STACKS = [name for name in STACKS if name != "rocm-debug"]


def services(compose, stack: str, dotenv: str = ""):
    model = compose.config(stack, dotenv=ROCM_GIDS + dotenv).model
    return [(name, model["services"][name]) for name in SERVICES]


@pytest.mark.parametrize("stack", list(STACKS))
def test_no_service_is_privileged_or_shares_host_namespaces(compose, stack):
    for name, service in services(compose, stack):
        assert service.get("privileged") is not True, name
        assert service.get("network_mode") != "host", name
        assert service.get("pid") != "host", name
        assert service.get("ipc") != "host", name


@pytest.mark.parametrize("stack", list(STACKS))
def test_docker_socket_is_never_mounted(compose, stack):
    for name, service in services(compose, stack):
        sources = [volume.get("source", "") for volume in service.get("volumes", [])]
        assert not any("docker.sock" in source for source in sources), name


@pytest.mark.parametrize("stack", HARDENED_STACKS)
def test_all_capabilities_dropped_and_no_new_privileges(compose, stack):
    for name, service in services(compose, stack):
        assert service["cap_drop"] == ["ALL"], name
        assert "cap_add" not in service, name
        assert "no-new-privileges:true" in service["security_opt"], name


@pytest.mark.parametrize("stack", list(STACKS))
def test_process_limit_is_always_set(compose, stack):
    for name, service in services(compose, stack):
        assert int(service["pids_limit"]) == 2048, name


@pytest.mark.parametrize("stack", list(STACKS))
def test_never_runs_as_root(compose, stack):
    for name, service in services(compose, stack, "LAB_UID=1000\nLAB_GID=1000\n"):
        assert service["user"] == "1000:1000", name


def test_memory_and_cpu_limits_come_from_env(compose):
    for name, service in services(compose, "base", "LAB_MEMORY_LIMIT=8g\nLAB_CPUS=2\nLAB_PIDS_LIMIT=512\n"):
        assert int(service["mem_limit"]) == 8 * 1024**3, name
        assert float(service["cpus"]) == 2.0, name
        assert int(service["pids_limit"]) == 512, name


def test_no_limits_by_default_means_none_rendered(compose):
    for name, service in services(compose, "base"):
        assert "mem_limit" not in service, name
        assert "cpus" not in service, name


@pytest.mark.parametrize("stack", list(STACKS))
def test_root_file_system_is_read_only_with_in_memory_scratch_folders(compose, stack):
    for name, service in services(compose, stack):
        assert service["read_only"] is True, name
        assert sorted(service["tmpfs"]) == ["/home/lab:mode=1777", "/tmp:mode=1777", "/var/tmp:mode=1777"], name


def test_exposing_the_lab_beyond_this_computer_is_an_explicit_setting(compose):
    model = compose.config("base", dotenv="LAB_BIND_ADDRESS=0.0.0.0\n").model
    assert model["services"]["lab"]["ports"][0]["host_ip"] == "0.0.0.0"
    default = compose.config("base").model
    assert default["services"]["lab"]["ports"][0]["host_ip"] == "127.0.0.1"
