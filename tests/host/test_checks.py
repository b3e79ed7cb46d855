"""The doctor on each fake host: the verdict per check and the exit code."""

from __future__ import annotations

import json

import pytest
from fakehost import DOCKER, FakeDocker, recorded
from fakeworld import make_world, out
from labhost import checks, cli
from labhost.docker import Completed

# fixture -> (exit code, {check name: status}) for a host without a .env yet.
VERDICTS = {
    "rx6700xt": (0, {"gpu": "ok", "rocm target": "ok", "device files": "ok", "env": "warn"}),
    "rx6600": (0, {"rocm target": "ok", "device files": "warn", "selinux": "warn"}),
    "rx7900xtx": (0, {"rocm target": "ok", "device files": "ok"}),
    "rx7600": (0, {"rocm target": "ok"}),
    "780m-igpu": (0, {"rocm target": "warn", "device files": "ok"}),
    "ryzen5000-apu": (0, {"gpu": "warn", "rocm target": "warn"}),
    "rx9070xt": (0, {"rocm target": "ok"}),
    "rx580": (0, {"gpu": "warn", "rocm target": "warn"}),
    "igpu-plus-rx6700xt": (0, {"rocm target": "ok", "device files": "ok"}),
    "nvidia-toolkit": (0, {"gpu": "ok", "nvidia driver": "ok", "nvidia toolkit": "ok", "device files": "ok"}),
    "nvidia-no-toolkit": (1, {"nvidia driver": "ok", "nvidia toolkit": "fail"}),
    # Recorded on an H200 server: no DRM device, /dev/nvidia* only, no Container Toolkit.
    "h200-server": (1, {"gpu": "ok", "nvidia driver": "ok", "nvidia toolkit": "fail", "device files": "ok"}),
    "no-gpu": (0, {"gpu": "ok"}),
    "wsl2": (0, {"wsl2": "warn", "gpu": "ok"}),
}


def doctor_json(world) -> tuple[int, dict]:
    code = cli.main(["doctor", "--json"], world)
    return code, json.loads(out(world))


@pytest.mark.parametrize("fixture", list(VERDICTS))
def test_doctor_verdict_on_each_host(tmp_path, fixture: str) -> None:
    expected_code, expected = VERDICTS[fixture]

    code, data = doctor_json(make_world(tmp_path, fixture))
    statuses = {c["name"]: c["status"] for c in data["checks"]}

    assert code == expected_code, statuses
    assert data["ok"] is (expected_code == 0)
    for name, status in expected.items():
        assert statuses.get(name) == status, (name, data["checks"])


@pytest.mark.parametrize("fixture", list(VERDICTS))
def test_every_result_that_is_not_ok_has_a_one_sentence_fix(tmp_path, fixture: str) -> None:
    _, data = doctor_json(make_world(tmp_path, fixture, env="LAB_PORT=eighty\n"))

    not_ok = [c for c in data["checks"] if c["status"] != "ok"]

    assert not_ok
    for check in not_ok:
        assert check["fix"], check
        assert "\n" not in check["fix"]


def test_doctor_json_carries_the_plan(tmp_path) -> None:
    _, data = doctor_json(make_world(tmp_path, "igpu-plus-rx6700xt"))

    assert data["plan"]["flavour"] == "rocm"
    assert data["plan"]["override"] == "10.3.0"
    assert data["plan"]["rocr_visible_devices"] == "1"
    assert data["plan"]["compose_command"] == "docker compose -f compose.yaml -f compose.rocm.yaml up -d --wait"
    # The image is not built in this world: the list is AMD's documented one, and says so.
    assert "not read from the image" in data["plan"]["image_targets_source"]
    assert "gfx1102" in data["plan"]["image_targets"].split()


@pytest.mark.parametrize(
    ("engine", "words"),
    [("denied", "usermod -aG docker"), ("stopped", "systemctl start docker")],
    ids=["not-in-docker-group", "engine-stopped"],
)
def test_docker_engine_problems_block_the_start(tmp_path, engine: str, words: str) -> None:
    code, data = doctor_json(make_world(tmp_path, "no-gpu", run=FakeDocker(engine=engine)))
    (result,) = [c for c in data["checks"] if c["name"] == "docker engine"]

    assert code == 1
    assert result["status"] == "fail"
    assert words in result["fix"]


