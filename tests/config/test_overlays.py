"""Every overlay combination through the real `docker compose config`, asserted on the merged
model. Cheap: nothing is built or started. What only a real GPU can show (that the devices,
groups and reservation make TensorFlow see the card) is out of reach here."""

from __future__ import annotations

from pathlib import Path

import pytest
from labhost import wsl

pytestmark = pytest.mark.config

SERVICES = ("lab", "train")
ALL_STACKS = ("base", "rocm", "nvidia", "rocm-debug")
GPU_STACKS = ("rocm", "nvidia", "rocm-debug")
ROCM_STACKS = ("rocm", "rocm-debug")
# The render group; /dev/kfd shares it on current hosts, so LAB_KFD_GID stays out.
ROCM_GIDS = "LAB_RENDER_GID=110\n"
COMPOSE_CRASH_SIGNS = ("Traceback", "panic:", "goroutine ")


def render(compose, stack: str, dotenv: str = "", **kwargs):
    """Render a stack with the GIDs the ROCm overlay requires already in .env."""
    return compose.config(stack, dotenv=ROCM_GIDS + dotenv, **kwargs)


# --- What every combination keeps from compose.yaml -------------------------------------


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_stack_renders_both_services(compose, stack):
    services = render(compose, stack).model["services"]
    assert set(services) == set(SERVICES)


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_lab_is_published_on_localhost_only(compose, stack):
    ports = render(compose, stack).service("lab")["ports"]
    assert [port["host_ip"] for port in ports] == ["127.0.0.1"]
    assert [port["target"] for port in ports] == [8888]


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_services_run_as_the_host_user(compose, stack):
    rendered = render(compose, stack, dotenv="LAB_UID=1234\nLAB_GID=2345\n")
    for name in SERVICES:
        assert rendered.service(name)["user"] == "1234:2345", name


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_shared_memory_is_shm_size_not_the_hosts_ipc(compose, stack):
    rendered = render(compose, stack, dotenv="LAB_SHM_SIZE=2gb\n")
    for name in SERVICES:
        service = rendered.service(name)
        assert service["shm_size"] == str(2 * 1024**3), name
        assert "ipc" not in service, name


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_caches_stay_on_the_cache_volume(compose, stack):
    # MIOpen's kernel database path is set in Dockerfile.rocm to /cache/miopen: an overlay
    # must neither drop the volume nor point MIOpen elsewhere.
    rendered = render(compose, stack)
    for name in SERVICES:
        service = rendered.service(name)
        cache = [volume for volume in service["volumes"] if volume["target"] == "/cache"]
        assert [(volume["type"], volume["source"]) for volume in cache] == [("volume", "cache")], name
        assert not [key for key in service["environment"] if key.startswith("MIOPEN_")], name


@pytest.mark.parametrize(
    ("stack", "flavour", "require_gpu"),
    [
        pytest.param("base", "cpu", "false", id="base-runs-on-cpu"),
        pytest.param("rocm", "rocm", "true", id="rocm-requires-gpu"),
        pytest.param("nvidia", "nvidia", "true", id="nvidia-requires-gpu"),
        pytest.param("rocm-debug", "rocm", "true", id="rocm-debug-requires-gpu"),
    ],
)
def test_flavour_and_gpu_requirement(compose, stack, flavour, require_gpu):
    # .env.example ships LAB_REQUIRE_GPU=false: a GPU overlay must win over it.
    rendered = render(compose, stack, dotenv="LAB_REQUIRE_GPU=false\n")
    for name in SERVICES:
        environment = rendered.service(name)["environment"]
        assert environment["LAB_FLAVOUR"] == flavour, name
        assert environment["LAB_REQUIRE_GPU"] == require_gpu, name


@pytest.mark.parametrize(
    ("stack", "image", "dockerfile", "base_image"),
    [
        pytest.param(
            "base", "courselab.invalid/lab:2.20.0-cpu", "Dockerfile", "tensorflow/tensorflow:2.20.0", id="base-cpu"
        ),
        pytest.param(
            "rocm",
            "courselab.invalid/lab:2.18-rocm6.4.1",
            "Dockerfile.rocm",
            "rocm/tensorflow:rocm6.4.1-py3.12-tf2.18-dev",
            id="rocm",
        ),
        pytest.param(
            "nvidia",
            "courselab.invalid/lab:2.20.0-cuda",
            "Dockerfile",
            "tensorflow/tensorflow:2.20.0-gpu",
            id="nvidia-cuda",
        ),
    ],
)
def test_image_tag_names_the_flavour_and_build_uses_its_base(compose, stack, image, dockerfile, base_image):
    rendered = render(compose, stack)
    for name in SERVICES:
        service = rendered.service(name)
        assert service["image"] == image, name
        assert service["build"]["dockerfile"] == dockerfile, name
        assert service["build"]["args"]["BASE_IMAGE"] == base_image, name


