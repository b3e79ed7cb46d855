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
    architecture: str | None = None  # the engine's machine, as `docker info` says it: x86_64, aarch64

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
    data = parse_info(done.stdout)
    client = _text(data.get("Client"), "Version")
    server = _text(data.get("Server"), "Version")
    if server is not None and done.returncode == 0:
        return client, server, None, ""
    return client, None, classify_error(done.stderr), last_line(done.stderr) or last_line(done.stdout)


def parse_compose_version(text: str) -> str | None:
    """`docker compose version --short` prints '2.40.3' (some builds 'v2.40.3')."""
    value = text.strip().lstrip("v")
    return value if value and value[0].isascii() and value[0].isdigit() else None


def version_tuple(value: str) -> tuple[int, ...]:
    parts = []
    for piece in value.split("+")[0].split("-")[0].split("."):
        if not (piece.isascii() and piece.isdigit()):
            break
        parts.append(int(piece))
    return tuple(parts)


def parse_info(text: str) -> dict:
    """A JSON object from the CLI, or {} for anything else (no output, an error text, a list)."""
    try:
        data = json.loads(text) if text.strip() else {}
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _text(section: object, key: str) -> str | None:
    """section[key] when section is an object and the value a string (the CLI's own shapes)."""
    value = section.get(key) if isinstance(section, dict) else None
    return value if isinstance(value, str) and value else None


def _names(value: object) -> tuple[str, ...]:
    """Keys of an object, or the strings of a list: what `docker info` lists either way."""
    if isinstance(value, dict):
        return tuple(sorted(str(k) for k in value))
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, str))
    return ()


def gather(run: Runner = subprocess_runner) -> DockerFacts:
    done = run(["docker", "version", "--format", "json"])
    if done.returncode == 127:
        return DockerFacts(cli_installed=False, problem="not-installed", problem_text=last_line(done.stderr))
    client, server, problem, problem_line = parse_version(done)
    compose = run(["docker", "compose", "version", "--short"])
    compose_version = parse_compose_version(compose.stdout) if compose.returncode == 0 else None
    if server is None:
        return DockerFacts(True, client, None, problem, problem_line, compose_version)
    info = parse_info(run(["docker", "info", "--format", "json"]).stdout)
    return DockerFacts(
        cli_installed=True,
        client_version=client,
        server_version=server,
        compose_version=compose_version,
        rootless=any("rootless" in option for option in _names(info.get("SecurityOptions"))),
        runtimes=_names(info.get("Runtimes")),
        root_dir=_text(info, "DockerRootDir"),
        cdi_spec_dirs=_names(info.get("CDISpecDirs")),
        mem_total=int(info["MemTotal"]) if str(info.get("MemTotal", "")).isdigit() else None,
        architecture=_text(info, "Architecture"),
    )


def project_name(compose_config_json: str) -> str | None:
    """The project name compose uses, from `docker compose config --format json`: compose has
    applied its own rules (-p, COMPOSE_PROJECT_NAME from the environment or .env, the file's
    `name:`, the folder's name), so the host never guesses it."""
    return _text(parse_info(compose_config_json), "name")


def published_ports(run: Runner, project: str) -> str:
    """The published ports of a compose project's running containers ("127.0.0.1:8888->8888/tcp")."""
    done = run(["docker", "ps", "--filter", f"label=com.docker.compose.project={project}", "--format", "{{.Ports}}"])
    return done.stdout.strip() if done.returncode == 0 else ""


def build_bases(compose_config_json: str) -> tuple[str, ...]:
    """The base images a stack builds on: the BASE_IMAGE build argument of each service, from
    `docker compose config --format json` (the merged model, .env already applied)."""
    model = parse_info(compose_config_json)
    services = model.get("services")
    found = []
    for service in services.values() if isinstance(services, dict) else ():
        build = service.get("build") if isinstance(service, dict) else None
        base = _text(build.get("args") if isinstance(build, dict) else None, "BASE_IMAGE")
        if base and base not in found:
            found.append(base)
    return tuple(found)


def image_labels(run: Runner, image: str) -> dict[str, str] | None:
    """The labels of a local image, or None when the image is not here."""
    done = run(["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", image])
    if done.returncode != 0:
        return None
    try:
        labels = json.loads(done.stdout.strip() or "null")
    except (ValueError, RecursionError):
        return None
    if not isinstance(labels, dict):
        return {}
    return {str(key): value for key, value in labels.items() if isinstance(value, str)}


def image_architecture(run: Runner, image: str) -> str | None:
    """A local image's architecture (amd64, arm64), or None when the image is not here."""
    done = run(["docker", "image", "inspect", "--format", "{{.Architecture}}", image])
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def image_file(run: Runner, image: str, path: str) -> str | None:
    """A file's text from a local image, without starting its entrypoint or any network; None
    when the image or the file is not there."""
    done = run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "cat", image, path])
    return done.stdout if done.returncode == 0 else None


def volume_file(run: Runner, image: str, volume: str, path: str) -> str | None:
    """A file's text from a named volume, mounted read-only at /cache in a container of a local
    image (which has `cat`); None when the volume, the image or the file is not there. The
    volume is looked up first: `docker run -v` would create a missing one."""
    if run(["docker", "volume", "inspect", "--format", "{{.Name}}", volume]).returncode != 0:
        return None
    mount = ["--volume", f"{volume}:/cache:ro"]
    done = run(["docker", "run", "--rm", "--network", "none", *mount, "--entrypoint", "cat", image, path])
    return done.stdout if done.returncode == 0 else None
