"""The container's entrypoint: check the settings, bring the course material in, run the
GPU gate, then build the command for what was asked, print it, and exec it.

    python -m labkit lab            JupyterLab (the default)
    python -m labkit hub [ARGS]     a JupyterHub single-user server (started by a hub's spawner)
    python -m labkit train [ARGS]   the course's training script, once
    python -m labkit check [--json] the GPU gate only; exit 0 when the lab would start
    python -m labkit shell          a shell in the lab's environment
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from labkit import course, envcheck, gate, hubmode, shadow
from labkit.diagnose import GateStatus, gate_policy

CONTAINER_PORT = 8888


@dataclass(frozen=True)
class Paths:
    """Where things are in the container; fixed by the Dockerfiles and compose.yaml."""

    work: Path  # the student's folder (a host bind mount)
    course_source: Path  # the course material baked into the image
    state: Path  # lab state on the cache volume (the generated token)

    @property
    def course(self) -> Path:
        return self.work / "course"

    @property
    def runs(self) -> Path:
        return self.work / "runs"


CONTAINER_PATHS = Paths(work=Path("/home/lab/work"), course_source=Path("/opt/lab/course"), state=Path("/cache/lab"))


def lab_url(*, host_port: str, token: str) -> str:
    return f"http://127.0.0.1:{host_port}/lab?token={token}"


def lab_command(*, python: str, paths: Paths, host_port: str) -> list[str]:
    # The token travels in JUPYTER_TOKEN, not argv, so `ps` and the printed command never
    # show it. custom_display_url makes Jupyter's own log show the host's port, not 8888.
    return [
        str(Path(python).with_name("jupyter-lab")),
        "--ServerApp.ip=0.0.0.0",
        f"--ServerApp.port={CONTAINER_PORT}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={paths.work}",
        f"--ServerApp.custom_display_url=http://127.0.0.1:{host_port}",
        # Saves replace the file in one step: a killed container never truncates a notebook.
        "--ServerApp.contents_manager_class=labkit.contents.ReplacingFileManager",
    ]


def train_command(*, python: str, paths: Paths, args: list[str]) -> list[str]:
    return [python, str(paths.course / "train.py"), "--output", str(paths.runs), *args]


def shell_command() -> list[str]:
    return ["/bin/bash"] if Path("/bin/bash").exists() else ["/bin/sh"]


def resolve_token(env: Mapping[str, str], state_dir: Path) -> str:
    """The token from .env, or one generated once and kept on the cache volume so the
    student's bookmark survives restarts."""
    if env.get("JUPYTER_TOKEN"):
        return env["JUPYTER_TOKEN"]
    token_file = state_dir / "jupyter-token"
    try:
        return token_file.read_text().strip()
    except FileNotFoundError:
        pass
    state_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    # O_EXCL: two containers starting at once must not write two different tokens.
    try:
        handle = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return token_file.read_text().strip()
    with os.fdopen(handle, "w") as stream:
        stream.write(token + "\n")
    return token


def say(message: str) -> None:
    print(f"[lab] {message}", flush=True)


def run_gate(env: Mapping[str, str]) -> tuple[int | None, dict]:
    """Run the gate and print its report. Returns (exit code if the start must stop, data)."""
    flavour = env.get("LAB_FLAVOUR", "cpu")
    require_gpu = env.get("LAB_REQUIRE_GPU", "true" if flavour != "cpu" else "false") == "true"
    timeout = float(env.get("LAB_GATE_TIMEOUT", "120"))
    say(f"Checking TensorFlow and the GPU ({flavour} lab, at most {timeout:.0f} s)...")
    facts, found = gate.check(flavour=flavour, timeout=timeout, env=env)
    for line in gate.report_lines(facts):
        say(f"  {line}")
    for shadowed in shadow.check():
        say(f"WARNING: {shadowed.line()}")
    decision = gate_policy(found, require_gpu=require_gpu)
    data = {"verdict": asdict(found), "probe": dict(facts.probe), "devices": dict(facts.devices), "log": facts.log}
    if found.status is GateStatus.GPU:
        say(found.headline)
    elif found.status is GateStatus.CPU and decision.proceed:
        banner = "!" * 72
        say(banner)
        say(f"NOTICE: {found.headline}.")
        say(f"  {found.fix}")
        say(banner)
    else:
        say(f"ERROR: {found.headline}.")
        say(f"  Fix: {found.fix}.")
        if found.status is GateStatus.CPU:
            say("  LAB_REQUIRE_GPU=true, so the lab does not start without a GPU.")
        say(f"  More: {found.doc_link}")
    return (None if decision.proceed else decision.exit_code), data


