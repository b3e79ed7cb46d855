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


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        pytest.param(["uninstall", "-y", "NumPy", "coursepkg"], ["numpy", "coursepkg"], id="names"),
        pytest.param(["uninstall", "-r", "reqs.txt"], None, id="requirements-file-left-to-pip"),
        pytest.param(["install", "numpy"], None, id="not-uninstall"),
    ],
)
def test_uninstall_names_from_the_command_line(argv, names):
    assert pipguard.uninstall_names(argv) == names


def test_uninstall_removes_your_copy_refuses_the_images_and_leaves_the_rest_to_pip():
    plan = pipguard.removals(
        ["numpy", "coursepkg", "jupyterlab", "nosuch"], {"numpy": "1.26.4", "coursepkg": "1.0"}, PINS
    )
    assert plan == [
        pipguard.Removal("numpy", "1.26.4", "2.4.6"),
        pipguard.Removal("coursepkg", "1.0", None),
        pipguard.Removal("jupyterlab", None, "4.6.6"),
    ]
    assert plan[0].line("/u") == "pip: removed your own numpy 1.26.4 from /u; the image's numpy 2.4.6 is used again"
    refused = plan[2].line("/u")
    assert refused.startswith("pip: jupyterlab 4.6.6 is part of the lab image and cannot be removed")
    assert "\n" not in refused


def test_remove_distribution_deletes_what_record_lists_inside_the_user_base_only(tmp_path):
    from importlib import metadata

    base = tmp_path / "python-user"
    site_packages = base / "lib" / "python3.11" / "site-packages"
    (site_packages / "coursepkg" / "__pycache__").mkdir(parents=True)
    (site_packages / "coursepkg" / "__init__.py").write_text("ANSWER = 42\n")
    (site_packages / "coursepkg" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"")
    (base / "bin").mkdir()
    (base / "bin" / "coursetool").write_text("#!/bin/sh\n")
    outside = tmp_path / "image-file"
    outside.write_text("the image's\n")
    info = site_packages / "coursepkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: coursepkg\nVersion: 1.0\n")
    record = ["coursepkg/__init__.py,,", "../../../bin/coursetool,,", "../../../../image-file,,"]
    record += [f"coursepkg-1.0.dist-info/{name},," for name in ("METADATA", "RECORD")]
    (info / "RECORD").write_text("\n".join(record) + "\n")
    (dist,) = metadata.distributions(path=[str(site_packages)])

    pipguard.remove_distribution(dist, base)

    assert not (site_packages / "coursepkg").exists()
    assert not info.exists()
    assert not (base / "bin" / "coursetool").exists()
    assert outside.read_text() == "the image's\n"
    assert site_packages.is_dir()


@pytest.mark.parametrize(("lang", "page"), [("en", "troubleshooting.md"), ("vi", "troubleshooting.vi.md")])
def test_the_refusals_link_to_a_section_of_the_troubleshooting_page(monkeypatch, lang, page):
    from pathlib import Path

    from labkit.verdicts import slug

    monkeypatch.setenv("LAB_LANG", lang)
    doc = Path(__file__).resolve().parents[2] / "docs" / page
    anchors = {slug(line.lstrip("#").strip()) for line in doc.read_text().splitlines() if line.startswith("## ")}
    line = pipguard.refusal(["install", "numpy==1.26.4"], PINS)
    link = line.rsplit(" ", 1)[1]
    assert link.split("#", 1)[0] == f"docs/{page}"
    assert link.split("#", 1)[1] in anchors
