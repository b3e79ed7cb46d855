"""The out-of-memory note that `up`, `ps` and `logs` print after compose."""

from __future__ import annotations

from labhost import memory
from labhost.world import World, read_env


def say_memory_kills(world: World, flavour: str) -> None:
    env = read_env(world)
    assert world.run is not None
    note = memory.memory_report(world.run, flavour, env.values() if env else {})
    if note:
        print(note, file=world.err)
