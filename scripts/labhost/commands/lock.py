"""`scripts/lab lock`: re-make the lab layer's hashed lock of each flavour inside its base.

    scripts/lab lock                      every flavour whose base image is on this computer
    scripts/lab lock --flavour rocm       one flavour
    scripts/lab lock --check              no Docker: exit 1 if a lock is older than its inputs

The resolving runs in a throwaway container of the flavour's base image (image/relock.py),
so the base's own packages are what the lock is resolved against. Nothing is pulled: a base
that is not on this computer is named with the command that fetches it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from labhost import compose, imageref
from labhost.commands import Command

FLAVOURS = tuple(compose.COMPOSE_FILES)
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "image"))
import lockfile  # noqa: E402

SHOWN_CHANGES = 8
HELP = "re-make the lab layer's hashed lock per flavour inside its base image (--check: is it current?)"


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flavour", choices=FLAVOURS, action="append", help="only this flavour (repeatable)")
    parser.add_argument("--check", action="store_true", help="only check that each lock matches its inputs")
    parser.add_argument("--output", type=Path, help="write the locks here instead of image/locks/")


@dataclass(frozen=True)
class Staleness:
    lock: str
    reasons: tuple[str, ...]


def check_locks(image_dir: Path, locks: list[str]) -> list[Staleness]:
    """Pure: which of these locks no longer match requirements-lab.txt and lock-exclude.txt."""
    requirements = (image_dir / "requirements-lab.txt").read_bytes()
    exclude = (image_dir / "lock-exclude.txt").read_bytes()
    found = []
    for name in locks:
        path = image_dir / "locks" / f"{name}.txt"
        if not path.is_file():
            found.append(Staleness(name, (f"{path.name} does not exist",)))
            continue
        lock = lockfile.parse(path.read_text())
        reasons = lockfile.stale_reasons(lock, requirements=requirements, exclude=exclude)
        extra = image_dir / "lock-inputs" / f"{name}.py"
        extra_digest = lockfile.file_digest(extra.read_bytes()) if extra.is_file() else "none"
        if lock.header.get("flavour-inputs-sha256") != extra_digest:
            reasons.append(f"image/lock-inputs/{name}.py changed since the lock was made")
        if reasons:
            found.append(Staleness(name, tuple(reasons)))
    return found


def changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """What a re-lock changed, one short item per package."""
    items = [f"+{name}=={new[name]}" for name in sorted(new.keys() - old.keys())]
    items += [f"-{name}=={old[name]}" for name in sorted(old.keys() - new.keys())]
    items += [
        f"{name} {old[name]} -> {new[name]}" for name in sorted(old.keys() & new.keys()) if old[name] != new[name]
    ]
    return items


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.replace(path)


def relock_command(*, base: str, base_ref: str, lock: str, image_dir: Path, out: Path) -> list[str]:
    # The host user's IDs: what the container writes belongs to the instructor, not root.
    return [
        "docker", "run", "--rm", "--user", f"{os.getuid()}:{os.getgid()}", "--env", "HOME=/tmp",
        "--volume", f"{image_dir}:/lab-image:ro", "--volume", f"{out}:/out",
        "--entrypoint", "python3", base,
        "/lab-image/relock.py", "--flavour", lock, "--image-dir", "/lab-image", "--out", "/out",
        "--base-ref", base_ref,
    ]  # fmt: skip


def run(args: argparse.Namespace, world) -> int:
    image_dir = world.repo / "image"
    flavours = args.flavour or list(FLAVOURS)
    if args.check:
        stale = check_locks(image_dir, flavours)
        for item in stale:
            print(
                f"lock: image/locks/{item.lock}.txt is out of date: {'; '.join(item.reasons)}. "
                f"Fix: scripts/lab lock --flavour {item.lock}",
                file=world.err,
            )
        if not stale:
            world.say("lock: every lock matches image/requirements-lab.txt")
        return 1 if stale else 0

    targets = []
    for flavour in flavours:
        target = imageref.build_target(world.run, flavour, world.environ)
        if isinstance(target, str):
            print(f"lock: {flavour}: {target}", file=world.err)
            return 1
        targets.append(target)

    failed = False
    destination = args.output or image_dir / "locks"
    for target in targets:
        facts = imageref.inspect(world.run, target.base)
        if facts is None:
            print(
                f"lock: {target.flavour}: the base image {target.base} is not on this computer. "
                f"Fix: docker pull {target.base}   (then run this again)",
                file=world.err,
            )
            failed = True
            continue
        base_ref = imageref.registry_pin(world.run, target.base, facts)
        with tempfile.TemporaryDirectory(prefix="courselab-lock-") as scratch:
            out = Path(scratch)
            out.chmod(0o777)  # the container writes as the host user, into a folder it did not make
            argv = relock_command(base=target.base, base_ref=base_ref, lock=target.lock, image_dir=image_dir, out=out)
            world.show(argv)
            if world.interactive(argv, world.repo) != 0 or not (out / f"{target.lock}.txt").is_file():
                print(f"lock: {target.flavour}: resolving failed (above); the old lock is unchanged", file=world.err)
                failed = True
                continue
            new_text = (out / f"{target.lock}.txt").read_text()
            old_path = destination / f"{target.lock}.txt"
            old = lockfile.parse(old_path.read_text()).pins() if old_path.is_file() else {}
            write_atomic(destination / f"{target.lock}.base.txt", (out / f"{target.lock}.base.txt").read_text())
            write_atomic(old_path, new_text)
        diff = changes(old, lockfile.parse(new_text).pins())
        shown = ", ".join(diff[:SHOWN_CHANGES]) + (
            f", ... ({len(diff) - SHOWN_CHANGES} more)" if len(diff) > SHOWN_CHANGES else ""
        )
        world.say(f"lock: wrote {old_path}: {len(diff)} changes{': ' + shown if diff else ''}")
    return 1 if failed else 0


COMMAND = Command(help=HELP, run=run, arguments=arguments)
