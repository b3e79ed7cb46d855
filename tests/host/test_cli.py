"""scripts/lab's commands against fake hosts: setup, up and friends, report, help."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from fakehost import REPO, FakeDocker
from fakeworld import err, make_world, out
from labhost import cli, survey
from labhost.docker import Completed
from labhost.envfile import EnvFile


def setup(world, *args: str) -> int:
    return cli.main(["setup", *args], world)


def test_help_lists_every_command() -> None:
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "lab"), "--help"], capture_output=True, text=True)

    assert done.returncode == 0
    for name in cli.COMMANDS:
        assert name in done.stdout


def test_setup_writes_env_from_the_example_with_detected_values(tmp_path) -> None:
    world = make_world(tmp_path, "igpu-plus-rx6700xt")

    assert setup(world) == 0
    text = (world.repo / ".env").read_text()
    values = EnvFile.parse(text).values()

    assert values["HSA_OVERRIDE_GFX_VERSION"] == "10.3.0"
    assert values["ROCR_VISIBLE_DEVICES"] == "1"
    assert values["LAB_RENDER_GID"] == "110"
    assert values["COMPOSE_FILE"] == "compose.yaml:compose.rocm.yaml"
    assert len(values["JUPYTER_TOKEN"]) >= 16
    assert "# --- Values to check first" in text
    assert stat.S_IMODE(os.stat(world.repo / ".env").st_mode) == 0o600
    assert "docker compose -f compose.yaml -f compose.rocm.yaml up -d --wait" in out(world)


def test_setup_is_idempotent(tmp_path) -> None:
    world = make_world(tmp_path, "rx7600")
    setup(world)
    first = (world.repo / ".env").read_text()

    assert setup(world) == 0
    assert (world.repo / ".env").read_text() == first
    assert "up to date" in out(world)
    assert not (world.repo / ".env.bak").exists()


def test_setup_keeps_the_students_edits_comments_and_keys_and_backs_up(tmp_path) -> None:
    mine = (
        "# my lab\nLAB_PORT=8890\nWANDB_PROJECT=ml101\n"
        "JUPYTER_TOKEN=my-own-token-1234567890\nHSA_OVERRIDE_GFX_VERSION=11.0.0\n"
    )
    world = make_world(tmp_path, "rx6700xt", env=mine)

    assert setup(world) == 0
    text = (world.repo / ".env").read_text()
    values = EnvFile.parse(text).values()

    assert text.startswith("# my lab\nLAB_PORT=8890\nWANDB_PROJECT=ml101\n")
    assert values["JUPYTER_TOKEN"] == "my-own-token-1234567890"
    assert values["HSA_OVERRIDE_GFX_VERSION"] == "10.3.0"
    assert (world.repo / ".env.bak").read_text() == mine
    assert "HSA_OVERRIDE_GFX_VERSION=10.3.0 (was '11.0.0')" in out(world)


def test_setup_removes_an_override_the_card_must_not_have(tmp_path) -> None:
    world = make_world(tmp_path, "rx7900xtx", env="HSA_OVERRIDE_GFX_VERSION=11.0.0\n")

    setup(world)

    assert "HSA_OVERRIDE_GFX_VERSION" not in EnvFile.read(world.repo / ".env").values()
    assert "# HSA_OVERRIDE_GFX_VERSION=11.0.0" in (world.repo / ".env").read_text()


def test_setup_fixes_an_empty_override_it_owns(tmp_path) -> None:
    world = make_world(tmp_path, "rx6600", env="HSA_OVERRIDE_GFX_VERSION=\n")

    assert setup(world) == 0
    assert EnvFile.read(world.repo / ".env").values()["HSA_OVERRIDE_GFX_VERSION"] == "10.3.0"


def test_setup_dry_run_prints_a_diff_and_writes_nothing(tmp_path) -> None:
    world = make_world(tmp_path, "rx6700xt", env="LAB_PORT=8890\n")

    assert setup(world, "--dry-run") == 0

    assert (world.repo / ".env").read_text() == "LAB_PORT=8890\n"
    assert "+HSA_OVERRIDE_GFX_VERSION=10.3.0" in out(world)
    assert "--- .env (now)" in out(world)


def test_setup_refuses_a_bad_value_it_cannot_fix(tmp_path) -> None:
    bad = "# mine\nLAB_PORT=eighty\n"
    world = make_world(tmp_path, "rx6700xt", env=bad)

    assert setup(world) == 1

    assert (world.repo / ".env").read_text() == bad
    assert not (world.repo / ".env.bak").exists()
    lines = err(world).strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("setup: not writing .env: .env line 2: LAB_PORT")


def test_setup_refuses_to_run_as_root_without_sudo(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu")
    world.user = type(world.user)(0, 0, (0,), "root")

    assert setup(world) == 1
    assert "not root" in err(world)


def test_setup_under_sudo_writes_the_invoking_user(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu")
    world.user = type(world.user)(0, 0, (0,), "root")
    world.environ = {"SUDO_UID": "1001", "SUDO_GID": "1002", "SUDO_USER": "ana"}

    assert setup(world) == 0
    values = EnvFile.read(world.repo / ".env").values()
    assert (values["LAB_UID"], values["LAB_GID"]) == ("1001", "1002")


def test_up_prints_the_plain_command_then_the_url_with_the_env_token(tmp_path) -> None:
    world = make_world(tmp_path, "rx6700xt")
    setup(world)
    token = EnvFile.read(world.repo / ".env").values()["JUPYTER_TOKEN"]

    assert cli.main(["up"], world) == 0

    assert world.ran == [["docker", "compose", "-f", "compose.yaml", "-f", "compose.rocm.yaml", "up", "-d", "--wait"]]
    assert "$ docker compose -f compose.yaml -f compose.rocm.yaml up -d --wait" in out(world)
    assert f"http://127.0.0.1:8888/lab?token={token}" in out(world)


def test_up_reads_a_generated_token_from_the_container(tmp_path) -> None:
    run = FakeDocker(
        {("docker", "compose", "-f", "compose.yaml", "exec"): Completed(0, "generated-token-abcdef123456\n")}
    )
    world = make_world(tmp_path, "no-gpu", run=run, env="LAB_PORT=8890\n")

    assert cli.main(["up"], world) == 0

    assert "http://127.0.0.1:8890/lab?token=generated-token-abcdef123456" in out(world)
    assert [
        "docker",
        "compose",
        "-f",
        "compose.yaml",
        "exec",
        "-T",
        "lab",
        "cat",
        "/cache/lab/jupyter-token",
    ] in run.calls


def test_up_refuses_a_bad_env_and_starts_nothing(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu", env="HSA_OVERRIDE_GFX_VERSION=\n")

    assert cli.main(["up"], world) == 1

    assert world.ran == []
    assert ".env line 1: HSA_OVERRIDE_GFX_VERSION" in err(world)


def test_up_reports_a_failed_start(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu")
    world.interactive = lambda argv, cwd: 1

    assert cli.main(["up"], world) == 1
    assert "scripts/lab logs" in err(world)


@pytest.mark.parametrize(
    ("argv", "compose_args"),
    [
        (["down"], ["down"]),
        (["logs", "-f", "lab"], ["logs", "-f", "lab"]),
        (["ps"], ["ps"]),
        (["down", "-v"], ["down", "-v"]),
    ],
    ids=["down", "logs-follow", "ps", "down-volumes"],
)
def test_passthrough_commands_use_the_configured_flavour(tmp_path, argv: list[str], compose_args: list[str]) -> None:
    world = make_world(tmp_path, "no-gpu", env="LAB_FLAVOUR=nvidia\n")

    assert cli.main(argv, world) == 0

    assert world.ran == [["docker", "compose", "-f", "compose.yaml", "-f", "compose.nvidia.yaml", *compose_args]]
    assert out(world).startswith("$ docker compose -f compose.yaml -f compose.nvidia.yaml")


def test_flavour_option_wins_over_env(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu", env="LAB_FLAVOUR=nvidia\n")

    cli.main(["ps", "--flavour", "cpu"], world)

    assert world.ran == [["docker", "compose", "-f", "compose.yaml", "ps"]]


def test_without_env_the_detected_flavour_is_used(tmp_path) -> None:
    world = make_world(tmp_path, "rx9070xt")

    cli.main(["ps"], world)

    assert world.ran[0][:6] == ["docker", "compose", "-f", "compose.yaml", "-f", "compose.rocm.yaml"]


def test_the_built_images_own_list_decides_over_the_documented_one(tmp_path) -> None:
    # An image whose TensorFlow was built for gfx1031 itself: no override, ever.
    labels = Completed(0, '{"io.courselab.rocm.tf-targets-file": "/opt/lab/rocm-tf-targets.json"}\n')
    recorded = Completed(0, '{"targets": ["gfx1030", "gfx1031", "gfx1100"], "rocm_build": true}\n')
    answers = {("docker", "image", "inspect"): labels, ("docker", "run"): recorded}
    world = make_world(tmp_path, "rx6700xt", run=FakeDocker(answers))

    assert setup(world) == 0

    assert "HSA_OVERRIDE_GFX_VERSION" not in EnvFile.read(world.repo / ".env").values()
    assert "natively" in out(world)


def test_setup_moves_hip_visible_devices_aside_when_it_picks_a_gpu(tmp_path) -> None:
    world = make_world(tmp_path, "igpu-plus-rx6700xt", env="HIP_VISIBLE_DEVICES=0\n")

    assert setup(world) == 0
    values = EnvFile.read(world.repo / ".env").values()

    assert values["ROCR_VISIBLE_DEVICES"] == "1"
    assert "HIP_VISIBLE_DEVICES" not in values


@pytest.mark.parametrize(
    ("engine", "expected"),
    [("denied", "permission denied"), ("stopped", "not running")],
    ids=["docker-without-permission", "docker-not-running"],
)
def test_up_refuses_when_docker_cannot_be_used_and_starts_nothing(tmp_path, engine, expected) -> None:
    world = make_world(tmp_path, "no-gpu", run=FakeDocker(engine=engine))

    assert cli.main(["up"], world) == 1

    assert world.ran == []
    lines = err(world).strip().splitlines()
    assert len(lines) == 1
    assert expected in lines[0].lower()
    assert "Nothing was started" in lines[0]


def test_up_refuses_compose_v1_only(tmp_path) -> None:
    v1_only = FakeDocker(
        {("docker", "compose", "version"): Completed(1, "", "docker: 'compose' is not a docker command.")}
    )
    world = make_world(tmp_path, "no-gpu", run=v1_only)

    assert cli.main(["up"], world) == 1

    assert world.ran == []
    assert "docker-compose v1" in err(world) or "docker-compose-plugin" in err(world)


def test_up_refuses_to_build_when_the_disk_is_too_full_and_starts_nothing(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu")
    world.disk_free = lambda path: 3 * 1024**3

    assert cli.main(["up"], world) == 1

    assert world.ran == []
    assert "3.0 GB free" in err(world)
    assert "docker system prune" in err(world)


def test_up_refuses_a_port_in_use(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu", env="LAB_PORT=8890\n")
    world.port_free = lambda address, port: False

    assert cli.main(["up"], world) == 1

    assert world.ran == []
    assert "8890" in err(world)


def test_setup_offline_asks_docker_nothing_and_its_help_says_where_the_targets_come_from(tmp_path, capsys) -> None:
    # Dockerfile.rocm has no target list: offline, the ROCm targets are the list AMD documents
    # for the configured base (labhost.rocm_bases), the same the doctor shows as "documented".
    world = make_world(tmp_path, "rx6700xt")

    assert setup(world, "--offline", "--dry-run") == 0
    assert world.run.calls == []  # type: ignore[attr-defined]
    s = survey.survey(world, ask_docker=False)
    assert s.supported.source.startswith("documented for rocm/tensorflow:")

    with pytest.raises(SystemExit):
        cli.main(["setup", "--help"], world)
    shown = " ".join(capsys.readouterr().out.split())
    assert "--offline do not ask Docker (ROCm GPU targets: AMD's documented list for the configured base" in shown
    assert "Dockerfile" not in shown
