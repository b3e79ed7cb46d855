"""What a student's container gets for an Assignment: a pure function of data, tested as data.

The host config keys are docker-py's `create_host_config` arguments (DockerSpawner passes
`extra_host_config` to it), which become the Docker Engine API's HostConfig:
- NVIDIA: one DeviceRequest {Driver: nvidia, DeviceIDs: [id], Capabilities: [[gpu]]}, what
  `docker run --gpus device=ID` and compose's `deploy.resources.reservations.devices` send;
  the NVIDIA Container Toolkit then exposes that card only.
- ROCm: /dev/kfd plus the one render node, and the host's numeric video/render groups
  (AMD's ROCm Docker docs: exposing only some /dev/dri/renderD* nodes restricts a container
  to those GPUs; names fail where the image lacks the group, and GIDs differ between hosts).
Every server, GPU or not, gets the lab's least privilege: no capabilities, no new
privileges, a process limit, an init that reaps kernels' children.
"""

from __future__ import annotations

from dataclasses import dataclass

from courselab_hub.assign import Assignment
from courselab_hub.settings import HubSettings

WORK_MOUNT = "/home/lab/work"  # the lab image's work folder (Dockerfile, compose.yaml)
LABEL_PREFIX = "courselab.hub"
# Every variable a plan may set: a server's next plan replaces all of them, so nothing of a
# previous GPU start (HSA_OVERRIDE_GFX_VERSION, say) is left on a CPU start.
PLANNED_ENVIRONMENT = (
    "LAB_FLAVOUR",
    "LAB_REQUIRE_GPU",
    "LAB_GATE_TIMEOUT",
    "TF_FORCE_GPU_ALLOW_GROWTH",
    "TF_CPP_MIN_LOG_LEVEL",
    "HSA_OVERRIDE_GFX_VERSION",
)


@dataclass(frozen=True)
class SpawnPlan:
    image: str
    environment: dict[str, str]
    host_config: dict
    labels: dict[str, str]


def work_volume(*, prefix: str, username: str) -> str:
    """The student's work volume: named by prefix and (escaped) user, never by the hub's
    compose project, so `docker compose down -v` of the hub cannot delete students' work."""
    return f"{prefix}-work-{username}"


def labels(*, prefix: str, assignment: Assignment) -> dict[str, str]:
    return {
        LABEL_PREFIX: prefix,
        f"{LABEL_PREFIX}.user": assignment.user,
        f"{LABEL_PREFIX}.flavour": assignment.flavour,
        f"{LABEL_PREFIX}.gpu": assignment.gpu or "",
    }


def device_config(assignment: Assignment, settings: HubSettings) -> dict:
    if assignment.gpu is None:
        return {}
    if assignment.flavour == "nvidia":
        return {"device_requests": [{"driver": "nvidia", "device_ids": [assignment.gpu], "capabilities": [["gpu"]]}]}
    if assignment.flavour == "rocm":
        render = f"/dev/dri/{assignment.gpu}"
        groups = [str(gid) for gid in (settings.video_gid, settings.render_gid) if gid is not None]
        return {
            "devices": ["/dev/kfd:/dev/kfd:rwm", f"{render}:{render}:rwm"],
            "group_add": list(dict.fromkeys(groups)),  # once each: Docker refuses duplicates
        }
    raise ValueError(f"no device config for flavour {assignment.flavour!r}")


def spawn_plan(assignment: Assignment, settings: HubSettings) -> SpawnPlan:
    environment = {
        "LAB_FLAVOUR": assignment.flavour,
        # A student given a GPU whose GPU does not work gets the gate's error instead of a
        # silently slow CPU server; the hub shows the spawn as failed and the log says why.
        "LAB_REQUIRE_GPU": "true" if assignment.on_gpu else "false",
        "LAB_GATE_TIMEOUT": str(settings.gate_timeout),
        "TF_FORCE_GPU_ALLOW_GROWTH": "true",
        "TF_CPP_MIN_LOG_LEVEL": "1",
    }
    if assignment.flavour == "rocm" and settings.hsa_override:
        environment["HSA_OVERRIDE_GFX_VERSION"] = settings.hsa_override
    host_config = {
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "pids_limit": settings.pids_limit,
        "init": True,
        "shm_size": "1g",
        **device_config(assignment, settings),
    }
    image = settings.gpu_lab_image if assignment.on_gpu else settings.lab_image
    return SpawnPlan(image, environment, host_config, labels(prefix=settings.prefix, assignment=assignment))
