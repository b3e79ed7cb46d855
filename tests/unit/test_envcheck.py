"""The settings checks the container and the host share."""

from __future__ import annotations

from pathlib import Path

import pytest
from labkit import envcheck

GOOD = {
    "LAB_UID": "1000",
    "LAB_GID": "1000",
    "LAB_PORT": "8888",
    "LAB_BIND_ADDRESS": "127.0.0.1",
    "LAB_FLAVOUR": "rocm",
    "LAB_REQUIRE_GPU": "true",
    "LAB_GATE_TIMEOUT": "60",
    "LAB_IMAGE": "courselab/lab:2.20.0-cpu",
    "JUPYTER_TOKEN": "a" * 16,
    "TF_FORCE_GPU_ALLOW_GROWTH": "true",
    "HSA_OVERRIDE_GFX_VERSION": "10.3.0",
    "LAB_RENDER_GID": "110",
    "LAB_KFD_GID": "44",
    "ROCR_VISIBLE_DEVICES": "0",
    "LAB_MEMORY_LIMIT": "8g",
    "LAB_CPUS": "1.5",
    "LAB_PIDS_LIMIT": "2048",
}


def test_good_settings_have_no_problems():
    assert envcheck.validate(GOOD) == []


def test_empty_values_mean_defaults():
    assert envcheck.validate({"LAB_PORT": "", "JUPYTER_TOKEN": "", "LAB_UID": ""}) == []


BAD = [
    ("override-empty", "HSA_OVERRIDE_GFX_VERSION", "", "empty override makes ROCm find no GPU"),
    ("override-two-parts", "HSA_OVERRIDE_GFX_VERSION", "10.3", "three numbers like 10.3.0"),
    ("override-gfx-name", "HSA_OVERRIDE_GFX_VERSION", "gfx1030", "three numbers like 10.3.0"),
    ("override-quoted", "HSA_OVERRIDE_GFX_VERSION", '"10.3.0"', "three numbers like 10.3.0"),
    ("growth-yes", "TF_FORCE_GPU_ALLOW_GROWTH", "yes", "only 'true' or 'false'"),
    ("growth-capital", "TF_FORCE_GPU_ALLOW_GROWTH", "True", "only 'true' or 'false'"),
    ("uid-name", "LAB_UID", "student", "not a number"),
    ("uid-root", "LAB_UID", "0", "never runs as root"),
    ("gid-negative", "LAB_GID", "-5", "not a number"),
    ("render-gid-name", "LAB_RENDER_GID", "render", "not a numeric group id"),
    ("port-zero", "LAB_PORT", "0", "between 1 and 65535"),
    ("port-too-big", "LAB_PORT", "70000", "between 1 and 65535"),
    ("port-word", "LAB_PORT", "eighty", "between 1 and 65535"),
    ("token-short", "JUPYTER_TOKEN", "abc", "at least 16 are required"),
    ("token-spaces", "JUPYTER_TOKEN", "a token with spaces!!", "characters other than"),
    ("flavour-unknown", "LAB_FLAVOUR", "intel", "not one of cpu, nvidia, rocm"),
    ("require-gpu-1", "LAB_REQUIRE_GPU", "1", "only 'true' or 'false'"),
    ("timeout-zero", "LAB_GATE_TIMEOUT", "0", "above 0"),
    ("image-uppercase", "LAB_IMAGE", "CourseLab/Lab:1", "not a valid image reference"),
    ("image-space", "LAB_IMAGE", "courselab/lab: 1", "not a valid image reference"),
    ("bind-hostname", "LAB_BIND_ADDRESS", "localhost", "not an IP address"),
    ("bind-out-of-range", "LAB_BIND_ADDRESS", "300.0.0.1", "not an IP address"),
    ("memory-unit-word", "LAB_MEMORY_LIMIT", "8 gigabytes", "not a size like 8g"),
    ("cpus-word", "LAB_CPUS", "four", "not a number of CPUs"),
    ("pids-too-few", "LAB_PIDS_LIMIT", "10", "at least 64 processes"),
    ("visible-devices-spaces", "ROCR_VISIBLE_DEVICES", "0, 1", "comma-separated list"),
]