@pytest.mark.parametrize(
    ("stack", "dotenv", "image", "base_image"),
    [
        pytest.param(
            "rocm",
            "LAB_ROCM_IMAGE=school/lab:rocm-pinned\nLAB_ROCM_BASE_IMAGE=rocm/tensorflow:pinned\n",
            "school/lab:rocm-pinned",
            "rocm/tensorflow:pinned",
            id="rocm",
        ),
        pytest.param(
            "nvidia",
            "LAB_NVIDIA_IMAGE=school/lab:cuda-pinned\nLAB_NVIDIA_BASE_IMAGE=tensorflow/tensorflow:pinned-gpu\n",
            "school/lab:cuda-pinned",
            "tensorflow/tensorflow:pinned-gpu",
            id="nvidia",
        ),
    ],
)
def test_instructors_pin_gpu_images_without_touching_the_cpu_pin(compose, stack, dotenv, image, base_image):
    # The CPU pin (LAB_IMAGE, LAB_BASE_IMAGE) must never leak into a GPU build.
    cpu_pin = "LAB_IMAGE=school/lab:cpu-pinned\nLAB_BASE_IMAGE=tensorflow/tensorflow:cpu-pinned\n"
    service = render(compose, stack, dotenv=cpu_pin + dotenv).service("lab")
    assert service["image"] == image
    assert service["build"]["args"]["BASE_IMAGE"] == base_image


def test_base_stack_asks_for_no_gpu(compose):
    rendered = compose.config("base")
    for name in SERVICES:
        service = rendered.service(name)
        assert "devices" not in service, name
        assert "group_add" not in service, name
        assert "deploy" not in service, name


# --- ROCm --------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ROCM_STACKS)
def test_rocm_passes_only_kfd_and_dri(compose, stack):
    rendered = render(compose, stack)
    for name in SERVICES:
        devices = rendered.service(name)["devices"]
        assert [(device["source"], device["target"]) for device in devices] == [
            ("/dev/kfd", "/dev/kfd"),
            ("/dev/dri", "/dev/dri"),
        ], name


@pytest.mark.parametrize(
    ("dotenv", "groups"),
    [
        pytest.param("LAB_RENDER_GID=992\nLAB_KFD_GID=44\n", ["992", "44"], id="kfd-has-its-own-group"),
        # Without LAB_KFD_GID the second slot is nogroup (65534): no extra permission.
        pytest.param("LAB_RENDER_GID=992\nLAB_GID=1001\n", ["992", "65534"], id="kfd-shares-the-render-group"),
        # The old name still works (compose's nested default).
        pytest.param("LAB_RENDER_GID=992\nLAB_VIDEO_GID=44\n", ["992", "44"], id="old-name"),
        pytest.param("LAB_RENDER_GID=992\nLAB_VIDEO_GID=44\nLAB_KFD_GID=45\n", ["992", "45"], id="new-name-wins"),
    ],
)
@pytest.mark.parametrize("stack", ROCM_STACKS)
def test_rocm_adds_gpu_groups_by_number(compose, stack, dotenv, groups):
    rendered = compose.config(stack, dotenv=dotenv)
    for name in SERVICES:
        assert rendered.service(name)["group_add"] == groups, name


def test_rocm_has_no_debugger_privileges_by_default(compose):
    rendered = render(compose, "rocm")
    for name in SERVICES:
        service = rendered.service(name)
        assert "cap_add" not in service, name
        assert service["cap_drop"] == ["ALL"], name
        assert service["security_opt"] == ["no-new-privileges:true"], name
        assert service.get("privileged") is not True, name


def test_rocm_debug_overlay_adds_ptrace_and_unconfined_seccomp(compose):
    rendered = render(compose, "rocm-debug")
    for name in SERVICES:
        service = rendered.service(name)
        assert service["cap_add"] == ["SYS_PTRACE"], name
        assert "seccomp=unconfined" in service["security_opt"], name
        assert "no-new-privileges:true" in service["security_opt"], name


