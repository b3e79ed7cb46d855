"""What a student's container gets, as data, in docker-py's create_host_config format.

Formats: docker-py `create_host_config(device_requests=[...])` turns each dict into a
`docker.types.DeviceRequest` (driver, device_ids, capabilities), which the Engine API sends as
HostConfig.DeviceRequests, as `docker run --gpus device=0` does. ROCm: AMD's Docker docs use
`--device=/dev/kfd --device=/dev/dri/renderD<N> --group-add video` (numeric GIDs here).
"""

from __future__ import annotations

import pytest
from courselab_hub.assign import Assignment
from courselab_hub.plan import spawn_plan, work_volume
from courselab_hub.settings import from_env

BASE = {"HUB_LAB_IMAGE": "courselab/lab:cpu", "HUB_ADMIN_USERS": "teacher", "HUB_PREFIX": "cls"}
NVIDIA = {**BASE, "HUB_GPU_VENDOR": "nvidia", "HUB_GPUS": "0,1", "HUB_GPU_LAB_IMAGE": "courselab/lab:nvidia"}
ROCM = {
    **BASE,
    "HUB_GPU_VENDOR": "rocm",
    "HUB_GPUS": "renderD128,renderD129",
    "HUB_GPU_LAB_IMAGE": "courselab/lab:rocm",
    "HUB_VIDEO_GID": "44",
    "HUB_RENDER_GID": "110",
}


def test_nvidia_server_gets_exactly_its_card():
    plan = spawn_plan(Assignment("ann", "nvidia", "1", "r"), from_env(NVIDIA))
    assert plan.host_config["device_requests"] == [{"driver": "nvidia", "device_ids": ["1"], "capabilities": [["gpu"]]}]
    assert "devices" not in plan.host_config
    assert plan.image == "courselab/lab:nvidia"


def test_a_mig_instance_is_a_card_of_its_own_with_its_own_memory():
    """GPU memory per student: the one hard limit the hub can give is an NVIDIA MIG instance
    (its UUID as `nvidia-smi -L` lists it under the card, e.g. `MIG 1g.5gb Device 0: (UUID:
    MIG-c6d4f1ef-...)`), requested like a whole card. That each gets its own memory is the
    hardware's promise, not tested here."""
    mig = "MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f"
    settings = from_env({**NVIDIA, "HUB_GPUS": f"{mig},MIG-0b5e2c11-7e1b-5a3c-9d4e-2f8a6b1c3d5e"})
    plan = spawn_plan(Assignment("ann", "nvidia", mig, "r"), settings)
    assert plan.host_config["device_requests"] == [{"driver": "nvidia", "device_ids": [mig], "capabilities": [["gpu"]]}]


def test_rocm_server_gets_kfd_its_render_node_and_numeric_groups():
    plan = spawn_plan(Assignment("ann", "rocm", "renderD129", "r"), from_env(ROCM))
    assert plan.host_config["devices"] == ["/dev/kfd:/dev/kfd:rwm", "/dev/dri/renderD129:/dev/dri/renderD129:rwm"]
    assert plan.host_config["group_add"] == ["44", "110"]
    assert "device_requests" not in plan.host_config
    assert plan.image == "courselab/lab:rocm"


def test_rocm_groups_are_added_once_when_video_and_render_are_one_group():
    plan = spawn_plan(Assignment("ann", "rocm", "renderD128", "r"), from_env({**ROCM, "HUB_VIDEO_GID": "110"}))
    assert plan.host_config["group_add"] == ["110"]


def test_rocm_override_reaches_rocm_servers_only():
    settings = from_env({**ROCM, "HUB_HSA_OVERRIDE_GFX_VERSION": "10.3.0"})
    assert (
        spawn_plan(Assignment("a", "rocm", "renderD128", "r"), settings).environment["HSA_OVERRIDE_GFX_VERSION"]
        == "10.3.0"
    )
    assert "HSA_OVERRIDE_GFX_VERSION" not in spawn_plan(Assignment("a", "cpu", None, "r"), settings).environment


