"""`scripts/lab`: parse the command line and run one command from labhost.commands.

Each command is its own module there (see that package's docstring to add one); this file only
builds the parser from the registry and dispatches. Every command prints the plain docker
command it runs.
"""

from __future__ import annotations

import argparse
import os
import sys

from labkit.i18n import N_, _

from labhost.argparse_i18n import TranslatedArgumentParser
from labhost.commands import COMMANDS, Command, load
from labhost.envfile import EnvFile
from labhost.world import World

DESCRIPTION = N_("The course lab on this computer. Every command prints the plain `docker compose` command it runs.")


def parser(commands: dict[str, Command]) -> argparse.ArgumentParser:
    """In the language LAB_LANG or the locale gives now (labkit.i18n looks it up at call time)."""
    main = TranslatedArgumentParser(prog="scripts/lab", description=_(DESCRIPTION))
    sub = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in commands.items():
        # The student commands' help is marked N_ in their modules (report too: students send
        # its file); the instructor commands' (verify, lock, release, export, import) is not, on
        # purpose: instructors read English, so they are listed with their English help in every
        # language.
        shown = _(command.help)
        command.arguments(sub.add_parser(name, help=shown, description=shown))
    return main


def split_passthrough(argv: list[str], commands: dict[str, Command]) -> tuple[list[str], list[str]]:
    """`logs -f lab` -> (["logs"], ["-f", "lab"]): argparse would take -f for its own option."""
    if not argv or argv[0] not in commands or not commands[argv[0]].passes_through:
        return argv, []
    own = argv[:1]
    rest = argv[1:]
    while rest and (rest[0] in ("-h", "--help") or rest[0] == "--flavour" or rest[0].startswith("--flavour=")):
        take = 2 if rest[0] == "--flavour" else 1
        own, rest = own + rest[:take], rest[take:]
    return own, rest


def language_of_env_file(world: World) -> str:
    """LAB_LANG from .env, which decides scripts/lab's language too (the environment's wins)."""
    if "LAB_LANG" in os.environ or not world.env_path.is_file():
        return ""
    try:
        return EnvFile.read(world.env_path).values().get("LAB_LANG", "")
    except (OSError, ValueError):
        return ""


def main(argv: list[str] | None = None, world: World | None = None) -> int:
    commands = {name: load(name) for name in COMMANDS}
    own, extra = split_passthrough(list(sys.argv[1:] if argv is None else argv), commands)
    world = world or World()
    # Decided before the parser is built, so --help and usage errors are in it too.
    lang = language_of_env_file(world)
    if lang:
        os.environ["LAB_LANG"] = lang
    try:
        args = parser(commands).parse_args(own)
        command = commands[args.command]
        if command.passes_through:
            args.extra = extra
        return command.run(args, world)
    except KeyboardInterrupt:
        return 130
    finally:
        if lang:
            del os.environ["LAB_LANG"]


if __name__ == "__main__":
    sys.exit(main())