ROCM_PASSED_VARIABLES = {
    "HSA_OVERRIDE_GFX_VERSION": "10.3.0",
    "ROCR_VISIBLE_DEVICES": "1",
    "HIP_VISIBLE_DEVICES": "1",
}


@pytest.mark.parametrize("variable", list(ROCM_PASSED_VARIABLES))
def test_rocm_variable_unset_is_left_out_not_empty(compose, variable):
    # null in the merged model: compose leaves the variable out of the container (compose-spec:
    # "If the value is not resolved, the variable is unset"), so ROCm never sees "".
    rendered = render(compose, "rocm")
    for name in SERVICES:
        environment = rendered.service(name)["environment"]
        assert environment.get(variable) is None, name


@pytest.mark.parametrize("variable", list(ROCM_PASSED_VARIABLES))
@pytest.mark.parametrize("source", ["dotenv", "shell"])
def test_rocm_variable_set_is_passed(compose, variable, source):
    value = ROCM_PASSED_VARIABLES[variable]
    if source == "dotenv":
        rendered = render(compose, "rocm", dotenv=f"{variable}={value}\n")
    else:
        rendered = render(compose, "rocm", env={variable: value})
    for name in SERVICES:
        assert rendered.service(name)["environment"][variable] == value, name


@pytest.mark.parametrize("variable", list(ROCM_PASSED_VARIABLES))
def test_rocm_variable_written_empty_in_dotenv_is_passed_empty(compose, variable):
    # Compose cannot tell "empty on purpose" from "unset" for us: an empty line in .env arrives
    # as "". The entrypoint's check turns that into a clear refusal (next test).
    rendered = render(compose, "rocm", dotenv=f"{variable}=\n")
    assert rendered.service("lab")["environment"][variable] == ""


def test_entrypoint_check_refuses_the_merged_empty_override(compose):
    from labkit import envcheck

    def problems_for(dotenv: str) -> list[str]:
        environment = render(compose, "rocm", dotenv=dotenv).service("lab")["environment"]
        # What the container gets: unresolved (null) variables are left out.
        container_env = {key: value for key, value in environment.items() if value is not None}
        return [problem.key for problem in envcheck.validate(container_env)]

    assert "HSA_OVERRIDE_GFX_VERSION" in problems_for("HSA_OVERRIDE_GFX_VERSION=\n")
    assert "HSA_OVERRIDE_GFX_VERSION" not in problems_for("")
    assert "HSA_OVERRIDE_GFX_VERSION" not in problems_for("HSA_OVERRIDE_GFX_VERSION=10.3.0\n")


@pytest.mark.parametrize(
    ("dotenv", "groups"),
    [
        pytest.param("", ["1000", "65534"], id="no-device-needs-a-group"),
        pytest.param("LAB_GID=1234\n", ["1234", "65534"], id="own-group-fills-the-render-slot"),
        pytest.param("LAB_RENDER_GID=110\n", ["110", "65534"], id="kfd-open-to-everyone"),
        pytest.param("LAB_RENDER_GID=\nLAB_KFD_GID=\n", ["1000", "65534"], id="empty-lines-count-as-unset"),
        pytest.param("LAB_KFD_GID=44\n", ["1000", "44"], id="render-node-open-to-everyone"),
        pytest.param("LAB_RENDER_GID=110\nLAB_KFD_GID=44\n", ["110", "44"], id="kfd-in-video-render-in-render"),
    ],
)
def test_gpu_group_slots_are_optional_and_an_unset_slot_grants_nothing(compose, dotenv, groups):
    # A device open to everyone needs no group (issue 11: setup wrote root's group 0 for a
    # world-writable /dev/kfd). Unset slots become the student's own group and nogroup.
    rendered = compose.config("rocm", dotenv=dotenv)
    for name in SERVICES:
        group_add = rendered.service(name)["group_add"]
        assert group_add == groups, name
        assert "0" not in group_add, name


@pytest.mark.parametrize("name", ["LAB_KFD_GID", "LAB_VIDEO_GID"])
def test_equal_kfd_and_render_gids_are_refused_by_compose_and_by_the_lab(compose, name):
    # A host whose /dev/kfd and render node share one group must leave LAB_KFD_GID out:
    # compose rejects duplicate group_add items. The lab's check says so first, in one line.
    from labkit import envcheck

    dotenv = {name: "110", "LAB_RENDER_GID": "110"}
    rendered = compose.config("rocm", dotenv="".join(f"{k}={v}\n" for k, v in dotenv.items()))
    assert rendered.returncode != 0
    assert "group_add items at 0 and 1 are equal" in rendered.stderr
    assert [problem.key for problem in envcheck.validate(dotenv)] == [name]