@pytest.mark.parametrize(
    ("assignment", "require_gpu", "flavour"),
    [
        pytest.param(Assignment("a", "cpu", None, "r"), "false", "cpu", id="cpu"),
        pytest.param(Assignment("a", "nvidia", "0", "r"), "true", "nvidia", id="nvidia"),
    ],
)
def test_environment_selects_the_gate_policy_and_allow_growth(assignment, require_gpu, flavour):
    environment = spawn_plan(assignment, from_env(NVIDIA)).environment
    assert environment["LAB_FLAVOUR"] == flavour
    assert environment["LAB_REQUIRE_GPU"] == require_gpu
    assert environment["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"


@pytest.mark.parametrize(
    "assignment",
    [Assignment("a", "cpu", None, "r"), Assignment("a", "rocm", "renderD128", "r")],
    ids=["cpu", "rocm"],
)
def test_a_plan_sets_only_variables_the_next_plan_replaces(assignment):
    from courselab_hub.plan import PLANNED_ENVIRONMENT

    settings = from_env({**ROCM, "HUB_HSA_OVERRIDE_GFX_VERSION": "10.3.0"})
    assert set(spawn_plan(assignment, settings).environment) <= set(PLANNED_ENVIRONMENT)


def test_cpu_server_gets_no_device_and_the_cpu_image():
    plan = spawn_plan(Assignment("a", "cpu", None, "r"), from_env(NVIDIA))
    assert plan.image == "courselab/lab:cpu"
    assert not {"devices", "device_requests", "group_add"} & set(plan.host_config)


def test_every_server_gets_the_labs_least_privilege():
    host_config = spawn_plan(
        Assignment("a", "nvidia", "0", "r"), from_env({**NVIDIA, "HUB_PIDS_LIMIT": "512"})
    ).host_config
    assert host_config["cap_drop"] == ["ALL"]
    assert host_config["security_opt"] == ["no-new-privileges:true"]
    assert host_config["pids_limit"] == 512
    assert host_config["init"] is True


def test_labels_name_the_hub_the_user_and_the_gpu():
    plan = spawn_plan(Assignment("ann", "nvidia", "0", "r"), from_env(NVIDIA))
    assert plan.labels == {
        "courselab.hub": "cls",
        "courselab.hub.user": "ann",
        "courselab.hub.flavour": "nvidia",
        "courselab.hub.gpu": "0",
    }


def test_work_volume_is_named_by_prefix_and_user():
    assert work_volume(prefix="cls", username="ann") == "cls-work-ann"


@pytest.mark.parametrize(
    ("env", "assignment", "expected"),
    [
        pytest.param(
            NVIDIA,
            Assignment("a", "nvidia", "1", "r"),
            {
                "DeviceRequests": [
                    {"Driver": "nvidia", "Count": 0, "DeviceIDs": ["1"], "Capabilities": [["gpu"]], "Options": {}}
                ]
            },
            id="nvidia-device-request",
        ),
        pytest.param(
            ROCM,
            Assignment("a", "rocm", "renderD129", "r"),
            {
                "Devices": [
                    {"PathOnHost": "/dev/kfd", "PathInContainer": "/dev/kfd", "CgroupPermissions": "rwm"},
                    {
                        "PathOnHost": "/dev/dri/renderD129",
                        "PathInContainer": "/dev/dri/renderD129",
                        "CgroupPermissions": "rwm",
                    },
                ],
                "GroupAdd": ["44", "110"],
            },
            id="rocm-devices-and-groups",
        ),
    ],
)
def test_docker_py_turns_the_plan_into_the_engine_api_host_config(env, assignment, expected):
    """The exact HostConfig the engine receives: docker-py (the client DockerSpawner uses)
    converts the plan, so a key it does not know or a malformed value fails here."""
    from docker.types import HostConfig

    host_config = HostConfig(version="1.41", **spawn_plan(assignment, from_env(env)).host_config)
    for key, value in expected.items():
        assert host_config[key] == value
    assert host_config["CapDrop"] == ["ALL"]
    assert host_config["SecurityOpt"] == ["no-new-privileges:true"]
