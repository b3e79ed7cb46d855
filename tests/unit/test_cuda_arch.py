"""Which of a TensorFlow build's kernels a card can run (labkit.cuda_arch), as data in and out.

The build lists are TensorFlow's own (tf.sysconfig.get_build_info()["cuda_compute_capabilities"]):
2.20.0's from the wheel's build_info.py; the sm_90a/sm_120 list is a build with
architecture-specific and Blackwell targets, to prove the rules, not a release."""

from __future__ import annotations

import pytest
from labkit import cuda_arch

TF220 = cuda_arch.parse_archs("['sm_60', 'sm_70', 'sm_80', 'sm_89', 'compute_90']")
NEWER = cuda_arch.parse_archs(["sm_80", "sm_90a", "sm_120", "compute_120"])


def test_build_info_list_parses_from_its_string_form():
    assert [arch.name for arch in TF220] == ["sm_60", "sm_70", "sm_80", "sm_89", "compute_90"]
    assert TF220[-1] == cuda_arch.Arch(9, 0, "ptx")


@pytest.mark.parametrize(
    ("text", "card"),
    [
        pytest.param("(8, 6)", (8, 6), id="tuple-as-str"),
        pytest.param((12, 0), (12, 0), id="tuple"),
        pytest.param("7.5", (7, 5), id="dotted"),
        pytest.param(None, None, id="unknown"),
        pytest.param("", None, id="empty"),
    ],
)
def test_card_capability_parses_from_what_tensorflow_reports(text, card):
    assert cuda_arch.parse_capability(text) == card


@pytest.mark.parametrize(
    ("card", "archs", "sass", "ptx", "ptx_only"),
    [
        pytest.param((6, 1), TF220, "sm_60", None, False, id="gtx1080-6.1-runs-sm_60"),
        pytest.param((7, 5), TF220, "sm_70", None, False, id="rtx2080-t4-7.5-runs-sm_70"),
        pytest.param((8, 6), TF220, "sm_80", None, False, id="rtx3060-8.6-runs-sm_80"),
        pytest.param((8, 9), TF220, "sm_89", None, False, id="rtx4090-8.9-runs-sm_89"),
        pytest.param((9, 0), TF220, None, "compute_90", True, id="h100-9.0-ptx-only"),
        pytest.param((12, 0), TF220, None, "compute_90", True, id="rtx5080-12.0-ptx-only-on-paper"),
        pytest.param((5, 2), TF220, None, None, False, id="gtx970-5.2-nothing"),
        pytest.param((9, 0), NEWER, "sm_90a", None, False, id="sm_90a-runs-on-9.0"),
        pytest.param((10, 0), NEWER, None, None, False, id="sm_90a-never-on-10.0-and-ptx-too-new"),
        pytest.param((12, 1), NEWER, "sm_120", "compute_120", False, id="sm_120-runs-on-12.1"),
    ],
)
def test_sass_runs_on_its_major_and_ptx_on_anything_newer(card, archs, sass, ptx, ptx_only):
    found = cuda_arch.coverage(card, archs)
    assert (found.sass.name if found.sass else None) == sass
    assert (found.ptx.name if found.ptx else None) == ptx
    assert found.ptx_only is ptx_only
