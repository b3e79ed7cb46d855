"""Students' pip: adding packages is fine, replacing one of the image's is refused in one line."""

from __future__ import annotations

import pytest
from labkit import pipguard

PINS = pipguard.read_pins("numpy==2.4.6\ntensorflow-rocm==2.18.1\njupyterlab==4.6.6\ntensorflow<0\ntf-nightly<0\n")
# What pip 23 prints on stderr when a request conflicts with PIP_CONSTRAINT (recorded in the
# CPU stand-in: `PIP_CONSTRAINT=c.txt pip install numpy==1.26.4`).
PIP_RESOLUTION_IMPOSSIBLE = """ERROR: Cannot install numpy==1.26.4 because these package versions have conflicting \
dependencies.

The conflict is caused by:
    The user requested numpy==1.26.4
    The user requested (constraint) numpy==2.4.6

To fix this you could try to:
1. loosen the range of package versions you've specified
2. remove package versions to allow pip attempt to solve the dependency conflict

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/
"""


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(["install", "numpy==1.26.4"], [("numpy", "==1.26.4")], id="pinned"),
        pytest.param(
            ["install", "-U", "JupyterLab", "tabulate>=0.9"], [("jupyterlab", ""), ("tabulate", ">=0.9")], id="several"
        ),
        pytest.param(
            ["install", "-r", "reqs.txt", "--index-url", "http://x", "six"], [("six", "")], id="option-values"
        ),
        pytest.param(["install", "./local-package", "https://x/y.whl"], [], id="paths-left-to-pip"),
        pytest.param(["uninstall", "numpy"], [], id="not-install"),
        pytest.param(["install", "tensorflow[and-cuda]"], [("tensorflow", "")], id="extras"),
    ],
)
def test_requested_reads_package_names_from_the_command_line(argv, expected):
    assert pipguard.requested(argv) == expected


@pytest.mark.parametrize(
    ("argv", "refused"),
    [
        pytest.param(["install", "numpy==1.26.4"], "numpy 2.4.6 is part of the lab image", id="older-numpy"),
        pytest.param(["install", "jupyterlab>=5"], "jupyterlab 4.6.6 is part of the lab image", id="upgrade"),
        pytest.param(
            ["install", "tensorflow"], "would hide the image's TensorFlow (tensorflow-rocm 2.18.1)", id="pypi-tf"
        ),
        pytest.param(["install", "numpy"], None, id="same-numpy-is-fine"),
        pytest.param(["install", "numpy>=2"], None, id="satisfied-range"),
        pytest.param(["install", "tabulate"], None, id="new-package"),
    ],
)
def test_refusal_before_pip_runs(argv, refused):
    line = pipguard.refusal(argv, PINS)
    if refused is None:
        assert line is None
    else:
        assert refused in line
        assert "\n" not in line
        assert "Fix:" in line


def test_resolver_conflict_with_the_image_becomes_one_line():
    line = pipguard.resolver_refusal(PIP_RESOLUTION_IMPOSSIBLE, PINS)
    assert line.startswith("pip: installing this would replace numpy of the lab image")
    assert "numpy==2.4.6" in line
    assert "\n" not in line


def test_other_pip_failures_are_left_as_pip_printed_them():
    assert pipguard.resolver_refusal("ERROR: No matching distribution found for nosuchpkg\n", PINS) is None
