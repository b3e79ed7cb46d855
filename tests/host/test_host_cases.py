"""Host layouts that gave wrong answers (issue 11), each on a fake host tree in the kernel's
own formats (tests/host/fixtures/README.md). Each test failed before its fix."""

from __future__ import annotations

import json
import shutil

import pytest
from fakehost import FIXTURES, R2_18, R2_18_TARGETS, host, student
from fakeworld import make_world, out
from labhost import checks, cli, docker, facts, plan
from labhost.envfile import EnvFile
from labkit import envcheck, gate
from labkit.diagnose import Facts, diagnose

WORKING_GPU = {
    "tensorflow": "2.18.1",
    "build": {"is_rocm_build": "True"},
    "gpus": [
        {"name": "/physical_device:GPU:0", "device_name": "AMD Radeon RX 6600", "matmul_ok": True, "conv_ok": True}
    ],
}
# A Radeon 780M iGPU (gfx1103, 11.0.0) listed first by the kernel, an RX 6600 (gfx1032, 10.3.0)
# second: the two need overrides of different generations, so judging the hidden iGPU refuses
# the dGPU's value and names the iGPU's one.
IGPU_FIRST = "igpu-780m-first-plus-rx6600"


def doctor(tmp_path, fixture: str, env: str | None = None) -> dict[str, checks.CheckResult]:
    world = make_world(tmp_path, fixture, env=env)
    code = cli.main(["doctor", "--json"], world)
    data = json.loads(out(world))
    assert code in (0, 1)
    return {c["name"]: checks.CheckResult(**c) for c in data["checks"]}


# --- iGPU listed first, dGPU used: setup and the gate must judge the same GPU -------------


def test_igpu_first_the_gate_judges_the_gpu_setup_left_visible_and_the_lab_starts(tmp_path):
    world = make_world(tmp_path, IGPU_FIRST)
    assert cli.main(["setup"], world) == 0
    written = EnvFile.read(world.repo / ".env").values()
    assert written["ROCR_VISIBLE_DEVICES"] == "1"
    assert written["HSA_OVERRIDE_GFX_VERSION"] == "10.3.0"

    # What compose passes into the container, and what the gate then reads there.
    container_env = {
        "ROCR_VISIBLE_DEVICES": written["ROCR_VISIBLE_DEVICES"],
        "HSA_OVERRIDE_GFX_VERSION": written["HSA_OVERRIDE_GFX_VERSION"],
        "LAB_ROCM_TF_TARGETS": R2_18,
    }
    targets = gate.kfd_targets(FIXTURES / IGPU_FIRST, environ=container_env)
    found = diagnose(
        Facts(
            probe=WORKING_GPU,
            flavour="rocm",
            env=container_env,
            devices={"/dev/kfd": "ok", "/dev/dri/renderD128": "ok", "/dev/dri/renderD129": "ok"},
            kfd_targets=targets,
        )
    )

    assert targets == ("gfx1032",)
    assert found.status == "gpu", found
    # Setup run again keeps the same values: no loop.
    assert cli.main(["setup"], world) == 0
    assert "up to date" in out(world)


def test_igpu_first_a_refused_card_gets_advice_for_the_visible_gpu_not_the_hidden_one():
    # 11.0.0 is the hidden iGPU's value: on the RX 6600 (gfx1032) it crosses generations.
    env = {"ROCR_VISIBLE_DEVICES": "1", "HSA_OVERRIDE_GFX_VERSION": "11.0.0", "LAB_ROCM_TF_TARGETS": R2_18}

    targets = gate.kfd_targets(FIXTURES / IGPU_FIRST, environ=env)
    found = diagnose(
        Facts(probe={"gpus": []}, flavour="rocm", env=env, devices={"/dev/kfd": "ok"}, kfd_targets=targets)
    )

    assert found.status == "fail"
    assert "gfx1032" in found.fix
    assert "10.3.0" in found.fix
    assert "gfx1103" not in found.fix


# --- /dev/kfd open to everyone and owned by root: no group 0, no group at all -------------


def test_world_writable_root_owned_kfd_gets_no_group_and_never_group_0(tmp_path):
    world = make_world(tmp_path, "kfd-world-rw")

    assert cli.main(["setup"], world) == 0
    values = EnvFile.read(world.repo / ".env").values()

    assert values["LAB_RENDER_GID"] == "110"
    assert "LAB_KFD_GID" not in values
    assert "0" not in (values.get("LAB_KFD_GID"), values.get("LAB_RENDER_GID"))


@pytest.mark.parametrize("name", ["LAB_RENDER_GID", "LAB_KFD_GID", "LAB_VIDEO_GID"])
def test_group_0_in_env_is_refused_with_the_fix(name):
    problems = envcheck.validate({name: "0"})

    assert [p.key for p in problems] == [name]
    assert "root's group" in problems[0].message
    assert "delete the line" in problems[0].fix


