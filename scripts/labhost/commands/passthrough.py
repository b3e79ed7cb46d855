"""`scripts/lab down|logs|ps`: the plain compose command for the lab's files, printed and run."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from labkit.i18n import N_, _

from labhost import compose
from labhost.commands import Command
from labhost.commands.memory_note import say_memory_kills
from labhost.commands.options import add_flavour
from labhost.survey import lab_flavour
from labhost.world import World


def arguments(parser: argparse.ArgumentParser) -> None:
    add_flavour(parser)
    parser.add_argument("extra", nargs="*", metavar="ARGS", help=_("passed on to docker compose, e.g. -f"))


def passthrough(action: str, *, memory_note: bool) -> Callable[[argparse.Namespace, World], int]:
    def run(args: argparse.Namespace, world: World) -> int:
        flavour = lab_flavour(world, chosen=args.flavour)
        argv = compose.command(flavour, action, *args.extra)
        world.show(argv)
        code = world.interactive(argv, world.repo)
        if memory_note:
            say_memory_kills(world, flavour)
        return code

    return run


DOWN = Command(
    help=N_("stop the lab (docker compose down); your files in ./work stay"),
    run=passthrough("down", memory_note=False),
    arguments=arguments,
    passes_through=True,
)
LOGS = Command(
    help=N_("show the lab's logs (docker compose logs; add -f to follow)"),
    run=passthrough("logs", memory_note=True),
    arguments=arguments,
    passes_through=True,
)
PS = Command(
    help=N_("show the lab's containers (docker compose ps)"),
    run=passthrough("ps", memory_note=True),
    arguments=arguments,
    passes_through=True,
)
