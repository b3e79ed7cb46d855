"""Crash-safe writes: old or new content, never a mix; permissions kept."""

from __future__ import annotations

import os
import stat

import pytest
from labkit import atomic


def test_write_leaves_no_temporary_files(tmp_path):
    atomic.write_bytes(tmp_path / "x.ipynb", b"{}")
    assert [p.name for p in tmp_path.iterdir()] == ["x.ipynb"]


def test_failure_mid_write_keeps_the_old_content_and_cleans_up(tmp_path):
    target = tmp_path / "essay.ipynb"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic.replacing(target, text=True) as stream:
        stream.write("half of the new")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["essay.ipynb"]


def test_target_is_untouched_until_the_rename(tmp_path):
    target = tmp_path / "essay.ipynb"
    target.write_text("old")
    with atomic.replacing(target, text=True) as stream:
        stream.write("new")
        stream.flush()
        assert target.read_text() == "old"
    assert target.read_text() == "new"


def test_existing_permissions_are_kept(tmp_path):
    target = tmp_path / "shared.py"
    target.write_text("x")
    target.chmod(0o640)
    atomic.write_bytes(target, b"y")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_new_file_gets_umask_permissions_not_private_ones(tmp_path):
    atomic.write_bytes(tmp_path / "new.txt", b"y")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o666 & ~umask


def test_writing_through_a_symlink_replaces_the_linked_file(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    (tmp_path / "link.txt").symlink_to(real.name)
    atomic.write_bytes(tmp_path / "link.txt", b"new")
    assert (tmp_path / "link.txt").is_symlink()
    assert real.read_text() == "new"


def test_create_exclusive_writes_once_and_never_replaces(tmp_path):
    target = tmp_path / "state" / "once"

    assert atomic.create_exclusive(target, "first\n", mode=0o600) is True
    assert atomic.create_exclusive(target, "second\n", mode=0o600) is False

    assert target.read_text() == "first\n"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["once"]


def test_write_text_sets_the_mode_asked_for(tmp_path):
    target = tmp_path / ".env"
    target.write_text("OLD=1\n")
    os.chmod(target, 0o644)

    atomic.write_text(target, "NEW=1\n", mode=0o600)

    assert target.read_text() == "NEW=1\n"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
