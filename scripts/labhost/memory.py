"""Tell the student when the lab was stopped for memory, instead of leaving a "kernel died"
to guess at.

What the engine says, and why each is read the way it is (tests/stack/test_engine_outputs.py
checks it on Engine 20.10 and Engine 26, both image stores):

- How many processes the OOM killer ended: the kernel's own count, `oom_kill` in the running
  container's memory cgroup (memory.events on cgroup v2, memory.oom_control on v1), the file the
  lab's kernels read too (labkit.oomkills). Docker's `oom` events are not a count: the
  engine emits one per OOM *situation*, and several threads hitting the limit at once make
  dozens for one kill (recorded on this machine's cgroup v1 for the same 6 kills: 133 events
  on Engine 20.10, 249 on Engine 26 and 18 on Engine 26's containerd store;
  tests/host/fixtures/docker/oom-engine-*). An event only says that something was killed: it is read
  when the count cannot be (a container that does not answer `docker exec`).
- Whether the lab itself was stopped for memory: State.OOMKilled means "a process of this
  container was killed for memory" (Engine 26 sets it at the kill, while the container keeps
  running; 20.10 when it stops, also after a killed notebook kernel). So the lab itself was
  stopped when it is not running, OOMKilled is set and it exited on SIGKILL (137).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from labkit import oomkills
from labkit.i18n import _

from labhost import compose
from labhost.docker import Runner

SIGKILL_EXIT = 137


@dataclass(frozen=True)
class Kills:
    processes: int | None  # processes the OOM killer ended; None: at least one, count unknown
    container: bool = False  # the lab itself was stopped for memory


NONE = Kills(0)


def message(kills: int | None, container_killed: bool, limit: str | None) -> str | None:
    """One line for the student, or None when nothing was killed for memory (kills None: at
    least one process, how many is not known)."""
    if kills == 0 and not container_killed:
        return None
    if container_killed:
        what = _("the lab itself was stopped")
    elif kills is None:
        what = _("at least one process in the lab was stopped")
    else:
        what = _("{kills} process(es) in the lab were stopped").format(kills=kills)
    if limit and limit != "0":
        fix = _("raise LAB_MEMORY_LIMIT (now {limit}) in .env, or use a smaller batch size or dataset").format(
            limit=limit
        )
    else:
        fix = _("the computer ran out of memory: close other programs, or use a smaller batch size or dataset")
    return _("Out of memory: {what} (a notebook kernel that died just now is the usual sign). Fix: {fix}.").format(
        what=what, fix=fix
    )


def decide(state: Mapping, counted: int | None, events: int) -> Kills:
    """What one container's State, its cgroup's kill count (None: not read) and the number of
    `oom` events since it started say. Pure."""
    if not state.get("Running"):
        if state.get("OOMKilled") and state.get("ExitCode") == SIGKILL_EXIT:
            return Kills(0, container=True)
        return Kills(None) if state.get("OOMKilled") else NONE
    if counted is not None:
        return Kills(counted)
    return Kills(None) if events or state.get("OOMKilled") else NONE


def memory_report(run: Runner, flavour: str, env: Mapping[str, str], now: datetime | None = None) -> str | None:
    ids = run(compose.command(flavour, "ps", "-a", "-q")).stdout.split()
    if not ids:
        return None
    # Unix seconds: a date without a zone would be read in the client's local time zone.
    until = str(int((now or datetime.now(timezone.utc)).timestamp()))
    found = [container_kills(run, container, until=until) for container in ids]
    known = sum(kills.processes or 0 for kills in found)
    some = any(kills.processes is None for kills in found)
    return message(known or (None if some else 0), any(kills.container for kills in found), env.get("LAB_MEMORY_LIMIT"))


def container_kills(run: Runner, container: str, *, until: str) -> Kills:
    done = run(["docker", "inspect", "--format", "{{json .State}}", container])
    if done.returncode != 0:
        return NONE
    try:
        state = json.loads(done.stdout)
    except ValueError:
        return NONE
    if not isinstance(state, dict) or not state.get("Running"):
        return decide(state if isinstance(state, dict) else {}, None, 0)
    counted = run(kill_count(container))
    count = oomkills.parse_oom_kills(counted.stdout)
    if count is not None:
        return decide(state, count, 0)
    started = datetime.strptime(state["StartedAt"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    events = run(oom_events(container, since=str(int(started.timestamp())), until=until))
    return decide(state, None, len([line for line in events.stdout.splitlines() if line.strip()]))


def kill_count(container: str) -> Sequence[str]:
    """Both cgroup versions' files: the one that exists is printed (cat fails on the other)."""
    return ["docker", "exec", container, "cat", *(str(path) for path in oomkills.EVENT_FILES)]


def oom_events(container: str, *, since: str, until: str) -> Sequence[str]:
    return [
        "docker", "events", "--since", since, "--until", until,
        "--filter", f"container={container}", "--filter", "event=oom", "--format", "{{.Action}}",
    ]  # fmt: skip
