"""Tell the student when the lab was stopped for memory, instead of leaving a "kernel died"
to guess at.

Docker emits an `oom` event for the container whenever the kernel's OOM killer ends a
process in it (a notebook kernel that asked for too much), even when the container itself
keeps running; State.OOMKilled only covers the container's main process. So both are read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from labkit.i18n import _

from labhost import compose
from labhost.docker import Runner


def message(kills: int, container_killed: bool, limit: str | None) -> str | None:
    """One line for the student, or None when nothing was killed for memory."""
    if kills == 0 and not container_killed:
        return None
    what = (
        _("the lab itself was stopped")
        if container_killed
        else _("{kills} process(es) in the lab were stopped").format(kills=kills)
    )
    if limit and limit != "0":
        fix = _("raise LAB_MEMORY_LIMIT (now {limit}) in .env, or use a smaller batch size or dataset").format(
            limit=limit
        )
    else:
        fix = _("the computer ran out of memory: close other programs, or use a smaller batch size or dataset")
    return _("Out of memory: {what} (a notebook kernel that died just now is the usual sign). Fix: {fix}.").format(
        what=what, fix=fix
    )


def memory_report(run: Runner, flavour: str, env: Mapping[str, str], now: datetime | None = None) -> str | None:
    ids = run(compose.command(flavour, "ps", "-a", "-q")).stdout.split()
    if not ids:
        return None
    # Unix seconds: a date without a zone would be read in the client's local time zone.
    until = str(int((now or datetime.now(timezone.utc)).timestamp()))
    kills, container_killed = 0, False
    for container in ids:
        done = run(["docker", "inspect", "--format", "{{json .State}}", container])
        if done.returncode != 0:
            continue
        state = json.loads(done.stdout)
        container_killed = container_killed or bool(state.get("OOMKilled"))
        started = datetime.strptime(state["StartedAt"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
        events = run(oom_events(container, since=str(int(started.timestamp())), until=until))
        kills += len([line for line in events.stdout.splitlines() if line.strip()])
    return message(kills, container_killed, env.get("LAB_MEMORY_LIMIT"))


def oom_events(container: str, *, since: str, until: str) -> Sequence[str]:
    return [
        "docker", "events", "--since", since, "--until", until,
        "--filter", f"container={container}", "--filter", "event=oom", "--format", "{{.Action}}",
    ]  # fmt: skip
