"""The container's entrypoint: check the settings, bring the course material in, run the
GPU gate, then build the command for what was asked, print it, and exec it.

    python -m labkit lab            JupyterLab (the default)
    python -m labkit hub [ARGS]     a JupyterHub single-user server (started by a hub's spawner)
    python -m labkit train [ARGS]   the course's training script, once
    python -m labkit bench [ARGS]   how fast this machine trains: CPU, each GPU, all GPUs
    python -m labkit prepare [ARGS] download a dataset into the cache volume, then stop
    python -m labkit check [--json] the GPU gate only; exit 0 when the lab would start
    python -m labkit shell          a shell in the lab's environment
    python -m labkit health         exit 0 when the lab is up (the image's HEALTHCHECK)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from labkit import course, envcheck, gate, health, hubmode, i18n, launch, namesakes, redact, shadow, sitepaths, urls
from labkit.diagnose import GateStatus, gate_policy
from labkit.hostfacts import flavour as hostflavour
from labkit.hostfacts import token as lab_token
from labkit.i18n import _
from labkit.runstate import RunState
from labkit.verdicts import section_link

CONTAINER_PORT = 8888
RUN_STATE = RunState()
Command = Callable[[argparse.Namespace, dict, "Paths"], int]
# Commands whose arguments go to the program they start (train.py, bench, prepare).
PASSTHROUGH = ("train", "bench", "prepare")


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


# JupyterLab's own language setting (the translation extension's "locale"), and the locale
# each lab language maps to: the installed language pack jupyterlab-language-pack-vi-VN.
UI_LANGUAGE_SETTINGS = Path("@jupyterlab/translation-extension/plugin.jupyterlab-settings")
UI_LOCALES = {"vi": "vi_VN"}


def write_ui_language(settings_dir: Path, lang: str) -> Path | None:
    """Start JupyterLab in the lab's language. A user setting, written at every start (HOME
    is the container's own), so LAB_LANG decides; English needs none."""
    locale = UI_LOCALES.get(lang)
    if locale is None:
        return None
    path = settings_dir / UI_LANGUAGE_SETTINGS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"locale": locale}) + "\n")
    return path


def lab_command(*, python: str, paths: Paths, host_port: str, host_address: str = urls.LOOPBACK) -> list[str]:
    # The token travels in JUPYTER_TOKEN, not argv, so `ps` and the printed command never
    # show it. custom_display_url makes Jupyter's own log show the host's port, not 8888.
    return [
        str(Path(python).with_name("jupyter-lab")),
        "--ServerApp.ip=0.0.0.0",
        f"--ServerApp.port={CONTAINER_PORT}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={paths.work}",
        f"--ServerApp.custom_display_url={urls.server_url(address=host_address, port=host_port)}",
        # Saves replace the file in one step: a killed container never truncates a notebook.
        "--ServerApp.contents_manager_class=labkit.contents.ReplacingFileManager",
        # No login before the GPU check has passed (JupyterLab starts while it runs).
        "--ServerApp.identity_provider_class=labkit.identity.GateIdentityProvider",
    ]


def train_command(*, python: str, paths: Paths, args: list[str]) -> list[str]:
    return [python, str(paths.course / "train.py"), "--output", str(paths.runs), *args]


def bench_command(*, python: str, paths: Paths, args: list[str]) -> list[str]:
    # The helper package in the image, never the student's course folder: an edit to
    # train.py cannot break the benchmark. -P: nor can a file in the work folder (the current
    # folder), as for every Python the lab runs (see the Dockerfile's ENTRYPOINT).
    return [python, "-P", "-m", "labtrain.bench", "--output", str(paths.runs), *args]


def prepare_command(*, python: str, paths: Paths, args: list[str]) -> list[str]:
    return [python, "-P", "-m", "labtrain.prepare", *args]


def shell_command() -> list[str]:
    return ["/bin/bash"] if Path("/bin/bash").exists() else ["/bin/sh"]


def resolve_token(env: Mapping[str, str], state_dir: Path) -> str:
    """The token from .env, or one generated once and kept on the cache volume so the
    student's bookmark survives restarts."""
    return env.get("JUPYTER_TOKEN") or lab_token.stored_token(state_dir)


def say(message: str) -> None:
    """One line of the lab's log, tokens hidden (labkit.redact)."""
    print(f"[lab] {redact.redact(message, redact.secrets_of(os.environ))}", flush=True)


