"""Host facts read from fake trees in the kernel's own formats."""

from __future__ import annotations

import pytest
from fakehost import FIXTURES, host
from labhost import facts


def test_kfd_properties_are_parsed_per_node() -> None:
    h = host("rx6700xt")

    cpu, gpu = h.kfd_nodes
    assert not cpu.is_gpu
    assert gpu.is_gpu
    assert gpu.prop("gfx_target_version") == 100301
    assert gpu.prop("simd_count") == 80
    assert gpu.prop("drm_render_minor") == 128
    assert gpu.mem_bytes == 12868124672


def test_drm_cards_give_pci_vendors_and_skip_connectors(tmp_path) -> None:
    import shutil

    root = tmp_path / "host"
    shutil.copytree(FIXTURES / "igpu-plus-rx6700xt", root)
    (root / "sys/class/drm/card1-DP-1").mkdir()

    cards = facts.gather(root, user=facts.User(1000, 1000, ())).cards

    assert [(c.name, c.vendor, c.boot_vga) for c in cards] == [("card0", "AMD", True), ("card1", "AMD", False)]


def test_device_stand_ins_carry_gid_and_mode() -> None:
    kfd = host("rx6600").device("/dev/kfd")

    assert kfd == facts.DeviceFile("/dev/kfd", 0, 105, 0o660)


@pytest.mark.parametrize(
    ("mode", "uid", "gid", "user", "opens"),
    [
        (0o660, 0, 110, facts.User(1000, 1000, (1000, 110)), True),
        (0o660, 0, 110, facts.User(1000, 1000, (1000,)), False),
        (0o666, 0, 0, facts.User(1000, 1000, (1000,)), True),
        (0o600, 1000, 0, facts.User(1000, 1000, (1000,)), True),
        (0o640, 0, 110, facts.User(1000, 1000, (110,)), False),
        (0o600, 0, 0, facts.User(0, 0, (0,)), True),
    ],
    ids=["in-group", "not-in-group", "world-rw", "owner", "group-read-only", "root"],
)
def test_can_open_follows_the_mode_bits(mode, uid, gid, user, opens: bool) -> None:
    assert facts.can_open(facts.DeviceFile("/dev/x", uid, gid, mode), user) is opens


def test_wsl2_is_detected_from_proc_version_and_dxg() -> None:
    h = host("wsl2")

    assert h.is_wsl
    assert "microsoft-standard-WSL2" in h.proc_version
    assert not host("rx6700xt").is_wsl


def test_selinux_enforcing_is_read_from_sysfs() -> None:
    assert host("rx6600").selinux_enforcing is True
    assert host("rx6700xt").selinux_enforcing is None


def test_toolkit_files_and_daemon_json_runtime_are_found() -> None:
    h = host("nvidia-toolkit")

    assert h.tools["nvidia-smi"] == "/usr/bin/nvidia-smi"
    assert "nvidia-container-runtime-hook" in h.tools
    assert "nvidia" in h.daemon_json["runtimes"]
    assert "nvidia-container-runtime-hook" not in host("nvidia-no-toolkit").tools


def test_cdi_specs_are_listed(tmp_path) -> None:
    spec = tmp_path / "var/run/cdi/nvidia.yaml"
    spec.parent.mkdir(parents=True)
    spec.write_text("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\n")

    assert facts.read_cdi_specs(tmp_path) == ("/var/run/cdi/nvidia.yaml",)


def test_os_release_and_groups() -> None:
    h = host("rx6600")

    assert h.os_release["ID"] == "fedora"
    assert h.group_name(105) == "render"


def test_real_device_listing_only_returns_device_nodes(tmp_path) -> None:
    (tmp_path / "dev/dri").mkdir(parents=True)
    (tmp_path / "dev/dri/renderD128").write_text("a regular file, not a device")

    assert facts.RealDevices(tmp_path).list() == []
