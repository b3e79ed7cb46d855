"""Compose may pull the lab image only when it is pinned by digest."""

from __future__ import annotations

import pytest
from labkit import envcheck

DIGEST = "registry.school.example/lab@sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("values", "refused_key"),
    [
        pytest.param({}, None, id="default-builds-here"),
        pytest.param({"LAB_PULL_POLICY": "never"}, None, id="never"),
        pytest.param({"LAB_PULL_POLICY": "missing", "LAB_IMAGE": DIGEST}, None, id="digest-pulled"),
        pytest.param({"LAB_PULL_POLICY": "missing", "LAB_IMAGE": "school/lab:2027"}, "LAB_PULL_POLICY", id="tag"),
        pytest.param({"LAB_PULL_POLICY": "always"}, "LAB_PULL_POLICY", id="default-name-pulled"),
        pytest.param(
            {"LAB_ROCM_PULL_POLICY": "missing", "LAB_ROCM_IMAGE": "school/lab:rocm", "LAB_IMAGE": DIGEST},
            "LAB_ROCM_PULL_POLICY",
            id="rocm-pairs-with-its-own-image",
        ),
        pytest.param({"LAB_NVIDIA_PULL_POLICY": "sometimes"}, "LAB_NVIDIA_PULL_POLICY", id="unknown-policy"),
    ],
)
def test_pull_only_a_digest(values, refused_key):
    keys = [problem.key for problem in envcheck.validate(values)]
    assert keys == ([refused_key] if refused_key else [])


def test_tag_refusal_says_what_to_set():
    (problem,) = envcheck.validate({"LAB_PULL_POLICY": "missing", "LAB_IMAGE": "school/lab:2027"})
    assert "not pinned by digest" in problem.message
    assert "LAB_IMAGE=registry/name@sha256:" in problem.fix
