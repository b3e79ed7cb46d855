"""`scripts/lab setup`: write .env for this computer, keeping the student's edits."""

from __future__ import annotations

import argparse
import dataclasses

from labkit.i18n import N_, _
from labkit.settings import effective

from labhost import arm64, compose, docker, envsetup, facts, memlimit, plan
from labhost.commands import Command
from labhost.commands.options import add_flavour
from labhost.envfile import unified_diff, write_atomic
from labhost.survey import survey
from labhost.world import World


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help=_("show the change as a diff; write nothing"))
    # Without Docker the built ROCm image cannot be read: its GPU targets come from the list
    # AMD documents for the configured base (labhost.rocm_bases.documented), marked as such.
    parser.add_argument(
        "--offline",
        action="store_true",
        help=_(
            "do not ask Docker (ROCm GPU targets: AMD's documented list for the configured base, not the built image's)"
        ),
    )
    add_flavour(parser)


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


def run(args: argparse.Namespace, world: World) -> int:
    user = setup_user(world)
    if user is None:
        print(_("setup: run it as your own user, not root (the lab never runs as root)"), file=world.err)
        return 1
    s = survey(world, ask_docker=not args.offline)
    the_plan = s.plan
    if args.flavour and args.flavour != the_plan.flavour:
        the_plan = plan.Plan(
            args.flavour,
            _("chosen with --flavour (detected: {flavour})").format(flavour=the_plan.flavour),
            env={"LAB_FLAVOUR": args.flavour},
        )
    existing = world.env_path.read_text() if world.env_path.is_file() else None
    chosen = (s.env.values() if s.env else {}).get("LAB_MEMORY_LIMIT")
    memory = memlimit.setting(chosen, s.engine.mem_total or memlimit.meminfo_total(world.root))
    if memory:
        the_plan = dataclasses.replace(the_plan, env={**the_plan.env, "LAB_MEMORY_LIMIT": memory})
    the_plan, build_base = arm64_base(world, the_plan, s.engine, chosen_values=s.env.values() if s.env else {})
    example_path = world.repo / ".env.example"
    example = example_path.read_text() if example_path.is_file() else ""
    update = envsetup.update_env(existing, example, the_plan, user)
    if update.problems:
        first = update.problems[0]
        print(_("setup: not writing .env: {problem}").format(problem=first.text(".env")), file=world.err)
        return 1
    world.say(_("Stack: {flavour} ({reason})").format(flavour=the_plan.flavour, reason=the_plan.reason))
    for warning in the_plan.warnings:
        world.say(_("Warning: {warning}").format(warning=warning.text))
    if build_base and not args.dry_run:
        world.say(
            _("Build the arm64 TensorFlow base once, before the first start: {command}").format(command=build_base)
        )
    if not update.changed:
        world.say(_(".env is up to date; nothing to change."))
        say_vscode(world, the_plan.flavour)
        return 0
    if args.dry_run:
        world.say(unified_diff(update.before, update.after, ".env"))
        return 0
    saved = write_atomic(world.env_path, update.after)
    world.say(_("Wrote .env: {changes}").format(changes=", ".join(update.changes) or _("copied from .env.example")))
    if saved:
        world.say(_("Your previous file is in {name}.").format(name=saved.name))
    say_vscode(world, the_plan.flavour)
    world.say(
        _("Start the lab: scripts/lab up   (or: {command})").format(command=compose.shown(compose.up(the_plan.flavour)))
    )
    return 0


def say_vscode(world: World, flavour: str) -> None:
    """The dev container that runs this computer's lab in VS Code (README: VS Code)."""
    path, name = compose.devcontainer(flavour)
    world.say(
        _('In VS Code: "Dev Containers: Reopen in Container", then "{name}" ({path})').format(name=name, path=path)
    )


def arm64_base(
    world: World, the_plan: plan.Plan, engine: docker.DockerFacts, *, chosen_values: dict[str, str]
) -> tuple[plan.Plan, str | None]:
    """On an arm64 engine the CPU lab needs an arm64 base (labhost.arm64): name it in .env,
    and return the command that builds it when it is not in the engine yet."""
    if the_plan.flavour != "cpu" or not arm64.is_arm64(engine.architecture) or world.run is None:
        return the_plan, None
    base = effective(chosen_values, "LAB_BASE_IMAGE") or ""
    verdict = arm64.judge_cpu_base(
        engine_architecture=engine.architecture,
        base_image=base,
        base_architecture=docker.image_architecture(world.run, base) if base else None,
    )
    if verdict is None or verdict.ok or verdict.arm64_base is None:
        return the_plan, None
    the_plan = dataclasses.replace(the_plan, env={**the_plan.env, "LAB_BASE_IMAGE": verdict.arm64_base})
    built = arm64.is_arm64(docker.image_architecture(world.run, verdict.arm64_base))
    return the_plan, None if built else verdict.command


COMMAND = Command(
    help=N_("write .env for this computer (GPU, override, groups, token); keeps your edits"),
    run=run,
    arguments=arguments,
)
