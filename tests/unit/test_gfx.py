"""The AMD target and override rules (labkit.gfx) that the ROCm diagnosis relies on."""

from __future__ import annotations

import pytest
from labkit import gfx


def compiled(text: str) -> gfx.ImageTargets:
    """An image whose run-time list is not known: the compiled list decides alone."""
    return gfx.ImageTargets(tuple(gfx.parse_target_list(text)))


R218 = compiled("gfx908 gfx90a gfx940 gfx941 gfx942 gfx1030 gfx1100 gfx1101 gfx1200 gfx1201")
OLD = compiled("gfx1030, gfx900, gfx906, gfx908, gfx90a")
# Consumer and datacentre targets a student or instructor may meet, old and new.
TARGETS = [
    gfx.from_llvm_name(name)
    for name in (
        "gfx803 gfx900 gfx902 gfx906 gfx908 gfx909 gfx90a gfx90c gfx940 gfx942 "
        "gfx1010 gfx1011 gfx1012 gfx1030 gfx1031 gfx1032 gfx1033 gfx1034 gfx1035 gfx1036 "
        "gfx1100 gfx1101 gfx1102 gfx1103 gfx1150 gfx1151 gfx1200 gfx1201"
    ).split()
]
LISTS = {"r2.18": R218, "r2.13": OLD, "empty": compiled("")}


def all_decisions():
    for list_name, supported in LISTS.items():
        for target in TARGETS:
            yield pytest.param(target, supported, id=f"{target.llvm_name}-{list_name}")


@pytest.mark.parametrize(("target", "supported"), list(all_decisions()))
def test_override_never_crosses_major_version(target: gfx.GfxTarget, supported: gfx.ImageTargets) -> None:
    decision = gfx.decide_override(target, supported)
    if decision.override is not None:
        assert gfx.from_override(decision.override).major == target.major


@pytest.mark.parametrize(("target", "supported"), list(all_decisions()))
def test_override_only_names_a_target_the_image_supports(target: gfx.GfxTarget, supported) -> None:
    decision = gfx.decide_override(target, supported)
    if decision.override is not None:
        assert gfx.from_override(decision.override) in supported.runnable


@pytest.mark.parametrize(("target", "supported"), list(all_decisions()))
def test_override_is_never_empty_and_always_n_n_n(target: gfx.GfxTarget, supported) -> None:
    decision = gfx.decide_override(target, supported)
    assert decision.override != ""
    if decision.override is not None:
        assert gfx.OVERRIDE_PATTERN.match(decision.override)


@pytest.mark.parametrize("target", R218.compiled, ids=lambda t: t.llvm_name)
def test_no_override_for_a_target_the_image_supports(target: gfx.GfxTarget) -> None:
    decision = gfx.decide_override(target, R218)
    assert decision.override is None
    assert decision.usable is True


@pytest.mark.parametrize(
    ("name", "supported", "expected"),
    [
        pytest.param("gfx1031", R218, "10.3.0", id="rx6700xt-gfx1031"),
        pytest.param("gfx1032", OLD, "10.3.0", id="rx6600-gfx1032-old-list"),
        pytest.param("gfx1036", R218, "10.3.0", id="raphael-igpu-gfx1036"),
        pytest.param("gfx1102", R218, "11.0.0", id="rx7600-gfx1102"),
        pytest.param("gfx90c", OLD, "9.0.0", id="vega-apu-gfx90c"),
    ],
)
def test_override_borrows_the_base_chip_of_the_same_generation(name: str, supported, expected: str) -> None:
    assert gfx.decide_override(gfx.from_llvm_name(name), supported).override == expected


def test_gfx1102_gets_no_override_when_gfx1100_is_missing() -> None:
    decision = gfx.decide_override(gfx.from_llvm_name("gfx1102"), OLD)
    assert decision.override is None
    assert decision.usable is False


def test_gfx1103_override_comes_with_a_warning() -> None:
    decision = gfx.decide_override(gfx.from_llvm_name("gfx1103"), R218)
    assert decision.override == "11.0.0"
    assert "page-fault" in decision.warning


@pytest.mark.parametrize("name", ["gfx803", "gfx1010", "gfx1011", "gfx1012"])
def test_polaris_and_rdna1_are_refused_with_a_reason(name: str) -> None:
    decision = gfx.decide_override(gfx.from_llvm_name(name), R218)
    assert decision.usable is False
    assert decision.override is None
    assert "CPU lab" in decision.reason


# Both lists of one image: compiled for (kernels) and accepted at run time (XLA's list).
# TensorFlow 2.20 before ROCm/tensorflow-upstream#3181: AMD's build compiled gfx1102, upstream
# XLA's list (read from tensorflow-cpu 2.20.0, see tests/standins/xla_lists.py) lacks it.
TF220 = gfx.ImageTargets(
    tuple(gfx.parse_target_list("gfx908 gfx90a gfx942 gfx950 gfx1030 gfx1100 gfx1101 gfx1102 gfx1200 gfx1201")),
    tuple(gfx.parse_target_list("gfx900 gfx906 gfx908 gfx90a gfx942 gfx950 gfx1030 gfx1100 gfx1101 gfx1200 gfx1201")),
)


def test_a_card_is_native_only_when_its_target_is_on_both_lists() -> None:
    assert gfx.decide_override(gfx.from_llvm_name("gfx1100"), TF220).override is None
    decision = gfx.decide_override(gfx.from_llvm_name("gfx1102"), TF220)
    assert decision.override == "11.0.0"
    assert "has kernels in this image, but its TensorFlow does not accept it" in decision.reason