def say_with_token(message: str) -> None:
    """The start's URL line, which shows the token on purpose: the one link the student opens
    (with a generated token, the only place it is shown). No other line may."""
    print(f"[lab] {message}", flush=True)


def troubleshooting_link(found) -> str:
    """The page section whose heading is the headline the student just read, in their language."""
    return section_link(found.headline)


def run_gate(env: Mapping[str, str], work: Path = CONTAINER_PATHS.work) -> tuple[int | None, dict]:
    """Run the gate and print its report. Returns (exit code if the start must stop, data)."""
    flavour = hostflavour.in_use(configured=env.get("LAB_FLAVOUR"))
    require_gpu = hostflavour.requires_gpu(flavour, env)
    timeout = float(env.get("LAB_GATE_TIMEOUT", "120"))
    say(
        _("Checking TensorFlow and the GPU ({flavour} lab, at most {seconds:.0f} s)...").format(
            flavour=flavour, seconds=timeout
        )
    )
    site_paths = sitepaths.read()
    shadows = shadow.check(paths=site_paths)
    shadowing = gate.shadowing_copies(site_paths, shadows)
    facts, found = gate.check(flavour=flavour, timeout=timeout, env=env, shadowing=shadowing)
    for line in gate.report_lines(facts):
        say(f"  {line}")
    for shadowed in shadows:
        say(shadowed.warning())
    for namesake in namesakes.check_work(work, site_paths.image):
        say(namesake.warning())
    decision = gate_policy(found, require_gpu=require_gpu)
    data = {"verdict": asdict(found), "probe": dict(facts.probe), "devices": dict(facts.devices), "log": facts.log}
    headline = _(found.headline)
    if found.status is GateStatus.GPU:
        say(headline)
    elif found.status is GateStatus.CPU and decision.proceed:
        banner = "!" * 72
        say(banner)
        say(_("NOTICE: {headline}.").format(headline=headline))
        say(f"  {found.fix}")
        say(banner)
    else:
        say(_("ERROR: {headline}.").format(headline=headline))
        say(_("  Fix: {fix}.").format(fix=found.fix))
        if found.status is GateStatus.CPU:
            say(_("  LAB_REQUIRE_GPU=true, so the lab does not start without a GPU."))
        say(_("  More: {link}").format(link=troubleshooting_link(found)))
    return (None if decision.proceed else decision.exit_code), data


def exec_command(command: list[str], env: Mapping[str, str]) -> None:
    say(_("Running: {command}").format(command=shlex.join(command)))
    sys.stdout.flush()
    os.execvpe(command[0], command, dict(env))  # noqa: S606 - an argv list, never a shell string


def cmd_check(args: argparse.Namespace, env: dict[str, str], paths: Paths) -> int:
    if not args.json:
        stop, _data = run_gate(env)
        return stop or 0
    # With --json, stdout is the JSON object alone (tools parse it); the lines for people go
    # to stderr, where `docker logs` and the report still show them.
    with contextlib.redirect_stdout(sys.stderr):
        stop, data = run_gate(env)
    print(json.dumps(data, indent=1), flush=True)
    return stop or 0


def cmd_lab(args: argparse.Namespace, env: dict[str, str], paths: Paths) -> int:
    prepare_work(paths)
    token = resolve_token(env, paths.state)
    write_ui_language(Path(env.get("HOME", "/home/lab")) / ".jupyter/lab/user-settings", i18n.language(env))
    host_port = env.get("LAB_HOST_PORT", str(CONTAINER_PORT))
    host_address = env.get("LAB_HOST_ADDRESS", urls.LOOPBACK)
    command = lab_command(python=sys.executable, paths=paths, host_port=host_port, host_address=host_address)
    say(
        _("Starting JupyterLab beside the GPU check; it lets you in once the check has passed: {command}").format(
            command=shlex.join(command)
        )
    )

    def ready() -> None:
        say(_("The lab is ready. Open:"))
        say("")
        say_with_token(f"    {urls.lab_url(address=host_address, port=host_port, token=token)}")
        if host_address in urls.ANY_ADDRESS:
            say_with_token(
                _("    (from another computer: http://THIS-COMPUTERS-ADDRESS:{port}/lab?token={token})").format(
                    port=host_port, token=token
                )
            )
        say("")

    return launch.lab_with_gate(
        command, {**env, "JUPYTER_TOKEN": token}, gate=lambda: run_gate(env)[0], ready=ready, state=RUN_STATE
    )


