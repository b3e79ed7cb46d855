"""The JupyterHub hooks (courselab_hub.ledger) with stand-in spawners: what DockerSpawner
gives the hooks (user.name, user_options, environment, an async `docker(method, ...)` that
runs docker-py's APIClient; containers() returns Engine API records), nothing else."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest
from courselab_hub.ledger import GpuLedger
from courselab_hub.settings import from_env

SETTINGS = {
    "HUB_LAB_IMAGE": "lab:cpu",
    "HUB_GPU_LAB_IMAGE": "lab:nvidia",
    "HUB_ADMIN_USERS": "teacher",
    "HUB_GPU_VENDOR": "nvidia",
    "HUB_GPUS": "0,1",
    "HUB_STUDENTS_PER_GPU": "1",
    "HUB_PREFIX": "cls",
}


class Engine:
    """Containers the engine knows; listing them yields to the event loop, as the real call
    (in DockerSpawner's thread pool) does, so concurrent logins interleave."""

    def __init__(self, containers=()):
        self.containers = list(containers)

    async def docker(self, method, **kwargs):
        assert method == "containers"
        assert kwargs["filters"] == {"label": "courselab.hub=cls"}
        await asyncio.sleep(0)
        return list(self.containers)


def spawner(engine: Engine, name: str, options: dict | None = None, environment: dict | None = None):
    return SimpleNamespace(
        user=SimpleNamespace(name=name),
        user_options=options or {},
        environment=environment or {},
        docker=engine.docker,
        log=logging.getLogger("test"),
        image=None,
        extra_host_config=None,
        extra_create_kwargs=None,
    )


def running(user: str, gpu: str) -> dict:
    return {
        "Names": [f"/cls-{user}"],
        "State": "running",
        "Labels": {"courselab.hub": "cls", "courselab.hub.user": user, "courselab.hub.gpu": gpu},
    }


def test_simultaneous_logins_never_share_the_last_slot():
    ledger = GpuLedger(from_env(SETTINGS))
    engine = Engine()
    spawners = [spawner(engine, f"s{n}") for n in range(3)]

    async def log_in_together():
        await asyncio.gather(*(ledger.pre_spawn(s) for s in spawners))

    asyncio.run(log_in_together())
    gpus = [s.extra_create_kwargs["labels"]["courselab.hub.gpu"] for s in spawners]
    assert sorted(gpus) == ["", "0", "1"]
    assert [s.image for s in spawners].count("lab:cpu") == 1


def test_running_servers_on_the_engine_count_after_a_hub_restart():
    ledger = GpuLedger(from_env(SETTINGS))  # a new hub: nothing pending
    engine = Engine([running("ann", "0")])
    bob = spawner(engine, "bob")
    asyncio.run(ledger.pre_spawn(bob))
    assert bob.extra_create_kwargs["labels"]["courselab.hub.gpu"] == "1"
    assert bob.extra_host_config["device_requests"][0]["device_ids"] == ["1"]


def test_a_stopped_server_frees_its_pending_slot():
    ledger = GpuLedger(from_env({**SETTINGS, "HUB_GPUS": "0"}))
    engine = Engine()
    ann = spawner(engine, "ann")
    asyncio.run(ledger.pre_spawn(ann))
    ledger.post_stop(ann)
    bob = spawner(engine, "bob")
    asyncio.run(ledger.pre_spawn(bob))
    assert bob.extra_create_kwargs["labels"]["courselab.hub.gpu"] == "0"


def test_a_cpu_start_after_a_gpu_start_keeps_nothing_of_the_gpu_plan():
    settings = {
        **SETTINGS,
        "HUB_GPU_VENDOR": "rocm",
        "HUB_GPUS": "renderD128",
        "HUB_RENDER_GID": "110",
        "HUB_HSA_OVERRIDE_GFX_VERSION": "10.3.0",
    }
    ledger = GpuLedger(from_env(settings))
    engine = Engine()
    ann = spawner(engine, "ann", environment={"COURSE_TERM": "2027-spring"})
    asyncio.run(ledger.pre_spawn(ann))
    assert ann.environment["HSA_OVERRIDE_GFX_VERSION"] == "10.3.0"
    ledger.post_stop(ann)
    ann.user_options = {"profile": "cpu"}
    asyncio.run(ledger.pre_spawn(ann))
    assert "HSA_OVERRIDE_GFX_VERSION" not in ann.environment
    assert ann.environment["LAB_FLAVOUR"] == "cpu"
    assert ann.environment["COURSE_TERM"] == "2027-spring"
    assert "devices" not in ann.extra_host_config


def test_an_unknown_profile_is_refused_with_the_choices():
    ledger = GpuLedger(from_env(SETTINGS))
    ann = spawner(Engine(), "ann", options={"profile": "tpu"})
    with pytest.raises(ValueError, match="choose one of gpu, cpu"):
        asyncio.run(ledger.pre_spawn(ann))