def test_doctor_fails_a_root_only_kfd_with_the_udev_fix(tmp_path):
    root = tmp_path / "host"
    shutil.copytree(FIXTURES / "rx6700xt", root)
    table = json.loads((root / "dev/devices.json").read_text())
    table["/dev/kfd"] = {"uid": 0, "gid": 0, "mode": "0660"}
    (root / "dev/devices.json").write_text(json.dumps(table))
    h = facts.gather(root, user=student(root))
    p = plan.make_plan(h, R2_18_TARGETS)
    ctx = checks.Context(host=h, docker=docker.DockerFacts(cli_installed=False), plan=p, supported=R2_18_TARGETS)

    result = checks.device_files(ctx)

    assert p.env["LAB_KFD_GID"] is None
    assert result is not None and result.status == checks.FAIL
    assert "root" in result.detail
    assert "udev" in result.fix


# --- A hand-edited daemon.json of unexpected shape ---------------------------------------


def test_daemon_json_runtimes_of_the_wrong_shape_is_a_line_not_a_traceback(tmp_path):
    root = tmp_path / "host"
    shutil.copytree(FIXTURES / "nvidia-toolkit", root)
    (root / "etc/docker/daemon.json").write_text('{"runtimes": ["nvidia"]}\n')
    world = make_world(tmp_path, "nvidia-toolkit")
    world.root = root

    assert cli.main(["doctor"], world) == 1
    assert '"runtimes" in /etc/docker/daemon.json is a JSON list' in out(world)


def test_daemon_json_that_is_not_an_object_is_reported(tmp_path):
    root = tmp_path / "host"
    shutil.copytree(FIXTURES / "nvidia-toolkit", root)
    (root / "etc/docker/daemon.json").write_text('["runtimes"]\n')

    h = facts.gather(root, user=student(root))

    assert h.daemon_json is None
    assert "a JSON list, not an object" in (h.daemon_json_error or "")


# --- A card the kernel sees but the compute driver skipped ------------------------------


def test_card_kfd_did_not_register_is_named_with_where_to_look():
    p = plan.make_plan(host("780m-kernel-6.1"), R2_18_TARGETS)

    assert p.flavour == "cpu"
    assert "card0" in p.reason and "0000:c4:00.0" in p.reason
    assert "did not register it" in p.reason
    assert "dmesg | grep kfd" in p.reason
    assert "not supported in kfd" in p.reason


def test_a_skipped_second_card_is_a_warning_beside_the_card_that_works(tmp_path):
    root = tmp_path / "host"
    shutil.copytree(FIXTURES / "igpu-plus-rx6700xt", root)
    shutil.rmtree(root / "sys/class/kfd/kfd/topology/nodes/1")  # KFD skipped the iGPU

    p = plan.make_plan(facts.gather(root, user=student(root)), R2_18_TARGETS)

    assert p.flavour == "rocm"
    skipped = [w for w in p.warnings if w.kind is plan.WarningKind.SKIPPED_CARD]
    assert len(skipped) == 1
    assert "card0" in skipped[0].text and "did not register" in skipped[0].text


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_doctor_files_a_skipped_card_under_gpu_in_every_language(tmp_path, monkeypatch, lang: str):
    # The doctor sorts plan warnings by their kind: a skipped card under `gpu` (where to look in
    # dmesg), the card in use under `rocm target`; never by their words, which are translated.
    monkeypatch.setenv("LAB_LANG", lang)
    root = tmp_path / "host"
    shutil.copytree(FIXTURES / "igpu-plus-rx6700xt", root)
    shutil.rmtree(root / "sys/class/kfd/kfd/topology/nodes/1")  # KFD skipped the iGPU

    results = doctor(tmp_path / "lab", str(root), env="LAB_FLAVOUR=rocm\nHSA_OVERRIDE_GFX_VERSION=10.3.0\n")

    assert results["gpu"].status == "warn"
    assert "card0" in results["gpu"].detail and "dmesg | grep kfd" in results["gpu"].detail
    assert "dmesg" in results["gpu"].fix
    assert "card0" not in results["rocm target"].detail
    assert results["rocm target"].status == "ok"


# --- A 2-compute-unit display iGPU alone -------------------------------------------------


def test_two_cu_display_igpu_alone_prefers_the_cpu_and_says_why(tmp_path):
    p = plan.make_plan(host("ryzen7000-igpu"), R2_18_TARGETS)
    results = doctor(tmp_path, "ryzen7000-igpu")

    assert p.flavour == "cpu"
    assert "gfx1036" in p.reason
    assert "2 compute units" in p.reason
    assert "slower than the CPU" in p.reason
    assert p.env["HSA_OVERRIDE_GFX_VERSION"] is None
    assert results["gpu"].status == "warn"
    assert "gfx1036" in results["gpu"].detail
    assert "CPU lab is the faster one" in results["gpu"].fix


def test_a_big_igpu_alone_still_gets_rocm():
    assert plan.make_plan(host("780m-igpu"), R2_18_TARGETS).flavour == "rocm"


# --- WSL2 ----------------------------------------------------------------------------------


def test_wsl2_doctor_says_what_works_with_the_pinned_images(tmp_path):
    results = doctor(tmp_path, "wsl2")

    wsl = results["wsl2"]
    assert wsl.status == "warn"
    assert "NVIDIA: works through Docker's GPU reservation" in wsl.detail
    assert "AMD: the CPU lab" in wsl.detail
    assert "Radeon RX 7800 XT, RX 7900, RX 9060 and RX 9070 cards" in wsl.detail
    assert "/dev/dxg" in wsl.detail
    assert "compose.rocm.yaml does not pass /dev/dxg" in wsl.detail
    assert "native Linux" in wsl.fix