def exec_command(command: list[str], env: Mapping[str, str]) -> None:
    say(f"Running: {shlex.join(command)}")
    sys.stdout.flush()
    os.execvpe(command[0], command, dict(env))  # noqa: S606 - an argv list, never a shell string


def cmd_check(args: argparse.Namespace, env: dict[str, str], paths: Paths) -> int:
    stop, data = run_gate(env)
    if args.json:
        print(json.dumps(data, indent=1))
    return stop or 0


def cmd_lab(args: argparse.Namespace, env: dict[str, str], paths: Paths) -> int:
    prepare_work(paths)
    stop, _ = run_gate(env)
    if stop is not None:
        return stop
    token = resolve_token(env, paths.state)
    host_port = env.get("LAB_HOST_PORT", str(CONTAINER_PORT))
    env = {**env, "JUPYTER_TOKEN": token}
    say("JupyterLab is starting. When it says it is running, open:")
    say("")
    say(f"    {lab_url(host_port=host_port, token=token)}")
    say("")
    exec_command(lab_command(python=sys.executable, paths=paths, host_port=host_port), env)
    return 0  # not reached


def cmd_train(args: argparse.Namespace, env: dict[str, str], paths: Paths) -> int:
    prepare_work(paths)
    stop, _ = run_gate(env)
    if stop is not None:
        return stop
    exec_command(train_command(python=sys.executable, paths=paths, args=args.train_args), env)
    return 0


def cmd_hub(args: argparse.Namespace, env: dict[str, str], paths: Paths) -> int:
    missing = hubmode.missing_hub_settings(env)
    if missing:
        say("ERROR: " + hubmode.NOT_STARTED_BY_A_HUB.format(missing=", ".join(missing)))
        return 2
    prepare_work(paths)
    stop, _ = run_gate(env)
    if stop is not None:
        return stop
    say(f"JupyterHub single-user server for {env.get('JUPYTERHUB_USER', '?')} is starting.")
    exec_command(hubmode.singleuser_command(python=sys.executable, work=paths.work, args=args.train_args), env)
    return 0  # not reached


def cmd_shell(args: argparse.Namespace, env: dict[str, str], paths: Paths) -> int:
    prepare_work(paths)
    exec_command(shell_command(), env)
    return 0


def prepare_work(paths: Paths) -> None:
    if not os.access(paths.work, os.W_OK):
        raise SystemExit(
            f"[lab] ERROR: the work folder {paths.work} is not writable by user {os.getuid()}. "
            "Fix: set LAB_UID and LAB_GID in .env to the output of `id -u` and `id -g`."
        )
    actions = course.sync(paths.course_source, paths.course)
    copied = [a.path for a in actions if a.kind in ("copy", "update")]
    kept = [a.path for a in actions if a.kind == "keep"]
    if copied:
        say(f"Course material added to {paths.course}: {', '.join(copied)}")
    if kept:
        say(f"Kept your edited copies (the course has newer ones in {paths.course_source}): {', '.join(kept)}")


Command = Callable[[argparse.Namespace, dict, Paths], int]
COMMANDS: dict[str, tuple[Command, str]] = {
    "lab": (cmd_lab, "start JupyterLab (default)"),
    "train": (cmd_train, "run the course's training script once"),
    "check": (cmd_check, "run the GPU check only"),
    "hub": (cmd_hub, "start a JupyterHub single-user server (run by a hub's spawner)"),
    "shell": (cmd_shell, "open a shell in the lab's environment"),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="labkit", description="The course lab's container entrypoint.")
    sub = parser.add_subparsers(dest="command")
    for name, (_, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text)
        if name == "check":
            command_parser.add_argument("--json", action="store_true", help="print the gate's data as JSON")
    # train passes everything after it to train.py, hub to jupyterhub-singleuser (the
    # spawner's args); argparse.REMAINDER cannot take arguments that start with '--', so
    # unknown arguments are collected instead.
    args, extra = parser.parse_known_args(argv or ["lab"])
    if extra and args.command not in ("train", "hub"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.train_args = extra
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problems = envcheck.validate(os.environ)
    if problems:
        for problem in problems:
            print(f"[lab] ERROR in .env: {problem.line()}", file=sys.stderr, flush=True)
        print("[lab] Nothing was started. Edit .env and start again.", file=sys.stderr, flush=True)
        return 2
    env = envcheck.sanitize(os.environ)
    paths = CONTAINER_PATHS
    handler, _ = COMMANDS[args.command]
    return handler(args, env, paths)
