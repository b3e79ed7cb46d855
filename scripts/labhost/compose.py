"""The plain `docker compose` command for each flavour: what students can type themselves."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from labkit import urls

COMPOSE_FILES: dict[str, tuple[str, ...]] = {
    "cpu": ("compose.yaml",),
    "nvidia": ("compose.yaml", "compose.nvidia.yaml"),
    "rocm": ("compose.yaml", "compose.rocm.yaml"),
}
# VS Code's dev container of each flavour (.devcontainer/): the same compose files as above
# plus VS Code's overlay; "Reopen in Container" lists them by name. The tests hold both
# columns to the files (tests/devcontainer).
DEVCONTAINERS: dict[str, tuple[str, str]] = {
    "cpu": (".devcontainer/devcontainer.json", "Course lab (CPU)"),
    "nvidia": (".devcontainer/nvidia/devcontainer.json", "Course lab (NVIDIA)"),
    "rocm": (".devcontainer/rocm/devcontainer.json", "Course lab (ROCm)"),
}
# Where the entrypoint keeps the token it generated when .env has none.
TOKEN_FILE = "/cache/lab/jupyter-token"  # noqa: S105 (a path, not a password)


def files_for(flavour: str) -> tuple[str, ...]:
    if flavour not in COMPOSE_FILES:
        raise ValueError(f"unknown flavour {flavour!r}; expected one of {', '.join(COMPOSE_FILES)}")
    return COMPOSE_FILES[flavour]


def compose_file_value(flavour: str) -> str:
    """COMPOSE_FILE for .env, so a plain `docker compose up` picks the same files (':' on Linux)."""
    return ":".join(files_for(flavour))


def devcontainer(flavour: str) -> tuple[str, str]:
    """(path of devcontainer.json, the name VS Code lists) for this flavour."""
    files_for(flavour)  # the same error for an unknown flavour
    return DEVCONTAINERS[flavour]


def command(flavour: str, *args: str) -> list[str]:
    """docker compose -f compose.yaml [-f overlay] ARGS (relative paths: run it in the repo)."""
    argv = ["docker", "compose"]
    for name in files_for(flavour):
        argv += ["-f", name]
    return argv + list(args)


def up(flavour: str) -> list[str]:
    return command(flavour, "up", "-d", "--wait")


def read_token(flavour: str) -> list[str]:
    return command(flavour, "exec", "-T", "lab", "cat", TOKEN_FILE)


def gate_check(flavour: str) -> list[str]:
    return command(flavour, "run", "--rm", "--no-deps", "lab", "check", "--json")


def shown(argv: Sequence[str]) -> str:
    return shlex.join(argv)


def lab_url(*, address: str, port: str, token: str) -> str:
    # The container prints the same URL (labkit.urls): one rule for both.
    return urls.lab_url(address=address, port=port, token=token)
