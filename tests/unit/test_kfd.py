"""KFD topology as ROCm reads it: what a GPU is, in which order, and which GPUs
ROCR_VISIBLE_DEVICES / HIP_VISIBLE_DEVICES leave. Inputs are the real-format fixture trees
(tests/host/fixtures) and trees built from their files; the rules come from ROCR-Runtime's
amd_topology.cpp and amd_filter_device.cpp (cited in labkit.hostfacts.kfd)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from labkit.hostfacts import kfd

FIXTURES = Path(__file__).resolve().parents[1] / "host" / "fixtures"
NODES = kfd.TOPOLOGY


def gpus_of(fixture: str) -> list[kfd.KfdNode]:
    return kfd.read_topology(FIXTURES / fixture).gpus


@pytest.mark.parametrize(
    ("fixture", "targets", "units"),
    [
        ("rx6700xt", ["gfx1031"], [40]),
        ("rx7600", ["gfx1102"], [32]),
        ("780m-igpu", ["gfx1103"], [12]),
        ("ryzen5000-apu", ["gfx90c"], [8]),
        ("igpu-plus-rx6700xt", ["gfx1036", "gfx1031"], [2, 40]),
        ("ryzen7000-igpu", ["gfx1036"], [2]),
        ("780m-kernel-6.1", [], []),
        ("no-gpu", [], []),
    ],
)
def test_gpu_agents_and_compute_units_from_real_format_fixtures(fixture, targets, units):
    gpus = gpus_of(fixture)

    assert [g.target.llvm_name for g in gpus] == targets
    assert [g.compute_units for g in gpus] == units


def test_a_cpu_node_is_never_a_gpu_and_has_no_compute_units():
    cpu = kfd.read_topology(FIXTURES / "rx6700xt").nodes[0]

    assert cpu.prop("cpu_cores_count") == 16
    assert not cpu.is_gpu
    assert cpu.compute_units is None
    assert cpu.pci_slot is None


def test_a_gpu_without_a_known_target_still_takes_an_index():
    # Kernels before gfx_target_version existed print no such line: ROCR still counts the node.
    nodes = [
        kfd.KfdNode(0, {"cpu_cores_count": 8}),
        kfd.KfdNode(1, {"simd_count": 40, "simd_per_cu": 2}),
        kfd.KfdNode(2, {"simd_count": 80, "simd_per_cu": 2, "gfx_target_version": 100301}),
    ]

    visible = kfd.visible_gpus(nodes, {"ROCR_VISIBLE_DEVICES": "1"})

    assert [n.node for n in visible] == [2]


def test_pci_slot_matches_the_drm_cards_uevent():
    igpu, dgpu = gpus_of("igpu-plus-rx6700xt")
    uevent = (FIXTURES / "igpu-plus-rx6700xt/sys/class/drm/card1/device/uevent").read_text()

    assert igpu.pci_slot == "0000:05:00.0"
    assert f"PCI_SLOT_NAME={dgpu.pci_slot}" in uevent


def many_gpu_tree(root: Path, count: int) -> Path:
    """Node 0 a CPU, nodes 1..count GPUs: node 2 an RX 6700 XT, node 10 an RX 7600, the rest
    iGPUs, each from the fixtures' real property files."""
    nodes = root / NODES
    shutil.copytree(FIXTURES / "rx6700xt" / NODES / "0", nodes / "0")
    for number in range(1, count + 1):
        source = {2: ("rx6700xt", "1"), 10: ("rx7600", "1")}.get(number, ("ryzen7000-igpu", "1"))
        shutil.copytree(FIXTURES / source[0] / NODES / source[1], nodes / str(number))
    return root


def test_nodes_are_read_in_numeric_order_node_10_after_node_2(tmp_path):
    root = many_gpu_tree(tmp_path, 11)

    topology = kfd.read_topology(root)

    assert [n.node for n in topology.nodes] == list(range(12))
    assert topology.gpus[1].target.llvm_name == "gfx1031"  # node 2, ROCm's GPU 1
    assert topology.gpus[9].target.llvm_name == "gfx1102"  # node 10, ROCm's GPU 9


