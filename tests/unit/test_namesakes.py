"""A student's file named like a module of Python or of the image is named, with the command
that renames it; decided by this Python's own import system and stdlib list, never a list
typed here: builtin and frozen modules (math, os) cannot be replaced by a file, a folder
without __init__.py is no module, and a name nothing provides is the student's own."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from labkit import namesakes
from labkit.namesakes import Kind, Namesake


def image_path() -> list[str]:
    """This Python's path less the current folder: the 'image' of the test run."""
    return [folder for folder in sys.path if folder not in ("", os.getcwd())]


@pytest.fixture
def work(tmp_path) -> Path:
    for name in ("random.py", "re.py", "numbers.py", "yaml.py", "sys.py", "os.py", "my_helpers.py", "notes.txt"):
        (tmp_path / name).write_text("x = 1\n")
    (tmp_path / "json").mkdir()
    (tmp_path / "json" / "__init__.py").write_text("")
    (tmp_path / "email").mkdir()  # no __init__.py: a plain folder, not a module
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "pytest.py").write_text("")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "enum.py").write_text("")
    return tmp_path


def test_the_work_folder_and_its_subfolders_are_checked(work):
    found = namesakes.scan(namesakes.folders_below(work), image_path())
    assert {(n.path, n.module, n.kind) for n in found} == {
        ("json/", "json", Kind.STDLIB),
        ("numbers.py", "numbers", Kind.STDLIB),
        ("random.py", "random", Kind.STDLIB),
        ("re.py", "re", Kind.STDLIB),
        ("yaml.py", "yaml", Kind.IMAGE),
        ("course/pytest.py", "pytest", Kind.IMAGE),
    }


def test_an_image_package_is_named_with_its_distribution(work):
    (yaml,) = [n for n in namesakes.scan([(work, "")], image_path()) if n.module == "yaml"]
    assert yaml.package == "PyYAML"
    assert yaml.line().startswith("yaml.py has the name of yaml, a package of the lab image (PyYAML): `import yaml`")


def test_builtin_and_frozen_modules_cannot_be_replaced_by_a_file():
    # Which modules are builtin depends on how this Python was built (Debian's has math
    # builtin, pyenv's a file), so the test asks the interpreter too.
    for name in sys.builtin_module_names:
        assert not namesakes.replaceable(name, image_path()), name
    assert not namesakes.replaceable("os", image_path())  # frozen (3.11+)
    assert namesakes.replaceable("random", image_path())
    assert not namesakes.replaceable("my_helpers", image_path())


@pytest.mark.parametrize(
    ("namesake", "command"),
    [
        (Namesake("random", "random.py", Kind.STDLIB), "mv random.py my_random.py"),
        (Namesake("numpy", "course/numpy/", Kind.IMAGE, "numpy"), "mv course/numpy course/my_numpy"),
        (Namesake("re", "bài tập/re.py", Kind.STDLIB), "mv 'bài tập/re.py' 'bài tập/my_re.py'"),
    ],
)
def test_the_fix_renames_the_file_from_the_work_folder(namesake, command):
    assert namesake.command == command
    assert namesake.line().endswith(f"Fix: rename it (in a lab terminal: {command})")
    assert "\n" not in namesake.line()


def test_distribution_names_are_shown_as_pip_lists_them():
    (found,) = namesakes.find(
        {"tensorflow": "tensorflow.py"}, {"tensorflow"}, stdlib=(), packages={"tensorflow": ["tensorflow_cpu"]}
    )
    assert "a package of the lab image (tensorflow-cpu):" in found.line()


def test_stdlib_and_image_lines_say_what_each_breaks():
    stdlib = Namesake("random", "random.py", Kind.STDLIB).line()
    image = Namesake("numpy", "numpy.py", Kind.IMAGE, "numpy").line()
    assert stdlib.startswith("random.py has the name of Python's standard module random: ")
    assert image.startswith("numpy.py has the name of numpy, a package of the lab image: `import numpy` in that folder")


def test_nothing_to_say_is_said(tmp_path, capsys):
    (tmp_path / "my_model.py").write_text("")
    namesakes.show(tmp_path)
    assert (
        capsys.readouterr().out
        == "OK: no file in your work folder has the name of a module of Python or of the lab image.\n"
    )


def test_a_huge_work_folder_is_walked_only_so_far(tmp_path):
    for index in range(30):
        (tmp_path / f"d{index:02}").mkdir()
    assert len(namesakes.folders_below(tmp_path, limit=10)) == 10


@pytest.mark.parametrize(
    ("folder", "shown"), [("/home/lab/work", ""), ("/home/lab/work/course", "course/"), ("/tmp/x", "/tmp/x/")]
)
def test_files_are_named_from_the_work_folder_where_a_terminal_starts(folder, shown):
    assert namesakes.shown_prefix(Path(folder), Path("/home/lab/work")) == shown


def test_vietnamese(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    line = Namesake("random", "random.py", Kind.STDLIB).line()
    assert line.startswith("random.py trùng tên với module random của thư viện chuẩn Python")
    assert line.endswith("Cách sửa: đổi tên file (trong một terminal của lab: mv random.py my_random.py)")


@pytest.mark.parametrize(("lang", "page"), [("en", "troubleshooting.md"), ("vi", "troubleshooting.vi.md")])
@pytest.mark.parametrize("kind", list(Kind))
def test_the_troubleshooting_heading_is_the_line_students_see(monkeypatch, lang, page, kind):
    """Its shape with FILE and NAME, up to the colon; both languages' pages."""
    import re

    monkeypatch.setenv("LAB_LANG", lang)
    heading = Namesake("NAME", "FILE", kind).line().split(":", 1)[0]
    doc = Path(__file__).resolve().parents[2] / "docs" / page
    assert heading in re.findall(r"^## (.+)$", doc.read_text(), re.MULTILINE)


@pytest.mark.parametrize(("lang", "page"), [("en", "troubleshooting.md"), ("vi", "troubleshooting.vi.md")])
def test_the_pages_examples_are_the_lines_printed(monkeypatch, lang, page):
    monkeypatch.setenv("LAB_LANG", lang)
    text = " ".join((Path(__file__).resolve().parents[2] / "docs" / page).read_text().split())
    for namesake in (Namesake("random", "random.py", Kind.STDLIB), Namesake("numpy", "numpy.py", Kind.IMAGE, "numpy")):
        assert namesake.line() in text
