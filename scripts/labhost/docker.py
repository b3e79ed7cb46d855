"""What the Docker CLI says about the engine, through an injectable runner.

The parsers take the CLI's real outputs (tests replay recorded ones from
tests/host/fixtures/docker/); `gather` is the only function that runs anything.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# `name:` at the top of compose.yaml needs Compose 2.3.3; `up --wait` needs 2.1.1.
MIN_COMPOSE = (2, 3, 3)


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str = ""
    stderr: str = ""


Runner = Callable[[Sequence[str]], Completed]


def subprocess_runner(args: Sequence[str], *, timeout: float = 60, cwd: str | None = None) -> Completed:
    """Run a command and capture its output; a missing program is exit code 127, as in a shell."""
    if shutil.which(args[0]) is None:
        return Completed(127, "", f"{args[0]}: command not found")
    try:
        done = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd)
    except subprocess.TimeoutExpired:
        return Completed(124, "", f"{' '.join(args)} did not answer within {timeout:.0f} s")
    return Completed(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class DockerFacts:
    cli_installed: bool
    client_version: str | None = None
    server_version: str | None = None
    # None when the engine answered; else "permission", "not-running" or "other".
    problem: str | None = None
    problem_text: str = ""
    compose_version: str | None = None
    rootless: bool = False
    runtimes: tuple[str, ...] = ()
    root_dir: str | None = None
    cdi_spec_dirs: tuple[str, ...] = ()
    lab_ports: str = ""
    mem_total: int | None = None  # bytes of memory containers run in (a VM's on Docker Desktop)

    @property
    def usable(self) -> bool:
        return self.cli_installed and self.server_version is not None


def classify_error(stderr: str) -> str:
    text = stderr.lower()
    if "permission denied" in text and "docker" in text:
        return "permission"
    if "cannot connect to the docker daemon" in text or "is the docker daemon running" in text:
        return "not-running"
    return "other"


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def parse_version(done: Completed) -> tuple[str | None, str | None, str | None, str]:
    """`docker version --format json` -> (client, server, problem, problem line).

    When the engine is unreachable the CLI still prints the client half ("Server": null)
    on stdout and the reason on stderr, and exits 1.
    """
    client = server = None
    try:
        data = json.loads(done.stdout) if done.stdout.strip() else {}
    except json.JSONDecodeError:
        data = {}
    if isinstance(data.get("Client"), dict):
        client = data["Client"].get("Version")
    if isinstance(data.get("Server"), dict):
        server = data["Server"].get("Version")
    if server is not None and done.returncode == 0:
        return client, server, None, ""
    return client, None, classify_error(done.stderr), last_line(done.stderr) or last_line(done.stdout)


def parse_compose_version(text: str) -> str | None:
    """`docker compose version --short` prints '2.40.3' (some builds 'v2.40.3')."""
    value = text.strip().lstrip("v")
    return value if value and value[0].isdigit() else None


def version_tuple(value: str) -> tuple[int, ...]:
    parts = []
    for piece in value.split("+")[0].split("-")[0].split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def parse_info(text: str) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def gather(run: Runner = subprocess_runner, *, project: str = "courselab") -> DockerFacts:
    done = run(["docker", "version", "--format", "json"])
    if done.returncode == 127:
        return DockerFacts(cli_installed=False, problem="not-installed", problem_text=last_line(done.stderr))
    client, server, problem, problem_line = parse_version(done)
    compose = run(["docker", "compose", "version", "--short"])
    compose_version = parse_compose_version(compose.stdout) if compose.returncode == 0 else None
    if server is None:
        return DockerFacts(True, client, None, problem, problem_line, compose_version)
    info = parse_info(run(["docker", "info", "--format", "json"]).stdout)
    security = info.get("SecurityOptions") or []
    ports = run(["docker", "ps", "--filter", f"label=com.docker.compose.project={project}", "--format", "{{.Ports}}"])
    return DockerFacts(
        cli_installed=True,
        client_version=client,
        server_version=server,
        compose_version=compose_version,
        rootless=any("rootless" in str(option) for option in security),
        runtimes=tuple(sorted((info.get("Runtimes") or {}).keys())),
        root_dir=info.get("DockerRootDir") or None,
        cdi_spec_dirs=tuple(info.get("CDISpecDirs") or ()),
        mem_total=int(info["MemTotal"]) if str(info.get("MemTotal", "")).isdigit() else None,
        lab_ports=ports.stdout.strip() if ports.returncode == 0 else "",
    )


def image_labels(run: Runner, image: str) -> dict[str, str] | None:
    """The labels of a local image, or None when the image is not here."""
    done = run(["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", image])
    if done.returncode != 0:
        return None
    try:
        labels = json.loads(done.stdout.strip() or "null")
    except json.JSONDecodeError:
        return None
    return labels if isinstance(labels, dict) else {}


def image_file(run: Runner, image: str, path: str) -> str | None:
    """A file's text from a local image, without starting its entrypoint or any network; None
    when the image or the file is not there."""
    done = run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "cat", image, path])
    return done.stdout if done.returncode == 0 else None
