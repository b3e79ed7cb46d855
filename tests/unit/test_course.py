"""Course material reaches the student without overwriting their edits."""

from __future__ import annotations

from labkit import course
from labkit.course import Action


def test_missing_files_are_copied():
    assert course.plan_sync({"a.ipynb": "h1"}, {}, {}) == [Action("copy", "a.ipynb")]


def test_identical_files_need_nothing():
    assert course.plan_sync({"a.ipynb": "h1"}, {"a.ipynb": "h1"}, {"a.ipynb": "h1"}) == []


def test_untouched_old_copy_is_updated_to_the_new_course_version():
    assert course.plan_sync({"a.ipynb": "new"}, {"a.ipynb": "old"}, {"a.ipynb": "old"}) == [Action("update", "a.ipynb")]


def test_students_edit_is_kept_even_when_the_course_changed():
    assert course.plan_sync({"a.ipynb": "new"}, {"a.ipynb": "mine"}, {"a.ipynb": "old"}) == [Action("keep", "a.ipynb")]


def test_students_file_without_a_delivery_record_is_kept():
    assert course.plan_sync({"a.ipynb": "new"}, {"a.ipynb": "mine"}, {}) == [Action("keep", "a.ipynb")]


def test_sync_round_trip_keeps_edits_and_delivers_updates(tmp_path):
    source, work = tmp_path / "src", tmp_path / "work"
    source.mkdir()
    (source / "a.txt").write_text("v1")
    (source / "b.txt").write_text("v1")
    course.sync(source, work)
    (work / "a.txt").write_text("student edit")
    (source / "a.txt").write_text("v2")
    (source / "b.txt").write_text("v2")
    actions = course.sync(source, work)
    assert (work / "a.txt").read_text() == "student edit"
    assert (work / "b.txt").read_text() == "v2"
    assert Action("keep", "a.txt") in actions
    assert Action("update", "b.txt") in actions
