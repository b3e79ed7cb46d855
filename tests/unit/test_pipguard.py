"""Students' pip: adding packages is fine, replacing one of the image's is refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from labkit import pipguard

PINS = pipguard.read_pins("numpy==2.4.6\ntensorflow-rocm==2.18.1\njupyterlab==4.6.6\ntensorflow<0\ntf-nightly<0\n")
# What the CPU lab image's pip (23.0.1, the stand-in base's) really printed for each case, run
# the way the guard runs it: tests/unit/pip_record.py records them (Docker and PyPI needed).
PIP_OUTPUT = Path(__file__).resolve().parent / "fixtures" / "pip"
# The CPU image's pins the recordings were refused by (its constraints.txt): numpy and libclang.
IMAGE_PINS = pipguard.read_pins("numpy==2.4.6\nlibclang==18.1.1\ntensorflow-cpu==2.20.0\ntensorflow<0\n")


def recorded(case: str) -> dict:
    return json.loads((PIP_OUTPUT / f"{case}.json").read_text())


REFUSED_BY_THE_IMAGE = {
    "pinned-older-numpy": "numpy",
    "requirements-file": "numpy",
    "needs-older-numpy": "numpy",
    "local-wheel-of-an-image-package": "libclang",
    "local-wheel-needing-older-numpy": "numpy",
    "direct-url": "numpy",
    "named-direct-url": "numpy",
    "isolated-user": "numpy",
    "isolated-before-the-command": "numpy",
    "no-deps": "numpy",
}
# The full pip output of the first case, as a test reads it (what the guard captured).
PIP_RESOLUTION_IMPOSSIBLE = recorded("pinned-older-numpy")["stdout"] + recorded("pinned-older-numpy")["stderr"]


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


def test_the_recordings_are_pips_own_with_the_images_constraints_on_the_command_line():
    for case in [*REFUSED_BY_THE_IMAGE, "own-constraint-file", "no-such-package"]:
        found = recorded(case)
        assert found["pip"].startswith("pip 23.0.1 "), found["pip"]
        assert found["command"][:3] == ["-P", "-m", "pip"]
        at = found["command"].index("--constraint")
        assert found["command"][at + 1] == "/opt/lab-venv/constraints.txt"
        assert found["exit_code"] == 1


@pytest.mark.parametrize(("case", "name"), REFUSED_BY_THE_IMAGE.items())
def test_pip_writes_its_conflict_report_on_stdout_not_stderr(case, name):
    found = recorded(case)
    assert f"The user requested (constraint) {name}==" in found["stdout"]
    assert "The user requested (constraint)" not in found["stderr"]
    assert "ResolutionImpossible" in found["stderr"]


@pytest.mark.parametrize(("case", "name"), REFUSED_BY_THE_IMAGE.items())
def test_every_refusal_by_the_images_constraints_becomes_one_line(case, name):
    found = recorded(case)
    line = pipguard.resolver_refusal(found["stdout"] + found["stderr"], IMAGE_PINS)
    assert line is not None, case
    assert line.startswith(f"pip: installing this would replace {name} of the lab image")
    assert f"{name}=={IMAGE_PINS.versions[name]}" in line
    assert "\n" not in line


def test_stderr_alone_does_not_say_which_package_the_image_keeps():
    """The old guard read stderr only, where pip names no constraint: every refusal above
    reached the student as pip's lines."""
    for case in REFUSED_BY_THE_IMAGE:
        assert pipguard.resolver_refusal(recorded(case)["stderr"], IMAGE_PINS) is None


@pytest.mark.parametrize("case", ["own-constraint-file", "no-such-package"])
def test_other_pip_failures_are_left_as_pip_printed_them(case):
    """A conflict with the student's own constraint file, or no such package: pip's words."""
    found = recorded(case)
    assert pipguard.resolver_refusal(found["stdout"] + found["stderr"], IMAGE_PINS) is None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(["install", "x"], ["install", "--constraint", "C", "x"], id="install"),
        pytest.param(
            ["install", "--isolated", "x"], ["install", "--constraint", "C", "--isolated", "x"], id="isolated"
        ),
        pytest.param(
            ["--isolated", "--log", "l.txt", "install", "x"],
            ["--isolated", "--log", "l.txt", "install", "--constraint", "C", "x"],
            id="general-options-first",
        ),
        pytest.param(["list", "--user"], ["list", "--user"], id="not-an-install"),
    ],
)
def test_installs_carry_the_images_constraints_on_pips_command_line(tmp_path, argv, expected):
    constraints = tmp_path / "C"
    constraints.write_text("numpy==2.4.6\n")
    command = pipguard.pip_command(argv, constraints)
    assert command[1:4] == ["-P", "-m", "pip"]
    assert command[4:] == [str(constraints) if token == "C" else token for token in expected]


def test_general_options_before_the_command_are_read_as_pip_reads_them():
    assert pipguard.requested(["--isolated", "install", "numpy==1.26.4"]) == [("numpy", "==1.26.4")]
    assert pipguard.refusal(["--isolated", "install", "numpy==1.26.4"], PINS) is not None
    assert pipguard.uninstall_names(["-v", "uninstall", "-y", "numpy"]) == ["numpy"]


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


def test_a_refusal_by_pip_itself_reaches_the_student_as_one_line(tmp_path, monkeypatch, capfd):
    """The guard end to end with the real pip of this Python: --isolated (which drops pip's
    environment and configuration) still meets the constraints the guard puts on the command
    line, and pip's report on stdout and its errors on stderr become one line."""
    from wheels import make_wheel

    wheel = make_wheel(tmp_path, name="libclang", version="9.0.1", module="clang", source="")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("libclang==18.1.1\n")
    monkeypatch.setattr(pipguard, "CONSTRAINTS", constraints)
    code = pipguard.main(["--isolated", "install", "--dry-run", "--no-index", str(wheel)])
    out, err = capfd.readouterr()
    assert code == 1
    assert out == ""
    assert err.startswith("pip: installing this would replace libclang of the lab image")
    assert err.count("\n") == 1, err