@pytest.mark.parametrize(("key", "value", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_value_gives_one_problem_naming_key_and_cause(key, value, expected):
    problems = envcheck.validate({**GOOD, key: value})
    assert len(problems) == 1
    assert problems[0].key == key
    assert expected in problems[0].message


def test_both_visible_device_filters_are_refused():
    problems = envcheck.validate({"ROCR_VISIBLE_DEVICES": "0", "HIP_VISIBLE_DEVICES": "0"})
    assert [p.key for p in problems] == ["HIP_VISIBLE_DEVICES"]


def test_problem_line_is_one_line_with_the_fix():
    problem = envcheck.validate({"LAB_PORT": "x"})[0]
    assert "\n" not in problem.line()
    assert "Fix:" in problem.line()


def test_unknown_keys_are_left_alone():
    assert envcheck.validate({"MY_OWN_THING": ""}) == []


def test_sanitize_drops_every_empty_value():
    env = {"HSA_OVERRIDE_GFX_VERSION": "", "PATH": "/bin", "JUPYTER_TOKEN": ""}
    assert envcheck.sanitize(env) == {"PATH": "/bin"}


@pytest.mark.parametrize("name", ["LAB_KFD_GID", "LAB_VIDEO_GID"])
def test_a_kfd_group_equal_to_the_render_group_is_refused_like_compose_does(name):
    problems = envcheck.validate({name: "110", "LAB_RENDER_GID": "110"})
    assert [p.key for p in problems] == [name]
    assert "same group twice" in problems[0].message
    assert f"delete the {name} line" in problems[0].fix


def test_without_a_render_group_the_lab_gid_fills_that_slot_and_must_differ_too():
    # compose.rocm.yaml's render slot falls back to LAB_GID; the /dev/kfd slot must differ.
    problems = envcheck.validate({"LAB_GID": "110", "LAB_KFD_GID": "110"})
    assert [p.key for p in problems] == ["LAB_KFD_GID"]
    assert "LAB_GID" in problems[0].message


def test_without_a_kfd_group_the_slot_is_nogroup_and_any_render_group_passes():
    assert envcheck.validate({"LAB_GID": "110", "LAB_RENDER_GID": "110"}) == []


def test_the_old_name_of_lab_kfd_gid_still_works_with_a_notice():
    values = {"LAB_VIDEO_GID": "44", "LAB_RENDER_GID": "110"}
    assert envcheck.validate(values) == []
    assert envcheck.notices(values) == [
        "LAB_VIDEO_GID is the old name of LAB_KFD_GID: rename it in .env (the old name still works)"
    ]


def test_the_old_name_is_checked_like_the_new_one():
    (problem,) = envcheck.validate({"LAB_VIDEO_GID": "video", "LAB_RENDER_GID": "110"})
    assert problem.key == "LAB_VIDEO_GID"
    assert "stat -c %g /dev/kfd" in problem.fix


def test_with_both_names_the_new_one_wins_and_the_notice_says_so():
    assert envcheck.notices({"LAB_VIDEO_GID": "44", "LAB_KFD_GID": "45"}) == [
        "LAB_VIDEO_GID is ignored: LAB_KFD_GID is set too (delete the LAB_VIDEO_GID line from .env)"
    ]


DOC = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
DOCUMENTED = {
    "empty-override": {"HSA_OVERRIDE_GFX_VERSION": ""},
    "override-form": {"HSA_OVERRIDE_GFX_VERSION": "10.3"},
    "kfd-equals-render": {"LAB_KFD_GID": "110", "LAB_RENDER_GID": "110"},
}


@pytest.mark.parametrize("values", list(DOCUMENTED.values()), ids=list(DOCUMENTED))
def test_troubleshooting_heading_is_the_exact_message_students_see(values):
    (problem,) = envcheck.validate(values)
    assert f"\n## {problem.key}: {problem.message}\n" in DOC.read_text()


def test_troubleshooting_heading_for_the_renamed_variable_is_the_exact_notice():
    (notice,) = envcheck.notices({"LAB_VIDEO_GID": "44"})
    assert f"\n## NOTICE: {notice}\n" in DOC.read_text()
