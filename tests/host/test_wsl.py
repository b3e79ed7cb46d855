"""What the doctor says about WSL2, and when it would offer the newer ROCm base there."""

from __future__ import annotations

import dataclasses

import pytest
from fakehost import REPO
from labhost import rocm_bases, wsl

COMPOSE_ROCM = (REPO / "compose.rocm.yaml").read_text()
# AMD's WSL-specific container flags (ROCm/librocdxg README, "Container Launch") in compose's
# words, added to the ROCm overlay's x-rocm block.
WSL_READY_COMPOSE = COMPOSE_ROCM.replace(
    "    - /dev/dri\n",
    "    - /dev/dri\n    - /dev/dxg\n"
    "  volumes:\n"
    "    - /usr/lib/wsl/lib/libdxcore.so:/usr/lib/libdxcore.so:ro\n"
    "    - /opt/rocm/lib/librocdxg.so:/usr/lib/librocdxg.so:ro\n",
).replace("    - LAB_REQUIRE_GPU=true\n", "    - LAB_REQUIRE_GPU=true\n    - HSA_ENABLE_DXG_DETECTION=1\n")
ALL_NEEDS = tuple(what for what, _ in wsl.WSL_NEEDS)


def test_the_rocm_overlay_today_gives_a_container_none_of_what_librocdxg_needs():
    assert wsl.missing_for_wsl(COMPOSE_ROCM) == ALL_NEEDS
    assert wsl.newer_rocm_base_for_wsl(COMPOSE_ROCM) is None


def test_only_the_newer_base_has_a_runtime_that_loads_librocdxg():
    assert wsl.runtime_loads_librocdxg(rocm_bases.NEWER_BASE)  # ROCm 7.2.4
    assert not wsl.runtime_loads_librocdxg(rocm_bases.PINNED_BASE)  # ROCm 6.4.1


def test_an_overlay_with_amds_wsl_flags_makes_the_newer_base_the_wsl_route():
    assert wsl.missing_for_wsl(WSL_READY_COMPOSE) == ()
    assert wsl.newer_rocm_base_for_wsl(WSL_READY_COMPOSE) == rocm_bases.NEWER_BASE

    detail, _ = wsl.summary(nvidia_driver=False, compose_rocm_text=WSL_READY_COMPOSE)

    assert rocm_bases.NEWER_BASE.base_image in detail
    assert "librocdxg" in detail


@pytest.mark.parametrize(
    ("line", "need"),
    [
        pytest.param("    - /dev/dxg\n", "pass /dev/dxg", id="no-dxg-device"),
        pytest.param(
            "    - /opt/rocm/lib/librocdxg.so:/usr/lib/librocdxg.so:ro\n", "mount librocdxg.so", id="no-librocdxg"
        ),
        pytest.param(
            "    - /usr/lib/wsl/lib/libdxcore.so:/usr/lib/libdxcore.so:ro\n", "mount WSL's libdxcore.so", id="no-dxcore"
        ),
        pytest.param("    - HSA_ENABLE_DXG_DETECTION=1\n", "set HSA_ENABLE_DXG_DETECTION=1", id="no-detection"),
    ],
)
def test_each_missing_piece_is_named_and_keeps_the_newer_base_off(line, need):
    text = WSL_READY_COMPOSE.replace(line, "")

    assert wsl.missing_for_wsl(text) == (need,)
    assert wsl.newer_rocm_base_for_wsl(text) is None


def test_a_commented_out_device_does_not_count():
    text = WSL_READY_COMPOSE.replace("    - /dev/dxg\n", "    # - /dev/dxg  (WSL2 only)\n")

    assert wsl.missing_for_wsl(text) == ("pass /dev/dxg",)


def test_a_newer_base_on_an_old_rocm_is_not_offered_even_with_the_flags(monkeypatch):
    monkeypatch.setattr(wsl, "NEWER_BASE", dataclasses.replace(rocm_bases.NEWER_BASE, rocm_version="7.0.2"))

    assert wsl.newer_rocm_base_for_wsl(WSL_READY_COMPOSE) is None


def test_the_doctor_says_what_compose_lacks_instead_of_pretending():
    detail, fix = wsl.summary(nvidia_driver=True, compose_rocm_text=COMPOSE_ROCM)

    assert "AMD: the CPU lab" in detail
    assert f"has a runtime that loads it (ROCm {rocm_bases.NEWER_BASE.rocm_version})" in detail
    assert (
        "compose.rocm.yaml does not pass /dev/dxg, mount librocdxg.so, mount WSL's libdxcore.so "
        "or set HSA_ENABLE_DXG_DETECTION=1)" in detail
    )
    assert rocm_bases.NEWER_BASE.base_image not in detail
    assert "native Linux" in fix