def after_gate(build: Callable[..., list[str]]) -> Command:
    """A command that runs once the settings and the GPU check passed, like the lab itself."""

    def handler(args: argparse.Namespace, env: dict[str, str], paths: Paths) -> int:
        prepare_work(paths)
        stop, _data = run_gate(env)
        if stop is not None:
            return stop
        exec_command(build(python=sys.executable, paths=paths, args=args.passthrough), env)
        return 0

    return handler


def cmd_hub(args: argparse.Namespace, env: dict[str, str], paths: Paths) -> int:
    missing = hubmode.missing_hub_settings(env)
    if missing:
        say("ERROR: " + hubmode.NOT_STARTED_BY_A_HUB.format(missing=", ".join(missing)))
        return 2
    prepare_work(paths)
    stop, _data = run_gate(env)
    if stop is not None:
        return stop
    from jupyter_core.paths import jupyter_path  # the image's Jupyter: only hub mode needs it

    kept, ignored = hubmode.split_extension_paths(
        jupyter_path("labextensions"), writable=lambda path: os.access(path, os.W_OK), exists=os.path.exists
    )
    say(f"Hub mode: lab extensions only from {', '.join(kept) or 'nowhere'}; ignored (writable): {', '.join(ignored)}")
    say(f"JupyterHub single-user server for {env.get('JUPYTERHUB_USER', '?')} is starting.")
    command = hubmode.singleuser_command(
        python=sys.executable, work=paths.work, args=args.passthrough, extension_paths=kept
    )
    exec_command(command, env)
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
        say(_("Course material added to {folder}: {files}").format(folder=paths.course, files=", ".join(copied)))
    if kept:
        say(
            _("Kept your edited copies (the course has newer ones in {folder}): {files}").format(
                folder=paths.course_source, files=", ".join(kept)
            )
        )


COMMANDS: dict[str, tuple[Command, str]] = {
    "lab": (cmd_lab, "start JupyterLab (default)"),
    "train": (after_gate(train_command), "run the course's training script once"),
    "bench": (after_gate(bench_command), "measure training speed on the CPU and every GPU"),
    "prepare": (after_gate(prepare_command), "download a dataset into the cache volume"),
    "check": (cmd_check, "run the GPU check only"),
    "hub": (cmd_hub, "start a JupyterHub single-user server (run by a hub's spawner)"),
    "shell": (cmd_shell, "open a shell in the lab's environment"),
    # `python -m labkit health` goes straight to labkit.health (see __main__.py); this entry
    # lists it in --help and serves main(["health", ...]).
    "health": (lambda args, env, paths: health.main(args.passthrough), "exit 0 when the lab is up (HEALTHCHECK)"),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="labkit", description="The course lab's container entrypoint.")
    sub = parser.add_subparsers(dest="command")
    for name, (_handler, help_text) in COMMANDS.items():
        # --help after train/bench/prepare is for the program they start, not for us.
        command_parser = sub.add_parser(name, help=help_text, add_help=name not in PASSTHROUGH)
        if name == "check":
            command_parser.add_argument("--json", action="store_true", help="print the gate's data as JSON")
    # train, bench and prepare pass everything after them on, hub to jupyterhub-singleuser (the
    # spawner's args); argparse.REMAINDER cannot take arguments that start with '--', so
    # unknown arguments are collected instead.
    args, extra = parser.parse_known_args(argv or ["lab"])
    if extra and args.command not in (*PASSTHROUGH, "health", "hub"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.passthrough = extra
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problems = envcheck.validate(os.environ)
    if problems:
        for problem in problems:
            print(_("[lab] ERROR in .env: {problem}").format(problem=problem.line()), file=sys.stderr, flush=True)
        print(_("[lab] Nothing was started. Edit .env and start again."), file=sys.stderr, flush=True)
        return 2
    for notice in envcheck.notices(os.environ):
        say(_("NOTICE: {notice}.").format(notice=notice))
    env = envcheck.sanitize(os.environ)
    paths = CONTAINER_PATHS
    if args.command != "health":
        RUN_STATE.start(args.command)
    handler, _help = COMMANDS[args.command]
    return handler(args, env, paths)
