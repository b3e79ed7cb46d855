"""`scripts/lab report`: one file for the instructor (doctor, versions, GPU gate), secrets removed."""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

from labkit import atomic
from labkit.i18n import N_, _

from labhost import checks, compose, output, report
from labhost.commands import Command
from labhost.commands.options import add_flavour
from labhost.survey import context, lab_flavour, plan_summary, survey
from labhost.world import World


def arguments(parser: argparse.ArgumentParser) -> None:
    # Students run this to send their instructor one file: its help and the lines it prints are
    # in the student's language; the file itself stays English, for the instructor.
    parser.add_argument(
        "-o",
        "--output",
        default="courselab-report.txt",
        help=_("file to write (default: {default})").format(default="%(default)s"),
    )
    parser.add_argument("--no-gate", action="store_true", help=_("skip the in-container GPU gate"))
    add_flavour(parser)


def run(args: argparse.Namespace, world: World) -> int:
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
    flavour = lab_flavour(world, chosen=args.flavour)
    secrets = report.secrets_in(values)
    if args.no_gate or not s.engine.usable:
        gate = "(not run: " + ("--no-gate" if args.no_gate else "the Docker engine is not usable") + ")"
    else:
        argv = compose.gate_check(flavour)
        world.say(_("$ {command}   (the GPU gate; this can take a few minutes)").format(command=compose.shown(argv)))
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
    atomic.write_text(target, text, mode=0o644)
    world.say(_("Wrote {file}: send this file to your instructor or TA (tokens are removed).").format(file=target))
    return 0


COMMAND = Command(
    help=N_("write one file for your instructor: doctor, versions, GPU gate, secrets removed"),
    run=run,
    arguments=arguments,
)
