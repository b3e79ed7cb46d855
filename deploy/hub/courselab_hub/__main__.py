"""Admin commands, run inside the hub container (it alone has the Docker socket):

docker compose -f deploy/compose.yaml exec hub python3 -m courselab_hub gpus [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict

from courselab_hub import holders
from courselab_hub.networks import docker_client


def cmd_gpus(args: argparse.Namespace) -> int:
    prefix = os.environ.get("HUB_PREFIX", "") or "courselab"
    found = holders.rows(holders.list_containers(docker_client(), prefix))
    if args.json:
        print(json.dumps([asdict(row) for row in found], indent=1))
    else:
        print(holders.table(found))
    return 0


COMMANDS = {"gpus": (cmd_gpus, "who holds which GPU (every student server of this hub)")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m courselab_hub", description="The class hub's admin commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        command.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    handler, _ = COMMANDS[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