# --- NVIDIA -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dotenv", "count"),
    [
        pytest.param("", -1, id="unset-means-all"),
        pytest.param("LAB_NVIDIA_GPU_COUNT=all\n", -1, id="all"),
        pytest.param("LAB_NVIDIA_GPU_COUNT=2\n", 2, id="number"),
    ],
)
def test_nvidia_reserves_gpus_with_the_nvidia_driver(compose, dotenv, count):
    # Compose's model spells "all" as -1, the value Docker's API uses for every GPU.
    rendered = compose.config("nvidia", dotenv=dotenv)
    for name in SERVICES:
        reservations = rendered.service(name)["deploy"]["resources"]["reservations"]
        assert reservations["devices"] == [{"driver": "nvidia", "count": count, "capabilities": ["gpu"]}], name


def test_nvidia_gpu_count_in_words_is_refused_readably(compose):
    rendered = compose.config("nvidia", dotenv="LAB_NVIDIA_GPU_COUNT=two\n")
    assert rendered.returncode != 0
    assert "the only value allowed is 'all' or a number" in rendered.stderr


def test_nvidia_needs_no_rocm_settings(compose):
    rendered = compose.config("nvidia")
    assert rendered.returncode == 0, rendered.stderr
    for name in SERVICES:
        service = rendered.service(name)
        assert "devices" not in service, name
        assert "group_add" not in service, name
        assert "HSA_OVERRIDE_GFX_VERSION" not in service["environment"], name


# --- Never a stranger's image ------------------------------------------------------------

PULL_KEYS = {
    "base": ("LAB_IMAGE", "LAB_PULL_POLICY"),
    "rocm": ("LAB_ROCM_IMAGE", "LAB_ROCM_PULL_POLICY"),
    "nvidia": ("LAB_NVIDIA_IMAGE", "LAB_NVIDIA_PULL_POLICY"),
    "rocm-debug": ("LAB_ROCM_IMAGE", "LAB_ROCM_PULL_POLICY"),
}


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_lab_image_is_built_here_and_never_pulled_by_default(compose, stack):
    rendered = render(compose, stack)
    for name in SERVICES:
        service = rendered.service(name)
        assert service["pull_policy"] == "never", name
        assert "build" in service, name
        # A registry host under the reserved .invalid domain (RFC 2606): no registry answers.
        registry = service["image"].split("/", 1)[0]
        assert registry.endswith(".invalid"), service["image"]


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_digest_pinned_image_is_pulled_exactly(compose, stack):
    image_key, policy_key = PULL_KEYS[stack]
    pinned = "registry.school.example/course/lab@sha256:" + "ab" * 32
    rendered = render(compose, stack, dotenv=f"{image_key}={pinned}\n{policy_key}=missing\n")
    for name in SERVICES:
        service = rendered.service(name)
        assert service["image"] == pinned, name
        assert service["pull_policy"] == "missing", name


def test_the_doctors_wsl2_reading_of_the_rocm_overlay_agrees_with_compose(compose):
    # labhost.wsl reads compose.rocm.yaml's text (the host has no YAML parser); compose's own
    # model must show the same gaps, so the doctor's "does not pass /dev/dxg" stays true.
    service = render(compose, "rocm").service("lab")
    mounts = " ".join(str(volume.get("source", "")) for volume in service.get("volumes", []))
    present = {
        "pass /dev/dxg": any(device["source"] == "/dev/dxg" for device in service["devices"]),
        "mount librocdxg.so": "librocdxg.so" in mounts,
        "mount WSL's libdxcore.so": "libdxcore.so" in mounts,
        "set HSA_ENABLE_DXG_DETECTION=1": service["environment"].get("HSA_ENABLE_DXG_DETECTION") == "1",
    }
    text = (Path(__file__).resolve().parents[2] / "compose.rocm.yaml").read_text()

    assert set(present) == {what for what, _ in wsl.WSL_NEEDS}
    assert set(wsl.missing_for_wsl(text)) == {what for what, found in present.items() if not found}
