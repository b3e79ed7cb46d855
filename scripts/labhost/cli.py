"""`scripts/lab`: the course lab's host commands. Each prints the plain docker command it runs."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from labhost import checks, compose, docker, envsetup, facts, memory, output, plan, report
from labhost.envfile import EnvFile, validate, write_atomic
from labhost.envfile import unified_diff as diff_text

REPO = Path(__file__).resolve().parents[2]


def interactive(argv: Sequence[str], cwd: Path) -> int:
    """Run a command on the terminal (its output is the student's to read)."""
    try:
        return subprocess.run(list(argv), cwd=cwd, check=False).returncode
    except FileNotFoundError:
        print(f"{argv[0]}: command not found; run `scripts/lab doctor`", file=sys.stderr)
        return 127


def port_free(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


def disk_free(path: str | None) -> int | None:
    for candidate in (path, "/var/lib/docker", "/"):
        if candidate:
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                continue
    return None


@dataclass
class World:
    """Everything a command touches, so tests can swap any of it."""

    repo: Path = REPO
    root: Path = Path("/")
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    out: TextIO = sys.stdout
    err: TextIO = sys.stderr
    run: docker.Runner | None = None
    interactive: Callable[[Sequence[str], Path], int] = interactive
    user: facts.User | None = None
    devices: facts.DeviceSource | None = None
    port_free: Callable[[str, int], bool] = port_free
    disk_free: Callable[[str | None], int | None] = disk_free

    def __post_init__(self) -> None:
        if self.run is None:
            self.run = lambda argv: docker.subprocess_runner(argv, cwd=str(self.repo))

    @property
    def env_path(self) -> Path:
        return self.repo / ".env"

    def say(self, message: str = "") -> None:
        print(message, file=self.out)

    def show(self, argv: Sequence[str]) -> None:
        """Print the command about to run, the way a student would type it."""
        self.say(f"$ {compose.shown(argv)}")


def read_env(world: World) -> EnvFile | None:
    return EnvFile.read(world.env_path) if world.env_path.is_file() else None


def supported_targets(world: World, values: Mapping[str, str]) -> plan.SupportedTargets:
    """The ROCm image's own label when the image is here, else the Dockerfile's ARG default."""
    assert world.run is not None
    images = world.run(compose.command("rocm", "config", "--images"))
    if images.returncode == 0:
        for image in images.stdout.split():
            labels = docker.image_labels(world.run, image)
            found = plan.targets_from_labels(labels, image) if labels else None
            if found is not None:
                return found
    return plan.targets_from_dockerfile(world.repo / "Dockerfile.rocm")


@dataclass(frozen=True)
class Survey:
    host: facts.HostFacts
    engine: docker.DockerFacts
    supported: plan.SupportedTargets
    plan: plan.Plan
    env: EnvFile | None


def survey(world: World, *, ask_docker: bool = True) -> Survey:
    host = facts.gather(world.root, user=world.user, devices=world.devices)
    assert world.run is not None
    engine = docker.gather(world.run) if ask_docker else docker.DockerFacts(cli_installed=False, problem="skipped")
    env = read_env(world)
    values = env.values() if env else {}
    supported = (
        supported_targets(world, values)
        if engine.usable
        else plan.targets_from_dockerfile(world.repo / "Dockerfile.rocm")
    )
    return Survey(host, engine, supported, plan.make_plan(host, supported), env)


def context(world: World, s: Survey) -> checks.Context:
    values = s.env.values() if s.env else {}
    work = values.get("LAB_WORK_DIR") or "./work"
    work_path = Path(work) if Path(work).is_absolute() else world.repo / work
    flavour = values.get("LAB_FLAVOUR") if values.get("LAB_FLAVOUR") in compose.COMPOSE_FILES else s.plan.flavour
    image_present = False
    if s.engine.usable:
        assert world.run is not None
        images = world.run(compose.command(flavour, "config", "--images"))
        image_present = (
            images.returncode == 0
            and all(docker.image_labels(world.run, image) is not None for image in images.stdout.split())
            and bool(images.stdout.split())
        )
    port = values.get("LAB_PORT") or "8888"
    address = values.get("LAB_BIND_ADDRESS") or "127.0.0.1"
    return checks.Context(
        host=s.host,
        docker=s.engine,
        plan=s.plan,
        supported=s.supported,
        env=s.env,
        env_path=".env",
        work_dir=work,
        work_dir_exists=work_path.is_dir(),
        disk_free=world.disk_free(s.engine.root_dir) if s.engine.usable else None,
        image_present=image_present,
        port_free=world.port_free(address, int(port)) if port.isdigit() else None,
    )


def plan_summary(s: Survey) -> dict[str, object]:
    p = s.plan
    return {
        "flavour": p.flavour,
        "reason": p.reason,
        "gpu": p.gpu.name if p.gpu else None,
        "override": p.decision.override if p.decision else None,
        "rocr_visible_devices": p.visible_devices,
        "warnings": list(p.warnings),
        "image_targets": " ".join(t.llvm_name for t in s.supported.targets),
        "image_targets_source": s.supported.source,
        "compose_command": compose.shown(compose.up(p.flavour)),
    }


def cmd_doctor(args: argparse.Namespace, world: World) -> int:
    s = survey(world)
    results = checks.run_all(context(world, s))
    if args.json:
        world.say(output.as_json(results, {"plan": plan_summary(s)}))
    else:
        world.say(output.text(results, colour=output.use_colour(world.out, world.environ)))
    return 1 if checks.blocking(results) else 0


def setup_user(world: World) -> facts.User | None:
    user = world.user or facts.current_user()
    if user.uid != 0:
        return user
    # Under sudo, the student is the one who asked.
    if world.environ.get("SUDO_UID", "").isdigit() and world.environ.get("SUDO_GID", "").isdigit():
        return facts.User(
            int(world.environ["SUDO_UID"]), int(world.environ["SUDO_GID"]), (), world.environ.get("SUDO_USER", "")
        )
    return None


def cmd_setup(args: argparse.Namespace, world: World) -> int:
    user = setup_user(world)
    if user is None:
        print("setup: run it as your own user, not root (the lab never runs as root)", file=world.err)
        return 1
    s = survey(world, ask_docker=not args.offline)
    the_plan = s.plan
    if args.flavour and args.flavour != the_plan.flavour:
        the_plan = plan.Plan(
            args.flavour, f"chosen with --flavour (detected: {the_plan.flavour})", env={"LAB_FLAVOUR": args.flavour}
        )
    existing = world.env_path.read_text() if world.env_path.is_file() else None
    example_path = world.repo / ".env.example"
    example = example_path.read_text() if example_path.is_file() else ""
    update = envsetup.update_env(existing, example, the_plan, user)
    if update.problems:
        first = update.problems[0]
        print(f"setup: not writing .env: {first.text('.env')}", file=world.err)
        return 1
    world.say(f"Stack: {the_plan.flavour} ({the_plan.reason})")
    for warning in the_plan.warnings:
        world.say(f"Warning: {warning}")
    if not update.changed:
        world.say(".env is up to date; nothing to change.")
        return 0
    if args.dry_run:
        world.say(diff_text(update.before, update.after, ".env"))
        return 0
    saved = write_atomic(world.env_path, update.after)
    world.say(f"Wrote .env: {', '.join(update.changes) or 'copied from .env.example'}")
    if saved:
        world.say(f"Your previous file is in {saved.name}.")
    world.say(f"Start the lab: scripts/lab up   (or: {compose.shown(compose.up(the_plan.flavour))})")
    return 0


def lab_flavour(args: argparse.Namespace, world: World) -> str:
    if getattr(args, "flavour", None):
        return args.flavour
    env = read_env(world)
    configured = env.values().get("LAB_FLAVOUR") if env else None
    if configured in compose.COMPOSE_FILES:
        return configured
    return survey(world, ask_docker=False).plan.flavour


def refuse_bad_env(world: World) -> bool:
    env = read_env(world)
    problems = validate(env) if env else []
    for problem in problems:
        print(problem.text(".env"), file=world.err)
    if problems:
        print("Nothing was started. Fix the line above, or run `scripts/lab setup`.", file=world.err)
    return bool(problems)


# What must hold before `up` starts anything (the doctor runs the same checks): Docker usable,
# room for the image (a build that fills the disk dies half-way with a cryptic error), the
# port free.
START_CHECKS = (checks.docker_cli, checks.docker_engine, checks.compose_v2, checks.disk, checks.port)


def refuse_to_start(world: World) -> bool:
    ctx = context(world, survey(world))
    for check in START_CHECKS:
        result = check(ctx)
        if result is not None and result.status == checks.FAIL:
            print(f"{result.detail}. Fix: {result.fix}. Nothing was started.", file=world.err)
            return True
    return False


def cmd_up(args: argparse.Namespace, world: World) -> int:
    if refuse_bad_env(world) or refuse_to_start(world):
        return 1
    flavour = lab_flavour(args, world)
    argv = compose.up(flavour)
    world.show(argv)
    code = world.interactive(argv, world.repo)
    if code != 0:
        print(
            "The lab did not start. See why: scripts/lab logs   and check the computer: scripts/lab doctor",
            file=world.err,
        )
        say_memory_kills(world, flavour)
        return code
    env = read_env(world)
    values = env.values() if env else {}
    token = values.get("JUPYTER_TOKEN", "")
    if not token:
        read = compose.read_token(flavour)
        assert world.run is not None
        done = world.run(read)
        token = done.stdout.strip() if done.returncode == 0 else ""
    url = compose.lab_url(
        address=values.get("LAB_BIND_ADDRESS", "127.0.0.1"),
        port=values.get("LAB_PORT") or "8888",
        token=token or "TOKEN",
    )
    world.say(f"\nThe lab is running. Open:\n  {url}")
    if not token:
        world.say(f"(the token could not be read; see it with: {compose.shown(compose.read_token(flavour))})")
    world.say(f"Stop it with: scripts/lab down   (or: {compose.shown(compose.command(flavour, 'down'))})")
    return 0


def passthrough(action: str) -> Callable[[argparse.Namespace, World], int]:
    def run(args: argparse.Namespace, world: World) -> int:
        flavour = lab_flavour(args, world)
        argv = compose.command(flavour, action, *args.extra)
        world.show(argv)
        code = world.interactive(argv, world.repo)
        if action in ("ps", "logs"):
            say_memory_kills(world, flavour)
        return code

    return run


def say_memory_kills(world: World, flavour: str) -> None:
    env = read_env(world)
    assert world.run is not None
    note = memory.memory_report(world.run, flavour, env.values() if env else {})
    if note:
        print(note, file=world.err)


def cmd_report(args: argparse.Namespace, world: World) -> int:
    s = survey(world)
    results = checks.run_all(context(world, s))
    values = s.env.values() if s.env else {}
    assert world.run is not None
    versions = [
        f"python {platform.python_version()}",
        f"os {s.host.os_release.get('PRETTY_NAME', '?')}",
        f"kernel {s.host.proc_version or platform.release()}",
        f"docker client {s.engine.client_version} / engine {s.engine.server_version}",
        f"docker compose {s.engine.compose_version}",
    ]
    flavour = lab_flavour(args, world)
    secrets = report.secrets_in(values)
    if args.no_gate or not s.engine.usable:
        gate = "(not run: " + ("--no-gate" if args.no_gate else "the Docker engine is not usable") + ")"
    else:
        argv = compose.gate_check(flavour)
        world.say(f"$ {compose.shown(argv)}   (the GPU gate; this can take a few minutes)")
        done = world.run(argv)
        gate = f"$ {compose.shown(argv)}\nexit code {done.returncode}\n{done.stdout}\n"
        gate += f"--- stderr (last lines) ---\n{done.stderr[-4000:]}"
        token = world.run(compose.read_token(flavour))
        if token.returncode == 0 and token.stdout.strip():
            secrets.append(token.stdout.strip())
    sections = [
        ("doctor", output.text(results, colour=False)),
        ("doctor (json)", output.as_json(results, {"plan": plan_summary(s)})),
        ("versions", "\n".join(versions)),
        (".env", s.env.render() if s.env else "(no .env)"),
        ("gpu gate: check --json", gate),
    ]
    text = report.build(sections, secrets)
    target = Path(args.output)
    target.write_text(text)
    os.chmod(target, 0o644)
    world.say(f"Wrote {target}: send this file to your instructor or TA (tokens are removed).")
    return 0


Command = Callable[[argparse.Namespace, World], int]
COMMANDS: dict[str, tuple[Command, str]] = {
    "doctor": (cmd_doctor, "check this computer: Docker, GPU, device files, .env; exit 1 if the lab cannot start"),
    "setup": (cmd_setup, "write .env for this computer (GPU, override, groups, token); keeps your edits"),
    "up": (cmd_up, "start the lab (docker compose up -d --wait) and print its URL"),
    "down": (passthrough("down"), "stop the lab (docker compose down); your files in ./work stay"),
    "logs": (passthrough("logs"), "show the lab's logs (docker compose logs; add -f to follow)"),
    "ps": (passthrough("ps"), "show the lab's containers (docker compose ps)"),
    "report": (cmd_report, "write one file for your instructor: doctor, versions, GPU gate, secrets removed"),
}
FLAVOURS = tuple(compose.COMPOSE_FILES)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="scripts/lab",
        description="The course lab on this computer. Every command prints the plain `docker compose` command it runs.",
    )
    sub = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == "doctor":
            p.add_argument("--json", action="store_true", help="print the results as JSON")
        if name == "setup":
            p.add_argument("--dry-run", action="store_true", help="show the change as a diff; write nothing")
            p.add_argument(
                "--offline", action="store_true", help="do not ask Docker (use the Dockerfile's target list)"
            )
        if name == "report":
            p.add_argument(
                "-o", "--output", default="courselab-report.txt", help="file to write (default: %(default)s)"
            )
            p.add_argument("--no-gate", action="store_true", help="skip the in-container GPU gate")
        if name in ("setup", "up", "down", "logs", "ps", "report"):
            p.add_argument("--flavour", choices=FLAVOURS, help="use this stack instead of the one in .env or detected")
        if name in ("down", "logs", "ps"):
            p.add_argument("extra", nargs="*", metavar="ARGS", help="passed on to docker compose, e.g. -f")
    return main


PASSTHROUGH = ("down", "logs", "ps")


def split_passthrough(argv: list[str]) -> tuple[list[str], list[str]]:
    """`logs -f lab` -> (["logs"], ["-f", "lab"]): argparse would take -f for its own option."""
    if not argv or argv[0] not in PASSTHROUGH:
        return argv, []
    own = argv[:1]
    rest = argv[1:]
    while rest and (rest[0] in ("-h", "--help") or rest[0] == "--flavour" or rest[0].startswith("--flavour=")):
        take = 2 if rest[0] == "--flavour" else 1
        own, rest = own + rest[:take], rest[take:]
    return own, rest


def main(argv: list[str] | None = None, world: World | None = None) -> int:
    own, extra = split_passthrough(list(sys.argv[1:] if argv is None else argv))
    args = parser().parse_args(own)
    if args.command in PASSTHROUGH:
        args.extra = extra
    handler, _ = COMMANDS[args.command]
    try:
        return handler(args, world or World())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
