"""`scripts/lab doctor`: check this computer; exit 1 if the lab cannot start."""

from __future__ import annotations

import argparse

from labkit.i18n import N_, _

from labhost import checks, output
from labhost.commands import Command
from labhost.survey import context, plan_summary, survey
from labhost.world import World


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help=_("print the results as JSON"))


def run(args: argparse.Namespace, world: World) -> int:
    s = survey(world)
    results = checks.run_all(context(world, s))
    if args.json:
        world.say(output.as_json(results, {"plan": plan_summary(s)}))
    else:
        world.say(output.text(results, colour=output.use_colour(world.out, world.environ)))
    return 1 if checks.blocking(results) else 0


COMMAND = Command(
    help=N_("check this computer: Docker, GPU, device files, .env; exit 1 if the lab cannot start"),
    run=run,
    arguments=arguments,
)
