"""`scripts/lab setup` in the student's language: with LAB_LANG=vi what setup prints is
Vietnamese, while the .env it writes (settings, values, comments) is the same file as in
English; with LAB_LANG=en (or unset) setup prints what it always printed."""

from __future__ import annotations

import pytest
from fakeworld import err, make_world, out
from labhost import cli
from labhost.envfile import EnvFile


def setup(tmp_path, fixture: str, monkeypatch, lang: str | None, *args: str, env: str | None = None):
    if lang is None:
        monkeypatch.delenv("LAB_LANG", raising=False)
    else:
        monkeypatch.setenv("LAB_LANG", lang)
    world = make_world(tmp_path / (lang or "unset"), fixture, env=env)
    code = cli.main(["setup", *args], world)
    return code, world


def written(world) -> dict[str, str]:
    values = EnvFile.parse((world.repo / ".env").read_text()).values()
    values.pop("JUPYTER_TOKEN")  # new and random each time
    return values


def test_setup_speaks_vietnamese_and_writes_the_same_env(tmp_path, monkeypatch) -> None:
    code, vi = setup(tmp_path, "igpu-plus-rx6700xt", monkeypatch, "vi")
    _, en = setup(tmp_path, "igpu-plus-rx6700xt", monkeypatch, "en")
    text = out(vi)

    assert code == 0
    assert text.startswith("Lab được chọn: rocm (")
    assert "Stack" not in text
    assert "Đã ghi .env: " in text
    assert "đã tạo JUPYTER_TOKEN" in text
    assert (
        "Khởi động lab: scripts/lab up   (hoặc: docker compose -f compose.yaml -f compose.rocm.yaml up -d --wait)"
        in text
    )
    assert "Wrote .env" not in text
    assert written(vi) == written(en)


def test_setup_says_what_it_replaced_in_vietnamese(tmp_path, monkeypatch) -> None:
    mine = "HSA_OVERRIDE_GFX_VERSION=11.0.0\nJUPYTER_TOKEN=" + "a1" * 24 + "\n"
    _, world = setup(tmp_path, "rx6700xt", monkeypatch, "vi", env=mine)

    assert "HSA_OVERRIDE_GFX_VERSION=10.3.0 (trước đây là '11.0.0')" in out(world)
    assert "File cũ của các bạn nằm ở .env.bak." in out(world)


def test_setup_up_to_date_in_vietnamese(tmp_path, monkeypatch) -> None:
    _, world = setup(tmp_path, "rx7600", monkeypatch, "vi")
    cli.main(["setup"], world)

    # ".env is up to date": nothing was written. "đã được cập nhật" would say it was just updated.
    assert ".env không cần cập nhật: không có gì thay đổi." in out(world).splitlines()
    assert "đã được cập nhật" not in out(world)


def test_setup_refuses_root_in_vietnamese(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LAB_LANG", "vi")
    world = make_world(tmp_path, "no-gpu")
    world.user = type(world.user)(0, 0, (), "root")

    assert cli.main(["setup"], world) == 1
    assert err(world).startswith("setup: hãy chạy bằng tài khoản của các bạn, không phải root")


@pytest.mark.parametrize("fixture", ["igpu-plus-rx6700xt", "no-gpu", "nvidia-toolkit"])
def test_setup_english_is_the_default(tmp_path, monkeypatch, fixture: str) -> None:
    _, unset = setup(tmp_path, fixture, monkeypatch, None)
    _, english = setup(tmp_path, fixture, monkeypatch, "en")
    first = out(english).splitlines()

    assert out(english).replace(english.repo.as_posix(), "") == out(unset).replace(unset.repo.as_posix(), "")
    assert first[0].startswith("Stack: ")
    assert any(line.startswith("Wrote .env: ") and "JUPYTER_TOKEN generated" in line for line in first)
    assert first[-1].startswith("Start the lab: scripts/lab up   (or: docker compose")
