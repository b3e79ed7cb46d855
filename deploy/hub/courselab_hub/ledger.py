"""The JupyterHub hooks that apply the GPU decision to DockerSpawner (the thin I/O shell).

pre_spawn: read who holds which GPU from the engine, add the servers still starting (their
containers may not exist yet when ten students log in at once), decide under a lock so two
simultaneous logins never get the same last slot, then set the spawner's image, environment,
host config and labels. post_stop: forget the pending entry.
"""

from __future__ import annotations

import asyncio

from courselab_hub import holders
from courselab_hub.assign import PROFILES, assign
from courselab_hub.plan import PLANNED_ENVIRONMENT, spawn_plan
from courselab_hub.settings import HubSettings


class GpuLedger:
    def __init__(self, settings: HubSettings):
        self.settings = settings
        self.lock = asyncio.Lock()
        self.pending: dict[str, str] = {}

    async def pre_spawn(self, spawner) -> None:
        user = spawner.user.name
        profile = (spawner.user_options or {}).get("profile", "gpu")
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        async with self.lock:
            # Through DockerSpawner's own executor: its client is not shared across threads.
            containers = await spawner.docker(
                "containers", all=True, filters=holders.label_filter(self.settings.prefix)
            )
            held = {**holders.holders(containers), **self.pending}
            assignment = assign(
                user=user,
                vendor=self.settings.vendor,
                gpus=self.settings.gpus,
                holders=held,
                students_per_gpu=self.settings.students_per_gpu,
                profile=profile,
            )
            if assignment.gpu:
                self.pending[user] = assignment.gpu
            else:
                self.pending.pop(user, None)
        plan = spawn_plan(assignment, self.settings)
        spawner.log.info("courselab: %s %s", user, assignment.reason)
        spawner.image = plan.image
        kept = {key: value for key, value in spawner.environment.items() if key not in PLANNED_ENVIRONMENT}
        spawner.environment = {**kept, **plan.environment}
        spawner.extra_host_config = plan.host_config
        spawner.extra_create_kwargs = {"labels": plan.labels}

    def post_stop(self, spawner) -> None:
        self.pending.pop(spawner.user.name, None)
