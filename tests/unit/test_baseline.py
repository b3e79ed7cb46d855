"""The proof that the lab layer never replaced or shadowed a base package."""

from __future__ import annotations

import baseline


def test_unchanged_base_has_no_problems():
    assert (
        baseline.problems(
            {"tensorflow": "2.20.0"}, {"tensorflow": "2.20.0", "jupyterlab": "4.6.6"}, {"jupyterlab": "4.6.6"}
        )
        == []
    )


def test_a_shadowing_copy_in_the_layer_is_reported_even_with_the_same_version():
    found = baseline.problems({"numpy": "2.1.0"}, {"numpy": "2.1.0"}, {"numpy": "2.1.0"})
    assert len(found) == 1
    assert "installed its own copy" in found[0]


def test_a_changed_version_is_reported():
    found = baseline.problems({"protobuf": "5.28.0"}, {"protobuf": "6.0.0"}, {})
    assert found == ["protobuf: base has 5.28.0, the lab environment sees 6.0.0"]


def test_constraints_parse_ignores_comments_and_normalises_names():
    pins = baseline.parse_constraints("# frozen\nTensorFlow_CPU==2.20.0\nnumpy==2.1.0  # pinned\n")
    assert pins == {"tensorflow-cpu": "2.20.0", "numpy": "2.1.0"}
