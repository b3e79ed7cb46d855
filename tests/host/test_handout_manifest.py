"""`scripts/lab import` reads the hand-out's .json without trusting it: every shape gives one
line and exit 1 with nothing loaded, never a traceback (four shapes did: a top level that is
not an object, `image` as a string, `env_lines` as a number, a size of null), and the .env
lines it would print are checked as settings (labkit.settings' table) and must name exactly the
image being imported, never pulled. Property test: any JSON, any bytes."""

from __future__ import annotations

import io
import json
import os

import pytest
from fakeworld import make_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from labhost import cli, handoutmanifest

settings.register_profile(
    "ci", max_examples=80, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=50, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev"))

TAG = "courselab.invalid/lab:2027-spring-cpu"
DIGEST = "sha256:" + "ab" * 32
GOOD = {
    "schema": 2,
    "term": "2027-spring",
    "flavour": "cpu",
    "image": {"tag": TAG, "config": DIGEST, "diff_ids": [DIGEST], "unpacked_size": 10, "published": None},
    "lab_layer": {"diff_id": DIGEST, "size": 10},
    "handout": {"file": "x.tar.gz", "compressed_size": 1, "tar_size": 20, "unpacked_size": 10, "sha256": "0" * 64},
    "env_lines": [f"LAB_IMAGE={TAG}", "LAB_PULL_POLICY=never"],
}
CHECKSUM = "0" * 64 + "  courselab-2027-spring-cpu.tar.gz\n"


def imported(tmp_path, manifest_text: str, checksum: str = CHECKSUM) -> tuple[int, str]:
    archive = tmp_path / "courselab-2027-spring-cpu.tar.gz"
    archive.write_bytes(b"\x1f\x8b not really")
    (tmp_path / "courselab-2027-spring-cpu.tar.gz.sha256").write_text(checksum)
    (tmp_path / "courselab-2027-spring-cpu.json").write_text(manifest_text)
    world = make_world(tmp_path, "no-gpu")
    world.err = io.StringIO()
    code = cli.main(["import", str(archive)], world)
    return code, world.err.getvalue()


def with_change(change) -> str:
    data = json.loads(json.dumps(GOOD))
    change(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param("[]", "not a hand-out manifest (no image)", id="top-level-list"),
        pytest.param('"text"', "not a hand-out manifest (no image)", id="top-level-string"),
        pytest.param(with_change(lambda d: d.update(image="x")), "image is not an object", id="image-a-string"),
        pytest.param(with_change(lambda d: d.update(env_lines=5)), "env_lines is not a list", id="env-lines-a-number"),
        pytest.param(
            with_change(lambda d: d["handout"].update(compressed_size=None)),
            "handout.compressed_size is not a size",
            id="size-null",
        ),
        pytest.param(with_change(lambda d: d.pop("handout")), "no handout", id="missing-key"),
        pytest.param(
            with_change(lambda d: d["image"].update(tag="--help")), "is not an image name", id="tag-an-option"
        ),
        pytest.param(
            with_change(lambda d: d["image"].update(tag="../../etc")), "is not an image name", id="tag-a-path"
        ),
        pytest.param(with_change(lambda d: d["image"].update(diff_ids=[5])), "not sha256 digests", id="diff-id-number"),
        pytest.param("{", "not a hand-out manifest", id="not-json"),
    ],
)
def test_a_malformed_handout_manifest_is_one_line(tmp_path, text, says):
    code, err = imported(tmp_path, text)
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert says in err and "Nothing was loaded." in err


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        pytest.param([f"LAB_IMAGE={TAG}", "LAB_PULL_POLICY=never", "LAB_BIND_ADDRESS=0.0.0.0"], "it sets", id="extra"),
        pytest.param([f"LAB_IMAGE={TAG}", "LAB_PULL_POLICY=always"], "LAB_PULL_POLICY", id="pulls-a-tag"),
        pytest.param(["LAB_IMAGE=evil/lab:1", "LAB_PULL_POLICY=never"], "not courselab.invalid", id="other-image"),
        pytest.param([f"LAB_IMAGE={TAG} x", "LAB_PULL_POLICY=never"], "not a valid image reference", id="two-words"),
        pytest.param([f"LAB_IMAGE={TAG}\nLAB_BIND_ADDRESS=0.0.0.0", "LAB_PULL_POLICY=never"], "", id="newline"),
        pytest.param(["echo hi", "LAB_PULL_POLICY=never"], "is not a setting line", id="not-a-setting"),
        pytest.param(["LAB_NVIDIA_IMAGE=" + TAG, "LAB_PULL_POLICY=never"], "it sets", id="another-flavour"),
    ],
)
def test_env_lines_are_checked_as_settings_before_they_are_printed(tmp_path, lines, says):
    code, err = imported(tmp_path, with_change(lambda d: d.update(env_lines=lines)))
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert "'s .env lines are not this hand-out's" in err and says in err and "Nothing was loaded." in err


def test_the_lines_export_writes_pass():
    expected = handoutmanifest.read_handout(json.dumps(GOOD), CHECKSUM)
    assert not isinstance(expected, str)
    keys = ("LAB_IMAGE", "LAB_PULL_POLICY")
    assert handoutmanifest.env_problem(expected.env_lines, keys=keys, image=TAG) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=14), children, max_size=5),
    max_leaves=20,
)
FIELDS = ["image", "handout", "env_lines", "flavour", "tag", "config", "diff_ids", "compressed_size", "tar_size"]


@st.composite
def damaged(draw) -> str:
    data = json.loads(json.dumps(GOOD))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["", "image", "handout"]))
        target = data.get(where) if where else data
        if isinstance(target, dict):
            target[draw(st.sampled_from(FIELDS))] = draw(json_values)
    return json.dumps(data)


@given(text=damaged() | json_values.map(json.dumps) | st.text(max_size=200), checksum=st.text(max_size=80))
def test_any_handout_manifest_gives_a_value_or_one_line(text, checksum):
    found = handoutmanifest.read_handout(text, checksum)
    if isinstance(found, str):
        assert "\n" not in found
    else:
        handoutmanifest.env_problem(found.env_lines, keys=("LAB_IMAGE", "LAB_PULL_POLICY"), image=found.released.tag)
