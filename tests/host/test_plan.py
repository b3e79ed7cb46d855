"""Each fake host: the stack, the GPU, the override, and the .env that setup writes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fakehost import FIXTURES, R2_18_TARGETS, REPO, host, student
from labhost import envsetup, plan
from labhost.envfile import EnvFile, validate
from labkit import gfx
from labkit.hostfacts.devices import DeviceFile


@dataclass(frozen=True)
class Expect:
    fixture: str
    flavour: str
    target: str | None = None
    override: str | None = None
    visible: str | None = None
    render_gid: str | None = None
    kfd_gid: str | None = None
    warning: str | None = None


# /dev/kfd and the render node share the render group on current hosts: one group opens
# both, so LAB_KFD_GID stays unset (a device that needs no group gets none).
CASES = [
    Expect("rx6700xt", "rocm", "gfx1031", "10.3.0", None, "110"),
    Expect("rx6600", "rocm", "gfx1032", "10.3.0", None, "105"),
    Expect("rx7900xtx", "rocm", "gfx1100", None, None, "989"),
    # r2.18 has gfx1102 kernels (ROCm/tensorflow-upstream PR #2836): no override for an RX 7600.
    Expect("rx7600", "rocm", "gfx1102", None, None, "110"),
    Expect("780m-igpu", "rocm", "gfx1103", "11.0.0", None, "110", warning="page-fault"),
    Expect("ryzen5000-apu", "cpu", "gfx90c"),
    Expect("rx9070xt", "rocm", "gfx1201", None, None, "989"),
    Expect("rx580", "cpu", "gfx803"),
    Expect("igpu-plus-rx6700xt", "rocm", "gfx1031", "10.3.0", "1", "110"),
    Expect("igpu-780m-first-plus-rx6600", "rocm", "gfx1032", "10.3.0", "1", "110"),
    Expect("ryzen7000-igpu", "cpu"),
    Expect("kfd-world-rw", "rocm", "gfx1031", "10.3.0", None, "110"),
    Expect("780m-kernel-6.1", "cpu"),
    Expect("nvidia-toolkit", "nvidia"),
    Expect("nvidia-no-toolkit", "nvidia"),
    Expect("h200-server", "nvidia"),
    Expect("no-gpu", "cpu"),
    Expect("wsl2", "cpu"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.fixture for c in CASES])
def test_fixture_gets_the_right_stack_and_override(case: Expect) -> None:
    p = plan.make_plan(host(case.fixture), R2_18_TARGETS)

    assert p.flavour == case.flavour, p.reason
    assert (p.decision.target if p.decision else None) == case.target
    assert (p.decision.override if p.decision else None) == case.override
    assert p.visible_devices == case.visible
    if case.warning:
        assert any(case.warning in w.text for w in p.warnings)


@pytest.mark.parametrize("case", CASES, ids=[c.fixture for c in CASES])
def test_fixture_gets_the_right_env_file(case: Expect) -> None:
    h = host(case.fixture)
    p = plan.make_plan(h, R2_18_TARGETS)
    example = (REPO / ".env.example").read_text()

    update = envsetup.update_env(None, example, p, student(FIXTURES / case.fixture), token=lambda: "t" * 32)
    written = EnvFile.parse(update.after)
    values = written.values()

    assert validate(written) == []
    assert values["LAB_FLAVOUR"] == case.flavour
    assert (
        values["COMPOSE_FILE"]
        == {
            "cpu": "compose.yaml",
            "nvidia": "compose.yaml:compose.nvidia.yaml",
            "rocm": "compose.yaml:compose.rocm.yaml",
        }[case.flavour]
    )
    assert values["LAB_UID"] == "1000"
    assert values["LAB_GID"] == "1000"
    assert values["JUPYTER_TOKEN"] == "t" * 32
    assert values.get("HSA_OVERRIDE_GFX_VERSION") == case.override
    assert values.get("ROCR_VISIBLE_DEVICES") == case.visible
    assert values.get("LAB_RENDER_GID") == case.render_gid
    assert values.get("LAB_KFD_GID") == case.kfd_gid
    assert "LAB_VIDEO_GID" not in values
    assert "HIP_VISIBLE_DEVICES" not in values


def _node(gid: int | None) -> DeviceFile | None:
    """A device node as the host shows it: root-owned, mode 0660, in group `gid`."""
    return None if gid is None else DeviceFile(path="/dev/x", uid=0, gid=gid, mode=0o660)


@pytest.mark.parametrize(
    ("kfd", "render", "expected"),
    [
        pytest.param(110, 110, {"LAB_RENDER_GID": "110", "LAB_KFD_GID": None}, id="shared-render-group"),
        pytest.param(44, 110, {"LAB_RENDER_GID": "110", "LAB_KFD_GID": "44"}, id="kfd-owned-by-video"),
        pytest.param(None, 110, {"LAB_RENDER_GID": "110", "LAB_KFD_GID": None}, id="no-kfd"),
    ],
)
def test_kfd_gets_its_own_slot_only_when_its_group_differs(kfd, render, expected) -> None:
    ids = plan.gpu_group_ids(kfd_device=_node(kfd), render_device=_node(render))

    assert {key: ids[key] for key in expected} == expected


def test_setup_moves_an_old_lab_video_gid_aside() -> None:
    p = plan.make_plan(host("rx6700xt"), R2_18_TARGETS)
    mine = "# my lab\nLAB_VIDEO_GID=44\nLAB_RENDER_GID=110\n"

    update = envsetup.update_env(mine, "", p, student(FIXTURES / "rx6700xt"), token=lambda: "t" * 32)

    assert "# LAB_VIDEO_GID=44" in update.after
    assert "LAB_VIDEO_GID" not in EnvFile.parse(update.after).values()


def test_discrete_gpu_is_chosen_over_the_integrated_one() -> None:
    gpus = plan.amd_gpus(host("igpu-plus-rx6700xt").kfd_nodes)

    chosen, _ = plan.choose_amd(gpus, R2_18_TARGETS)

    assert [(g.target.llvm_name, g.integrated) for g in gpus] == [("gfx1036", True), ("gfx1031", False)]
    assert chosen is not None and chosen.index == 1
    assert chosen.render_minor == 129


@pytest.mark.parametrize(
    ("fixture", "integrated"),
    [("780m-igpu", True), ("ryzen5000-apu", True), ("rx6700xt", False), ("rx7900xtx", False), ("rx580", False)],
)
def test_integrated_gpus_are_told_apart_from_discrete(fixture: str, integrated: bool) -> None:
    (gpu,) = plan.amd_gpus(host(fixture).kfd_nodes)

    assert gpu.integrated is integrated


def test_an_override_is_never_set_for_a_target_the_image_supports() -> None:
    for name in ("rx7900xtx", "rx9070xt"):
        p = plan.make_plan(host(name), R2_18_TARGETS)
        assert p.env["HSA_OVERRIDE_GFX_VERSION"] is None


def test_unusable_card_gets_the_cpu_stack_with_the_reason() -> None:
    p = plan.make_plan(host("rx580"), R2_18_TARGETS)

    assert p.flavour == "cpu"
    assert "Polaris" in p.reason


def test_an_image_without_the_base_target_cannot_borrow_it() -> None:
    only_rdna3 = plan.SupportedTargets((gfx.from_llvm_name("gfx1100"),), "test", "gfx1100")

    p = plan.make_plan(host("rx6700xt"), only_rdna3)

    assert p.flavour == "cpu"
    assert "gfx1030" in p.reason


def test_wsl2_with_the_nvidia_driver_gets_the_nvidia_stack(tmp_path) -> None:
    import shutil

    root = tmp_path / "wsl2-nvidia"
    shutil.copytree(FIXTURES / "wsl2", root)
    tool = root / "usr/lib/wsl/lib/nvidia-smi"
    tool.parent.mkdir(parents=True)
    tool.write_text("#!/bin/sh\n")

    from labhost import facts

    p = plan.make_plan(facts.gather(root, user=student(root)), R2_18_TARGETS)

    assert p.flavour == "nvidia"


def test_wsl2_explains_that_amd_needs_native_linux() -> None:
    p = plan.make_plan(host("wsl2"), R2_18_TARGETS)

    assert "/dev/dxg" in p.reason and "/dev/kfd" in p.reason


def test_the_broken_glued_target_list_is_recognised_and_warned_about() -> None:
    glued = plan.SupportedTargets((), "label", "gfx1030gfx1100")

    p = plan.make_plan(host("rx7900xtx"), glued)

    assert glued.broken
    assert [w.kind for w in p.warnings if "2.14.0.600" in w.text] == [plan.WarningKind.IMAGE]
