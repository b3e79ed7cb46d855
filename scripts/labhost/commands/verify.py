"""`scripts/lab verify`: start the lab, run the GPU gate, a short benchmark and the first
notebook, and write one redacted JSON record: evidence that this hardware works, for a
maintainer to add to docs/hardware/ (see docs/hardware/README.md)."""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date
from pathlib import Path

from labkit import atomic

from labhost import compose, hardware_table, report, verify
from labhost.commands import Command
from labhost.commands.options import add_flavour
from labhost.commands.up import refuse_bad_env, refuse_to_start
from labhost.survey import lab_flavour, survey
from labhost.world import World, read_env

HARDWARE_README = Path("docs/hardware/README.md")


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", help="file to write (default: courselab-verify-<flavour>-<gpu>-<date>.json)")
    parser.add_argument(
        "--bench-steps",
        type=int,
        default=verify.BENCH_STEPS,
        help="steps per benchmark round (default %(default)s; fewer is quicker and rougher)",
    )
    parser.add_argument(
        "--update-table",
        action="store_true",
        help="for maintainers: rewrite docs/hardware/README.md's table from docs/hardware/*.json; runs nothing else",
    )
    add_flavour(parser)


def in_lab(flavour: str, *argv: str) -> list[str]:
    return compose.command(flavour, "exec", "-T", "lab", *argv)


def capture(world: World, argv: list[str]) -> verify.Step:
    world.show(argv)
    assert world.run_long is not None
    started = time.monotonic()
    done = world.run_long(argv)
    return verify.Step(done.returncode, done.stdout, done.stderr, round(time.monotonic() - started, 1))


def run_steps(world: World, flavour: str, *, bench_steps: int) -> tuple[verify.Outcome, str]:
    """Up, gate, benchmark, notebook; stops at the first step that cannot go on. Returns the
    outcome and the container's token (to redact)."""
    argv = compose.up(flavour)
    world.show(argv)
    clock = time.monotonic()
    started = verify.Step(world.interactive(argv, world.repo), seconds=round(time.monotonic() - clock, 1))
    if not started.ok:
        return verify.Outcome(flavour, started), ""
    assert world.run is not None
    token = world.run(compose.read_token(flavour))
    gate = capture(world, in_lab(flavour, "python", "-P", "-s", "-m", "labkit", "check", "--json"))
    bench = capture(world, in_lab(flavour, *verify.benchmark_command(steps=bench_steps)))
    if bench.ok:
        written = world.run(in_lab(flavour, "cat", verify.BENCH_REPORT))
        bench = verify.Step(written.returncode, written.stdout, written.stderr or bench.stderr, bench.seconds)
    notebook = capture(world, in_lab(flavour, *verify.notebook_command()))
    container_token = token.stdout.strip() if token.returncode == 0 else ""
    return verify.Outcome(flavour, started, gate, bench, notebook), container_token


def lab_is_running(world: World, flavour: str) -> bool:
    assert world.run is not None
    done = world.run(compose.command(flavour, "ps", "-q", "lab"))
    return done.returncode == 0 and bool(done.stdout.strip())


def run(args: argparse.Namespace, world: World) -> int:
    if args.update_table:
        changed = hardware_table.update(world.repo / HARDWARE_README)
        world.say(f"{HARDWARE_README}: {'table rewritten' if changed else 'table already up to date'}")
        return 0
    flavour = lab_flavour(world, chosen=args.flavour)
    if refuse_bad_env(world) or refuse_to_start(world):
        return 1
    was_running = lab_is_running(world, flavour)
    if args.bench_steps < 1:
        print("verify: --bench-steps must be at least 1", file=world.err)
        return 2
    outcome, container_token = run_steps(world, flavour, bench_steps=args.bench_steps)
    if not was_running:
        # Leave the computer as verify found it.
        assert world.run is not None
        world.run(compose.command(flavour, "down"))
    s = survey(world)
    env = read_env(world)
    values = env.values() if env else {}
    images = world.run(compose.command(flavour, "config", "--images")) if world.run else None
    rec = verify.record(
        outcome=outcome,
        host=s.host,
        the_plan=s.plan,
        settings={**values, "LAB_FLAVOUR": flavour},
        versions={
            "docker_engine": s.engine.server_version,
            "docker_compose": s.engine.compose_version,
            "python_on_host": platform.python_version(),
        },
        images=images.stdout.split() if images and images.returncode == 0 else [],
        today=date.today(),
    )
    user = s.host.user.name or world.environ.get("SUDO_USER", "") or world.environ.get("USER", "")
    work = values.get("LAB_WORK_DIR") or ""
    replacements = verify.identifying(
        secrets=[*report.secrets_in(values), container_token],
        user=user,
        home=world.environ.get("HOME", ""),
        paths=[str(world.repo), str((world.repo / work).resolve()) if work else ""],
        hostname=platform.node(),
    )
    rec = verify.redact(rec, replacements)
    target = Path(args.output or verify.file_name(rec))
    atomic.write_text(target, json.dumps(rec, indent=1, ensure_ascii=False) + "\n", mode=0o644)
    world.say(
        f"\nverify: {rec['result']} ({flavour}). Wrote {target}: no tokens, user names or folders in it. "
        "To add it as evidence, send it to the course maintainers (they put it in docs/hardware/)."
    )
    return 0 if outcome.passed else 1


COMMAND = Command(
    help="check this computer end to end (lab, GPU gate, benchmark, first notebook) and write a redacted record",
    run=run,
    arguments=arguments,
)