def test_added_to_docker_group_but_not_logged_in_again(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu", run=FakeDocker(engine="denied"))
    world.user = type(world.user)(1000, 1000, (1000,), "student")  # /etc/group lists student in docker

    _, data = doctor_json(world)
    (result,) = [c for c in data["checks"] if c["name"] == "docker engine"]

    assert "log out and back in" in result["fix"]
    assert "session started before" in result["detail"]


def test_old_compose_blocks_the_start(tmp_path) -> None:
    run = FakeDocker({("docker", "compose", "version"): Completed(0, "2.2.3\n")})

    code, data = doctor_json(make_world(tmp_path, "no-gpu", run=run))

    assert code == 1
    assert {c["name"]: c["status"] for c in data["checks"]}["compose"] == "fail"


def test_rootless_docker_needs_the_user_to_open_the_devices(tmp_path) -> None:
    run = FakeDocker({("docker", "info"): recorded("info-rootless")})

    code, data = doctor_json(make_world(tmp_path, "rx6600", run=run))
    (result,) = [c for c in data["checks"] if c["name"] == "device files"]

    assert code == 1
    assert result["status"] == "fail"
    assert "usermod -aG render" in result["fix"]


def test_bad_env_value_blocks_the_start_and_names_the_line(tmp_path) -> None:
    code, data = doctor_json(make_world(tmp_path, "no-gpu", env="# mine\nTF_FORCE_GPU_ALLOW_GROWTH=yes\n"))
    (result,) = [c for c in data["checks"] if c["name"] == "env"]

    assert code == 1
    assert result["status"] == "fail"
    assert ".env line 2: TF_FORCE_GPU_ALLOW_GROWTH" in result["detail"]


def test_wrong_override_in_env_blocks_the_start(tmp_path) -> None:
    env = "LAB_FLAVOUR=rocm\nHSA_OVERRIDE_GFX_VERSION=11.0.0\n"

    code, data = doctor_json(make_world(tmp_path, "rx6700xt", env=env))
    (result,) = [c for c in data["checks"] if c["name"] == "rocm target"]

    assert code == 1
    assert "10.3.0" in result["detail"] and "11.0.0" in result["detail"]


def test_busy_port_blocks_the_start_unless_the_lab_holds_it(tmp_path) -> None:
    world = make_world(tmp_path / "a", "no-gpu")
    world.port_free = lambda address, port: False
    code, data = doctor_json(world)
    assert code == 1

    running = FakeDocker({("docker", "ps"): Completed(0, "127.0.0.1:8888->8888/tcp\n")})
    world = make_world(tmp_path / "b", "no-gpu", run=running)
    world.port_free = lambda address, port: False
    code, data = doctor_json(world)
    assert code == 0
    assert "running lab" in {c["name"]: c["detail"] for c in data["checks"]}["port"]


def test_the_running_lab_is_the_project_compose_names_not_courselab(tmp_path) -> None:
    # COMPOSE_PROJECT_NAME=mylab in .env: compose's model says "mylab" (recorded), and the
    # lab's containers carry that project label; asking about `courselab` finds nothing.
    model = (DOCKER / "compose-config-cpu-mylab.json").read_text()
    engine = FakeDocker(
        {
            ("docker", "compose", "-f", "compose.yaml", "config", "--format", "json"): Completed(0, model),
            ("docker", "ps", "--filter", "label=com.docker.compose.project=mylab"): Completed(
                0, "127.0.0.1:8888->8888/tcp\n"
            ),
        }
    )
    world = make_world(tmp_path, "no-gpu", run=engine, env="LAB_FLAVOUR=cpu\nCOMPOSE_PROJECT_NAME=mylab\n")
    world.port_free = lambda address, port: False

    code, data = doctor_json(world)

    assert {c["name"]: c["detail"] for c in data["checks"]}["port"] == "port 8888 is used by the running lab"
    assert code == 0


def test_too_little_disk_for_the_rocm_image_blocks_the_start(tmp_path) -> None:
    world = make_world(tmp_path, "rx7900xtx")
    world.disk_free = lambda path: 20 * checks.GB

    code, data = doctor_json(world)

    assert code == 1
    assert {c["name"]: c["status"] for c in data["checks"]}["disk"] == "fail"


def test_on_the_containerd_store_the_disk_checked_is_containerds(tmp_path) -> None:
    # Engine 26 with the containerd image store (recorded): its images are under containerd's
    # root, not DockerRootDir; the doctor measures and names that folder.
    run = FakeDocker({("docker", "info"): recorded("info-engine-26-containerd")})
    world = make_world(tmp_path, "no-gpu", run=run)
    asked = []
    world.disk_free = lambda path: asked.append(path) or 50 * checks.GB

    code, data = doctor_json(world)

    assert asked == ["/var/lib/courselab-e26c/containerd/daemon"]
    assert {c["name"]: c["detail"] for c in data["checks"]}["disk"].startswith(
        "50.0 GB free in /var/lib/courselab-e26c/containerd/daemon;"
    )


def test_missing_work_folder_blocks_the_start(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu")
    (world.repo / "work").rmdir()

    code, _ = doctor_json(world)

    assert code == 1


def test_invalid_daemon_json_is_reported_with_its_line(tmp_path) -> None:
    import shutil

    from fakehost import FIXTURES

    root = tmp_path / "host"
    shutil.copytree(FIXTURES / "nvidia-toolkit", root)
    (root / "etc/docker/daemon.json").write_text('{\n  "runtimes": {\n    "nvidia": {,\n}\n')
    world = make_world(tmp_path, "nvidia-toolkit")
    world.root = root

    code, data = doctor_json(world)

    assert code == 1
    assert "line 3" in {c["name"]: c["detail"] for c in data["checks"]}["nvidia toolkit"]


def test_a_check_status_must_be_ok_warn_or_fail() -> None:
    assert checks.CheckResult("port", "fail", "taken").status is checks.Status.FAIL
    with pytest.raises(ValueError, match="failed"):
        checks.CheckResult("port", "failed", "taken")
