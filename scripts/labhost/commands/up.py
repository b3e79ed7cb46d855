"""`scripts/lab up`: refuse what would fail, start the lab, print its URL."""

from __future__ import annotations

import argparse

from labkit.envcheck import notices
from labkit.i18n import N_, _
from labkit.settings import effective

from labhost import checks, compose, platform_checks
from labhost.checkbase import Status
from labhost.commands import Command
from labhost.commands.memory_note import say_memory_kills
from labhost.commands.options import add_flavour
from labhost.envfile import EnvFile, validate
from labhost.survey import context, lab_flavour, survey
from labhost.world import World, read_env

# What must hold before `up` starts anything (the doctor runs the same checks), in the order
# a student fixes them: Docker usable, a CPU base that runs on this engine (arm64: an amd64
# TensorFlow aborts under emulation), the GPU's device files there and openable with the
# groups .env gives (no disk space helps a host without /dev/kfd), room for what still has to
# be pulled or built (labhost.diskneed: a build that fills the disk dies half-way with a cryptic
# error), the port free, the work folder usable.
START_CHECKS = (
    checks.docker_cli,
    checks.docker_engine,
    checks.compose_v2,
    platform_checks.cpu_base_architecture,
    checks.device_files,
    checks.disk,
    checks.port,
    checks.work_dir,
)


def refuse_bad_env(world: World) -> bool:
    env = read_env(world) or EnvFile([])
    problems = validate(env)
    for problem in problems:
        print(problem.text(".env"), file=world.err)
    if problems:
        print(_("Nothing was started. Fix the line above, or run `scripts/lab setup`."), file=world.err)
        return True
    for notice in notices(env.values()):
        print(_("Note: {notice}.").format(notice=notice), file=world.err)
    return False


def refuse_to_start(world: World) -> bool:
    ctx = context(world, survey(world))
    for check in START_CHECKS:
        result = check(ctx)
        if result is not None and result.status is Status.FAIL:
            print(
                _("{detail}. Fix: {fix}. Nothing was started.").format(detail=result.detail, fix=result.fix),
                file=world.err,
            )
            return True
    return False


def run(args: argparse.Namespace, world: World) -> int:
    flavour = lab_flavour(world, chosen=args.flavour)
    if refuse_bad_env(world) or refuse_to_start(world):
        return 1
    argv = compose.up(flavour)
    world.show(argv)
    code = world.interactive(argv, world.repo)
    if code != 0:
        print(
            _("The lab did not start. See why: scripts/lab logs   and check the computer: scripts/lab doctor"),
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
        address=effective(values, "LAB_BIND_ADDRESS") or "",
        port=effective(values, "LAB_PORT") or "",
        token=token or "TOKEN",
    )
    world.say("")
    world.say(_("The lab is running. Open:"))
    world.say(f"  {url}")
    if not token:
        world.say(
            _("(the token could not be read; see it with: {command})").format(
                command=compose.shown(compose.read_token(flavour))
            )
        )
    world.say(
        _("Stop it with: scripts/lab down   (or: {command})").format(
            command=compose.shown(compose.command(flavour, "down"))
        )
    )
    return 0


COMMAND = Command(
    help=N_("start the lab (docker compose up -d --wait) and print its URL"), run=run, arguments=add_flavour
)
