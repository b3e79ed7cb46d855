"""Helpers for the engine-backed tiers: stand-in images, the lab image, and a compose stack
under its own project name that always cleans up after itself."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "standins"))

import build as standins  # noqa: E402

# Per-checkout names when COURSELAB_TEST_NS is set (see standins.tagged).
CPU_LAB_IMAGE = standins.tagged("courselab-test/lab:cpu")
ROCM_LAB_IMAGE = standins.tagged("courselab-test/lab:rocm")
CUDA_LAB_IMAGE = standins.tagged("courselab-test/lab:cuda")
# A UID/GID no real account has, to prove the image works for any host user.
TEST_UID = 4242
TEST_GID = 4242


def run(command: list[str], *, check: bool = True, timeout: float = 900, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
        )
    return result


def build_image(
    dockerfile: str,
    base_image: str,
    tag: str,
    *,
    args: dict[str, str] | None = None,
    platform: str | None = None,
    target: str | None = None,
    timeout: float = 900,
) -> None:
    """Build with BuildKit, as `docker compose build` does for students (a `platform` builds
    for that architecture, emulated where it is not this machine's). Compose talks to the
    engine's own BuildKit; a bare `docker build` would need the buildx plugin for that (Docker
    CLI 23+) and otherwise falls back to the legacy builder."""
    service = {
        "image": tag,
        "build": {
            "context": str(REPO),
            "dockerfile": str(REPO / dockerfile),
            "args": {"BASE_IMAGE": base_image, **(args or {})},
        },
    }
    if platform:
        service["platform"] = platform
    if target:
        service["build"]["target"] = target
    with tempfile.TemporaryDirectory() as scratch:
        spec = Path(scratch) / "build.yaml"
        spec.write_text(json.dumps({"services": {"image": service}}))  # JSON is YAML
        project = f"clbuild-{uuid.uuid4().hex[:8]}"
        command = ["docker", "compose", "--progress", "plain", "-p", project, "-f", str(spec), "build"]
        run([*command, *standins.cache_flags()], timeout=timeout)


def make_workdir(tmp_path_factory, name: str = "work") -> Path:
    """A work folder owned by the test's host user, as a student's would be. The path has a
    space and Vietnamese letters: students' folders do."""
    root = tmp_path_factory.mktemp("lab")
    workdir = root / f"bài tập {name}"
    workdir.mkdir()
    os.chown(workdir, TEST_UID, TEST_GID)
    root.chmod(0o755)
    return workdir


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout: float, interval: float = 0.5, what: str = "condition"):
    """Poll `condition` until it returns something truthy; bounded, never a bare sleep."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # the last error is the useful part of a timeout message
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last error: {last_error!r}")


def http_get(url: str, *, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class Stack:
    """One compose project with its own name, .env, work folder and port."""

    workdir: Path
    files: list[str] = field(default_factory=lambda: ["compose.yaml"])
    settings: dict[str, str] = field(default_factory=dict)
    project: str = field(default_factory=lambda: f"cltest-{uuid.uuid4().hex[:8]}")

    def __post_init__(self):
        self.port = int(self.settings.get("LAB_PORT") or free_port())
        self.token = self.settings.get("JUPYTER_TOKEN", f"test-token-{uuid.uuid4().hex}")
        self.env_file = self.workdir.parent / f"{self.project}.env"
        self.write_env()

    @property
    def values(self) -> dict[str, str]:
        return {
            "LAB_IMAGE": CPU_LAB_IMAGE,
            "LAB_BASE_IMAGE": standins.CPU_IMAGE,
            "LAB_UID": str(TEST_UID),
            "LAB_GID": str(TEST_GID),
            "LAB_WORK_DIR": str(self.workdir),
            "LAB_PORT": str(self.port),
            "JUPYTER_TOKEN": self.token,
            "LAB_LANG": "en",  # whatever the developer's locale; tests that want vi say so
            **self.settings,
        }

    def write_env(self) -> None:
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in self.values.items()))

    @property
    def base_command(self) -> list[str]:
        command = ["docker", "compose", "-p", self.project, "--env-file", str(self.env_file)]
        for name in self.files:
            command += ["-f", str(REPO / name)]
        return command

    def compose(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        # A clean environment: the developer's own LAB_* variables must not leak in.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LAB_", "JUPYTER_"))}
        return run([*self.base_command, *args], check=check, timeout=timeout, env=env, cwd=REPO)

    def up(self, *services: str) -> None:
        result = self.compose("up", "-d", "--wait", "--wait-timeout", "300", *services, check=False)
        if result.returncode != 0:
            raise AssertionError(f"`compose up --wait` failed:\n{result.stderr[-3000:]}\n{self.diagnostics()}")

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "--timeout", "5", check=False)

    def logs(self, service: str = "lab") -> str:
        return self.compose("logs", "--no-color", "--no-log-prefix", service, check=False).stdout

    def diagnostics(self) -> str:
        """What a failing stack test prints: versions, the merged config, every log."""
        parts = [
            run(["docker", "compose", "version"], check=False).stdout,
            run(["docker", "version", "--format", "{{.Server.Version}}"], check=False).stdout,
            self.compose("config", check=False).stdout,
            self.compose("ps", "-a", check=False).stdout,
            self.compose("logs", "--no-color", check=False).stdout[-8000:],
        ]
        return "\n".join(parts)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, *, token: str | None = "default", method: str = "GET", body: dict | None = None):
        token = self.token if token == "default" else token
        url = f"{self.url}{path}"
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"token {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
                payload = response.read()
                return response.status, (json.loads(payload) if payload else None)
        except urllib.error.HTTPError as error:
            return error.code, None
