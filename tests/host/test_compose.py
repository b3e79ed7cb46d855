"""The plain compose commands the helper prints and runs."""

from __future__ import annotations

import pytest
from labhost import compose


@pytest.mark.parametrize(
    ("flavour", "shown"),
    [
        ("cpu", "docker compose -f compose.yaml up -d --wait"),
        ("nvidia", "docker compose -f compose.yaml -f compose.nvidia.yaml up -d --wait"),
        ("rocm", "docker compose -f compose.yaml -f compose.rocm.yaml up -d --wait"),
    ],
)
def test_up_command_per_flavour(flavour: str, shown: str) -> None:
    assert compose.shown(compose.up(flavour)) == shown


@pytest.mark.parametrize("flavour", ["cpu", "nvidia", "rocm"])
def test_compose_file_value_lists_the_same_files_as_the_command(flavour: str) -> None:
    argv = compose.command(flavour, "ps")

    assert compose.compose_file_value(flavour).split(":") == argv[3:-1:2]


def test_gate_check_runs_the_in_container_gate_without_dependencies() -> None:
    assert compose.gate_check("rocm")[-6:] == ["run", "--rm", "--no-deps", "lab", "check", "--json"]


def test_token_is_read_from_the_entrypoint_state_file() -> None:
    assert compose.read_token("cpu")[-5:] == ["exec", "-T", "lab", "cat", "/cache/lab/jupyter-token"]


def test_unknown_flavour_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown flavour"):
        compose.command("cuda", "up")


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8890/lab?token=abc"),
        ("0.0.0.0", "http://127.0.0.1:8890/lab?token=abc"),
        ("192.168.1.20", "http://192.168.1.20:8890/lab?token=abc"),
    ],
    ids=["loopback", "all-interfaces-becomes-loopback", "lan-address"],
)
def test_lab_url(address: str, url: str) -> None:
    assert compose.lab_url(address=address, port="8890", token="abc") == url
