"""Options that several commands share."""

from __future__ import annotations

import argparse

from labkit.i18n import _

from labhost import compose

FLAVOURS = tuple(compose.COMPOSE_FILES)


def add_flavour(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flavour", choices=FLAVOURS, help=_("use this stack instead of the one in .env or detected"))
