"""The per-student GPU decision, as data: N GPUs, M students, the three flavours."""

from __future__ import annotations

from collections import Counter

import pytest
from courselab_hub.assign import assign


def arrive(students: list[str], *, vendor: str, gpus: tuple[str, ...], per_gpu: int) -> dict[str, str | None]:
    """Students log in one after another and stay: who ends up where."""
    holders: dict[str, str] = {}
    placed: dict[str, str | None] = {}
    for student in students:
        decision = assign(user=student, vendor=vendor, gpus=gpus, holders=holders, students_per_gpu=per_gpu)
        placed[student] = decision.gpu
        if decision.gpu:
            holders[student] = decision.gpu
    return placed


STUDENTS = [f"s{n:02d}" for n in range(12)]


@pytest.mark.parametrize(
    ("vendor", "gpus", "per_gpu", "students", "expected_load", "on_cpu"),
    [
        pytest.param("nvidia", ("0", "1"), 4, 4, {"0": 2, "1": 2}, 0, id="2-gpus-4-students-even"),
        pytest.param(
            "nvidia", ("0", "1", "2"), 4, 7, {"0": 3, "1": 2, "2": 2}, 0, id="3-gpus-7-students-first-gets-extra"
        ),
        pytest.param("nvidia", ("0", "1"), 2, 6, {"0": 2, "1": 2}, 2, id="full-gpus-send-the-rest-to-cpu"),
        pytest.param(
            "rocm", ("renderD128", "renderD129"), 3, 5, {"renderD128": 3, "renderD129": 2}, 0, id="rocm-render-nodes"
        ),
        pytest.param("nvidia", ("GPU-aaaa",), 1, 3, {"GPU-aaaa": 1}, 2, id="one-gpu-one-student-each"),
        pytest.param(
            "nvidia", ("0", "1", "2", "3"), 4, 12, {"0": 3, "1": 3, "2": 3, "3": 3}, 0, id="4-gpus-12-students"
        ),
    ],
)
def test_students_arriving_in_turn_are_spread_round_robin(vendor, gpus, per_gpu, students, expected_load, on_cpu):
    placed = arrive(STUDENTS[:students], vendor=vendor, gpus=gpus, per_gpu=per_gpu)
    assert Counter(gpu for gpu in placed.values() if gpu) == expected_load
    assert sum(1 for gpu in placed.values() if gpu is None) == on_cpu


def test_round_robin_order_follows_the_gpu_list():
    placed = arrive(STUDENTS[:4], vendor="nvidia", gpus=("1", "0"), per_gpu=4)
    assert list(placed.values()) == ["1", "0", "1", "0"]


def test_a_freed_gpu_is_filled_first():
    holders = {"a": "0", "b": "1", "c": "0", "d": "1"}
    del holders["c"]  # c's server stopped (or was culled)
    decision = assign(user="e", vendor="nvidia", gpus=("0", "1"), holders=holders, students_per_gpu=4)
    assert decision.gpu == "0"


def test_a_student_keeps_the_gpu_their_server_holds():
    holders = {"a": "1", "b": "0", "c": "0"}
    decision = assign(user="a", vendor="nvidia", gpus=("0", "1"), holders=holders, students_per_gpu=4)
    assert decision.gpu == "1"
    assert "keeps" in decision.reason


def test_a_student_holding_a_gpu_no_longer_listed_is_placed_again():
    decision = assign(user="a", vendor="nvidia", gpus=("0", "1"), holders={"a": "7"}, students_per_gpu=4)
    assert decision.gpu == "0"


def test_full_gpus_give_the_cpu_flavour_and_say_why():
    holders = {"a": "renderD128", "b": "renderD128"}
    decision = assign(user="c", vendor="rocm", gpus=("renderD128",), holders=holders, students_per_gpu=2)
    assert decision.flavour == "cpu"
    assert decision.gpu is None
    assert decision.reason == "all 1 GPU(s) have 2 student(s) each: CPU until one leaves"


def test_the_cpu_profile_never_gets_a_gpu():
    decision = assign(user="a", vendor="nvidia", gpus=("0",), holders={}, students_per_gpu=4, profile="cpu")
    assert (decision.flavour, decision.gpu) == ("cpu", None)


@pytest.mark.parametrize(
    ("vendor", "gpus"),
    [pytest.param("none", ("0",), id="vendor-none"), pytest.param("nvidia", (), id="no-gpus-listed")],
)
def test_a_hub_without_gpus_puts_everyone_on_the_cpu(vendor, gpus):
    decision = assign(user="a", vendor=vendor, gpus=gpus, holders={}, students_per_gpu=4)
    assert (decision.flavour, decision.gpu) == ("cpu", None)


@pytest.mark.parametrize("vendor", ["nvidia", "rocm"])
def test_the_flavour_is_the_vendor_on_a_gpu(vendor):
    decision = assign(user="a", vendor=vendor, gpus=("renderD128",), holders={}, students_per_gpu=1)
    assert decision.flavour == vendor
