"""Drive the Dev Containers reference CLI (@devcontainers/cli, the code VS Code's "Reopen in
Container" runs) on the real engine: read a configuration, bring a dev container up, run a
command in it. A DevLab is a dockerlab.Stack whose compose files are the ones the CPU dev
container lists, so it has its own project name, .env, work folder and port, and always
cleans up; the CLI reaches them through COMPOSE_PROJECT_NAME and COMPOSE_ENV_FILES, which it
and compose both read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field

import dockerlab

REPO = dockerlab.REPO
CLI_FOLDER = REPO / "tests" / "devcontainer" / "cli"
OVERLAY = ".devcontainer/compose.vscode.yaml"


def pinned_version() -> str:
    lock = json.loads((CLI_FOLDER / "package-lock.json").read_text())
    return lock["packages"]["node_modules/@devcontainers/cli"]["version"]


def cli_path() -> str | None:
    """COURSELAB_DEVCONTAINER_CLI (.ci/run sets it), else `npm ci --prefix tests/devcontainer/cli`'s,
    else a `devcontainer` on PATH."""
    chosen = os.environ.get("COURSELAB_DEVCONTAINER_CLI")
    if chosen:
        return chosen
    local = CLI_FOLDER / "node_modules" / ".bin" / "devcontainer"
    return str(local) if local.exists() else shutil.which("devcontainer")


def cli_problem() -> str | None:
    """Why the tests cannot run the pinned CLI here, or None."""
    path = cli_path()
    install = "npm ci --prefix tests/devcontainer/cli (bash .ci/run installs it for CI)"
    if path is None:
        return f"the Dev Containers CLI is not installed; install it with: {install}"
    done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    version = done.stdout.strip()
    if done.returncode != 0 or version != pinned_version():
        return f"{path} --version says {version or done.stderr.strip()!r}; the tests pin {pinned_version()}: {install}"
    return None


def cli(*args: str, env: dict[str, str] | None = None, check: bool = True, timeout: float = 900):
    path = cli_path()
    assert path is not None, cli_problem()
    return dockerlab.run([path, *args], env=env, check=check, timeout=timeout, cwd=REPO)


def read_configuration(config: str) -> dict:
    """What the CLI makes of devcontainer.json (comments gone, nothing merged in)."""
    done = cli("read-configuration", "--workspace-folder", str(REPO), "--config", str(REPO / config))
    return json.loads(done.stdout)["configuration"]


def compose_files(config: str) -> list[str]:
    """dockerComposeFile, relative to the repository, resolved as the CLI resolves it: from
    the folder of devcontainer.json."""
    listed = read_configuration(config)["dockerComposeFile"]
    folder = (REPO / config).parent
    return [str((folder / name).resolve().relative_to(REPO)) for name in listed]


def last_json_line(text: str) -> dict:
    """The CLI prints its result as the last line of stdout."""
    return json.loads(text.strip().splitlines()[-1])


@dataclass
class DevLab(dockerlab.Stack):
    """The CPU lab as VS Code starts it. `compose(...)` reaches the same project with the CPU
    dev container's compose files (down, logs, ps)."""

    files: list[str] = field(default_factory=lambda: ["compose.yaml", OVERLAY])
    config: str = ".devcontainer/devcontainer.json"
    started: dict = field(default_factory=dict)  # what the last `devcontainer up` answered

    def __post_init__(self) -> None:
        # The GPU check's time is not what these tests measure: on a loaded two-core CI
        # machine TensorFlow's import alone has taken minutes.
        self.settings = {"LAB_GATE_TIMEOUT": "600", **self.settings}
        super().__post_init__()
        self.user_data = self.workdir.parent / f"{self.project}-devcontainer-cli"

    @property
    def cli_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LAB_", "JUPYTER_", "COMPOSE_"))}
        return {**env, "COMPOSE_PROJECT_NAME": self.project, "COMPOSE_ENV_FILES": str(self.env_file)}

    def cli(self, command: str, *args: str, check: bool = True, timeout: float = 900):
        # The id label finds this lab's container again (exec), whatever else runs from REPO.
        where = ["--workspace-folder", str(REPO), "--config", str(REPO / self.config)]
        where += ["--id-label", f"courselab.test.project={self.project}"]
        if command == "up":
            where += ["--user-data-folder", str(self.user_data)]
        return cli(command, *where, *args, env=self.cli_env, check=check, timeout=timeout)

    def devcontainer_up(self, *args: str, healthy: bool = True) -> dict:
        """`devcontainer up` (it returns once the container runs), then, unless told not to,
        wait until the lab is healthy, as `compose up --wait` does."""
        done = self.cli("up", *args, check=False)
        result = last_json_line(done.stdout) if done.stdout.strip() else {}
        if result.get("outcome") != "success":
            raise AssertionError(f"devcontainer up failed: {done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        self.started = result
        if healthy:
            self.wait_healthy()
        return result

    def wait_healthy(self) -> None:
        container = self.started["containerId"]
        dockerlab.wait_for(lambda: self.health(container) == "healthy", timeout=600, interval=1, what="a healthy lab")

    def health(self, container: str) -> str:
        status = dockerlab.run(["docker", "inspect", "--format", "{{.State.Health.Status}}", container])
        state = status.stdout.strip()
        if state == "unhealthy":
            raise AssertionError(f"the lab is unhealthy:\n{self.diagnostics()}")
        return state

    def exec(self, *argv: str, remote_env: dict[str, str] | None = None, check: bool = True, timeout: float = 600):
        """`devcontainer exec`: what VS Code's terminal and tasks run, as the remote user."""
        env_args = [f"--remote-env={key}={value}" for key, value in (remote_env or {}).items()]
        return self.cli("exec", *env_args, *argv, check=check, timeout=timeout)

    def down(self) -> None:
        super().down()
        shutil.rmtree(self.user_data, ignore_errors=True)