def test_a_donor_must_be_on_both_lists() -> None:
    # gfx900 is accepted at run time (r2.18 and 2.20 print it) but has no kernels: no 9.0.0.
    decision = gfx.decide_override(gfx.from_llvm_name("gfx90c"), TF220)
    assert decision.override is None
    assert decision.usable is False
    no_1100_at_run_time = gfx.ImageTargets(TF220.compiled, tuple(gfx.parse_target_list("gfx1030 gfx1101")))
    assert gfx.decide_override(gfx.from_llvm_name("gfx1102"), no_1100_at_run_time).usable is False


def test_an_unknown_run_time_list_leaves_the_compiled_list_to_decide() -> None:
    unknown = gfx.ImageTargets(TF220.compiled)
    assert unknown.runnable == TF220.compiled
    assert gfx.decide_override(gfx.from_llvm_name("gfx1102"), unknown).override is None


# The shape of /sys/class/kfd/kfd/topology/nodes/N/properties: one "name value" pair a line,
# written by the kernel's amdkfd (drivers/gpu/drm/amd/amdkfd/kfd_topology.c, node_show()).
KFD_GPU_NODE = """cpu_cores_count 0
simd_count 80
mem_banks_count 1
gfx_target_version 100301
vendor_id 4098
device_id 29663
location_id 768
drm_render_minor 128
"""
KFD_CPU_NODE = """cpu_cores_count 16
simd_count 0
gfx_target_version 0
vendor_id 0
"""


def test_kfd_properties_give_the_card_target() -> None:
    assert gfx.from_kfd_properties(KFD_GPU_NODE).llvm_name == "gfx1031"


def test_kfd_cpu_node_has_no_target() -> None:
    assert gfx.from_kfd_properties(KFD_CPU_NODE) is None


def test_kfd_properties_without_the_field_give_nothing() -> None:
    assert gfx.from_kfd_properties("simd_count 80\n") is None


@pytest.mark.parametrize(
    ("kfd", "name"),
    [(100301, "gfx1031"), (90012, "gfx90c"), (110003, "gfx1103"), (80003, "gfx803"), (120001, "gfx1201")],
)
def test_kfd_version_and_llvm_name_agree(kfd: int, name: str) -> None:
    assert gfx.from_kfd_version(kfd).llvm_name == name
    assert gfx.from_llvm_name(name) == gfx.from_kfd_version(kfd)


def test_glued_list_is_detected_and_its_glued_names_are_not_parsed() -> None:
    text = "gfx1030gfx1100, gfx900, gfx906, gfx908, gfx90a, gfx940, gfx941, gfx942"
    assert gfx.has_glued_targets(text) is True
    assert gfx.from_llvm_name("gfx1030") not in gfx.parse_target_list(text)
    assert gfx.from_llvm_name("gfx900") in gfx.parse_target_list(text)


def test_comma_separated_list_is_not_glued() -> None:
    assert gfx.has_glued_targets("gfx1030, gfx1100, gfx900") is False


@pytest.mark.parametrize(("target", "supported"), list(all_decisions()))
def test_vietnamese_changes_the_words_never_the_decision(monkeypatch, target, supported) -> None:
    # The host's doctor and the container's diagnosis share these reasons: LAB_LANG picks
    # their language at call time, and the override itself is the same in every language.
    monkeypatch.setenv("LAB_LANG", "en")
    english = gfx.decide_override(target, supported)
    monkeypatch.setenv("LAB_LANG", "vi")
    vietnamese = gfx.decide_override(target, supported)

    assert (vietnamese.target, vietnamese.override, vietnamese.usable) == (
        english.target,
        english.override,
        english.usable,
    )
    assert vietnamese.reason != english.reason
    assert target.llvm_name in vietnamese.reason or target.llvm_name in gfx.UNUSABLE_TARGETS
    assert (vietnamese.warning is None) == (english.warning is None)
    assert vietnamese.warning != english.warning or vietnamese.warning is None
    if vietnamese.override:
        assert f"HSA_OVERRIDE_GFX_VERSION={vietnamese.override}" in vietnamese.reason


def test_the_unusable_and_unreliable_lists_are_translated_where_shown(monkeypatch) -> None:
    monkeypatch.setenv("LAB_LANG", "vi")

    assert gfx.decide_override(gfx.from_llvm_name("gfx803"), R218).reason == (
        "ROCm đã bỏ hỗ trợ Polaris (RX 470/480/570/580); hãy dùng lab CPU"
    )
    assert gfx.decide_override(gfx.from_llvm_name("gfx1103"), R218).warning.startswith(
        "Radeon 780M với HSA_OVERRIDE_GFX_VERSION=11.0.0 hay bị lỗi page fault"
    )
    # The tables themselves stay the English catalogue keys.
    assert gfx.UNUSABLE_TARGETS["gfx803"].startswith("Polaris (RX 470/480/570/580) support was removed")


def test_an_image_that_supports_neither_target_says_neither_in_vietnamese(monkeypatch) -> None:
    # gfx1031 borrows gfx1030's code, and this list has neither. "không hỗ trợ cả hai" would
    # read "does not support both": the Vietnamese must say that it supports none of the two.
    monkeypatch.setenv("LAB_LANG", "vi")
    decision = gfx.decide_override(gfx.from_llvm_name("gfx1031"), compiled("gfx900 gfx906 gfx1100"))

    assert not decision.usable
    assert decision.reason.startswith(
        "gfx1031 có thể chạy dưới dạng gfx1030, nhưng image này không hỗ trợ mã kiến trúc GPU (target) nào trong hai"
    )
    assert "cả hai" not in decision.reason
