"""The `scripts/lab` commands: one module each, registered by one line in COMMANDS below.

To add a command (say `lock`):

1. Write `labhost/commands/lock.py` with a module-level `COMMAND`::

       from labhost.commands import Command
       from labhost.world import World

       def arguments(parser: argparse.ArgumentParser) -> None:
           parser.add_argument("--check", action="store_true", help="...")

       def run(args: argparse.Namespace, world: World) -> int:
           world.say("...")          # print through world.out / world.err, never print()
           return 0                  # the exit code of `scripts/lab lock`

       COMMAND = Command(help="one line for `scripts/lab --help`", run=run, arguments=arguments)

2. Add its line to COMMANDS: `"lock": "labhost.commands.lock:COMMAND",`.

`world` (labhost.world.World) is everything the command may touch: the repository, the host's
root folder, the environment, stdout/stderr, the Docker runner and the terminal. Tests build a
World from a fake host tree (tests/host/fakeworld.py) and call `cli.main([...], world)`; put the
decisions in pure functions of their own module and keep `run` a thin shell around them.
Shared helpers: labhost.survey (host facts, plan, the doctor's context, the flavour in use) and
labhost.commands.options (options several commands share, such as --flavour).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from labhost.world import World


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """For commands that take no options of their own."""


@dataclass(frozen=True)
class Command:
    help: str
    run: Callable[[argparse.Namespace, World], int]
    arguments: Callable[[argparse.ArgumentParser], None] = no_arguments
    # Arguments after the command's own options go to `docker compose` unchanged, in
    # args.extra (argparse would otherwise take `logs -f` for an option of its own).
    passes_through: bool = False


# name -> "module:attribute", in the order `scripts/lab --help` lists them.
COMMANDS: dict[str, str] = {
    "doctor": "labhost.commands.doctor:COMMAND",
    "setup": "labhost.commands.setup:COMMAND",
    "up": "labhost.commands.up:COMMAND",
    "down": "labhost.commands.passthrough:DOWN",
    "logs": "labhost.commands.passthrough:LOGS",
    "ps": "labhost.commands.passthrough:PS",
    "report": "labhost.commands.report:COMMAND",
    "verify": "labhost.commands.verify:COMMAND",
    "lock": "labhost.commands.lock:COMMAND",
    "release": "labhost.commands.release:COMMAND",
    "export": "labhost.commands.handout:EXPORT",
    "import": "labhost.commands.handout:IMPORT",
}


def load(name: str) -> Command:
    module, attribute = COMMANDS[name].split(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, Command), f"{COMMANDS[name]} is not a labhost.commands.Command"
    return command