def test_visible_index_picks_the_gpu_rocm_numbers_so_past_node_9(tmp_path):
    root = many_gpu_tree(tmp_path, 11)
    nodes = kfd.read_topology(root).nodes

    assert [n.node for n in kfd.visible_gpus(nodes, {"ROCR_VISIBLE_DEVICES": "1"})] == [2]
    assert [n.node for n in kfd.visible_gpus(nodes, {"ROCR_VISIBLE_DEVICES": "9"})] == [10]


AGENTS = [
    kfd.KfdNode(1, {"simd_count": 4, "unique_id": 0}),
    kfd.KfdNode(2, {"simd_count": 80, "unique_id": 0x4B2C1A9F8D3E6F7A}),
    kfd.KfdNode(3, {"simd_count": 64, "unique_id": 0x4B2C1A9F00000001}),
]


@pytest.mark.parametrize(
    ("value", "nodes"),
    [
        pytest.param(None, [1, 2, 3], id="unset-means-all"),
        pytest.param("", [], id="empty-means-none"),
        pytest.param("1", [2], id="index"),
        pytest.param("2,0", [3, 1], id="order-is-the-listed-order"),
        pytest.param(" 1 , 2 ", [2, 3], id="spaces-trimmed"),
        pytest.param("0x1", [2], id="hex-index-as-strtol-reads-it"),
        pytest.param("1,7,0", [2], id="out-of-range-ends-the-list"),
        pytest.param("1,x,0", [2], id="garbage-ends-the-list"),
        pytest.param("1,1,2", [2], id="repeat-ends-the-list"),
        pytest.param("-1", [], id="negative-index"),
        pytest.param("GPU-4B2C1A9F8D3E6F7A", [2], id="full-uuid"),
        pytest.param("gpu-4b2c1a9f8d", [2], id="uuid-prefix-any-case"),
        pytest.param("GPU-4B2C1A9F,0", [], id="ambiguous-uuid-prefix-ends-the-list"),
        pytest.param("GPU-XX", [], id="no-uuid-never-matches"),
        pytest.param("0,1,2,0", [1, 2, 3], id="no-more-entries-than-gpus"),
    ],
)
def test_rocr_visible_devices_follows_rocr_filter(value, nodes):
    assert [n.node for n in kfd.rocr_visible(AGENTS, value)] == nodes


@pytest.mark.parametrize(
    ("environ", "nodes"),
    [
        pytest.param({"HIP_VISIBLE_DEVICES": "1"}, [2], id="hip-alone"),
        pytest.param({"ROCR_VISIBLE_DEVICES": "1,2", "HIP_VISIBLE_DEVICES": "1"}, [3], id="hip-counts-what-rocr-left"),
        pytest.param({"ROCR_VISIBLE_DEVICES": "2", "HIP_VISIBLE_DEVICES": "1"}, [], id="stacked-filters-hide-all"),
        pytest.param({"HIP_VISIBLE_DEVICES": "2,5,0"}, [3], id="hip-invalid-ends-the-list"),
    ],
)
def test_hip_visible_devices_counts_over_rocrs_devices(environ, nodes):
    assert [n.node for n in kfd.visible_gpus(AGENTS, environ)] == nodes


def test_unreadable_and_truncated_nodes_are_skipped_not_fatal(tmp_path):
    nodes = tmp_path / NODES
    shutil.copytree(FIXTURES / "rx6700xt" / NODES, nodes)
    (nodes / "1" / "properties").write_text("cpu_cores_count 0\nsimd_count 8")  # cut mid-file
    (nodes / "2").mkdir()  # a node whose properties are missing (EPERM under a device cgroup)
    (nodes / "not-a-node").mkdir()

    topology = kfd.read_topology(tmp_path)

    assert [n.node for n in topology.nodes] == [0, 1]
    assert topology.gpus[0].prop("simd_count") == 8
    assert topology.gpus[0].target is None
