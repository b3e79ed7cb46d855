"""An old setting name in .env (LAB_VIDEO_GID, now LAB_KFD_GID): the doctor says "run setup to
rename it", setup renames it on every flavour, and the doctor is quiet after. The walk runs
through scripts/lab's own commands on the fake host of each flavour."""

from __future__ import annotations

import io
import json

import pytest
from fakeworld import make_world, out
from labhost import cli
from labhost.envfile import EnvFile

# fixture -> the stack setup detects there
FLAVOURS = {"no-gpu": "cpu", "nvidia-toolkit": "nvidia", "rx6700xt": "rocm"}


def env_check(world) -> dict:
    world.out = io.StringIO()
    cli.main(["doctor", "--json"], world)
    return {c["name"]: c for c in json.loads(out(world))["checks"]}["env"]


def setup(world) -> str:
    world.out = io.StringIO()
    assert cli.main(["setup"], world) == 0
    return out(world)


@pytest.mark.parametrize("fixture", FLAVOURS, ids=FLAVOURS.values())
def test_doctor_setup_doctor_renames_an_old_name_on_every_flavour(tmp_path, fixture) -> None:
    world = make_world(tmp_path, fixture, env=f"# my lab\nLAB_FLAVOUR={FLAVOURS[fixture]}\nLAB_VIDEO_GID=44\n")

    before = env_check(world)
    said = setup(world)
    after = env_check(world)
    again = setup(world)

    assert before["status"] == "warn"
    assert "LAB_VIDEO_GID is the old name of LAB_KFD_GID" in before["detail"]
    assert "nothing to change" not in said
    assert "LAB_VIDEO_GID" not in EnvFile.read(world.env_path).values()
    assert "old name" not in after["detail"], after
    assert "rename" not in after["fix"], after
    assert ".env is up to date; nothing to change." in again


@pytest.mark.parametrize("fixture", ["no-gpu", "nvidia-toolkit"], ids=["cpu", "nvidia"])
def test_the_old_value_moves_to_the_new_name_where_the_computer_does_not_decide_it(tmp_path, fixture) -> None:
    world = make_world(tmp_path, fixture, env=f"LAB_FLAVOUR={FLAVOURS[fixture]}\nLAB_VIDEO_GID=44\n")

    said = setup(world)
    text = world.env_path.read_text()

    assert "LAB_VIDEO_GID renamed to LAB_KFD_GID" in said
    assert EnvFile.parse(text).values()["LAB_KFD_GID"] == "44"
    assert "# LAB_VIDEO_GID=44" in text  # the student's line stays, as a comment


def test_on_rocm_the_detected_groups_win_over_the_old_value(tmp_path) -> None:
    # /dev/kfd and the render node share one group here: LAB_KFD_GID stays unset.
    world = make_world(tmp_path, "rx6700xt", env="LAB_FLAVOUR=rocm\nLAB_VIDEO_GID=44\n")

    said = setup(world)
    values = EnvFile.read(world.env_path).values()

    assert "LAB_VIDEO_GID removed (was '44')" in said
    assert "LAB_KFD_GID" not in values
    assert values["LAB_RENDER_GID"] == "110"


def test_an_old_name_that_is_ignored_goes_and_the_new_one_stays(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu", env="LAB_FLAVOUR=cpu\nLAB_VIDEO_GID=44\nLAB_KFD_GID=45\n")

    said = setup(world)
    values = EnvFile.read(world.env_path).values()

    assert "LAB_VIDEO_GID removed (was '44')" in said
    assert values["LAB_KFD_GID"] == "45"
    assert "LAB_VIDEO_GID" not in values


def test_setup_says_the_rename_in_vietnamese_and_writes_the_same_file(tmp_path, monkeypatch) -> None:
    files = {}
    for lang in ("vi", "en"):
        monkeypatch.setenv("LAB_LANG", lang)
        world = make_world(
            tmp_path / lang, "no-gpu", env="LAB_FLAVOUR=cpu\nJUPYTER_TOKEN=" + "a1" * 24 + "\nLAB_VIDEO_GID=44\n"
        )
        said = setup(world)
        files[lang] = world.env_path.read_text()
        if lang == "vi":
            assert "đã đổi tên LAB_VIDEO_GID thành LAB_KFD_GID" in said
            assert "renamed" not in said
    assert files["vi"] == files["en"]
