"""A work folder full of files named after modules, as first-year students name their
exercises (random.py, re.py, numpy.py, tensorflow.py, ...), on the real CPU lab: the lab still
starts, its GPU check tests the image's real TensorFlow, kernels start and still import the
student's own modules from their folder, pip works there, and the lab's start, the first
notebook and a kernel's first cell name each file that takes a module's place, with the command
that renames it.

The three reproductions of issue 21 are in STUDENT_FILES: work/random.py stopped the lab with a
traceback, work/numpy.py stopped it with "TensorFlow could not be imported ... rebuild", and
work/tensorflow.py (`x = 1`) let the GPU check pass with "TensorFlow ?"."""

from __future__ import annotations

import json
import os

import pytest
from dockerlab import TEST_GID, TEST_UID, Stack, make_workdir
from jupyter_kernel import run_notebook_in_kernel
from jupyter_terminal import type_once

# Python's standard library, as named by the image's sys.stdlib_module_names and loaded from a
# file (not builtin or frozen). A folder name with a slash is a package (with __init__.py).
STDLIB = (
    "random", "re", "types", "enum", "functools", "pathlib", "tempfile", "subprocess", "typing",
    "logging", "string", "socket", "shutil", "platform", "traceback", "copy", "warnings",
    "contextlib", "operator", "inspect", "threading", "queue", "uuid", "datetime", "statistics",
    "keyword", "fnmatch", "ipaddress", "copyreg", "reprlib", "collections/", "json/", "email/",
    "asyncio/", "urllib/", "importlib/",
)  # fmt: skip
# Top-level modules of the image's own packages (the CPU stand-in's TensorFlow and the lab layer's
# lock), and the lab's own labkit.
IMAGE = (
    "numpy", "tensorflow", "keras/", "matplotlib", "yaml", "requests", "tornado", "jinja2",
    "packaging", "six", "google", "h5py", "absl", "IPython/", "tensorflow_datasets", "PIL/",
    "dotenv", "labkit",
)  # fmt: skip
# The issue's files, as it gives them; every other file raises if anything imports it.
CONTENT = {"random": "x = 1\n", "numpy": "x = 1\n", "tensorflow": "x = 1\n"}
# The student's own module, which their notebooks import from their folder.
OWN_MODULE = "my_helpers"


def module_name(entry: str) -> str:
    return entry.rstrip("/")


def shown(entry: str) -> str:
    return entry if entry.endswith("/") else f"{entry}.py"


def write_student_files(folder) -> None:
    for entry in (*STDLIB, *IMAGE):
        name = module_name(entry)
        source = CONTENT.get(name, f"raise ImportError('the lab imported the student file {shown(entry)}')\n")
        if entry.endswith("/"):
            (folder / name).mkdir()
            (folder / name / "__init__.py").write_text(source)
        else:
            (folder / f"{name}.py").write_text(source)
    (folder / f"{OWN_MODULE}.py").write_text("VALUE = 'from the work folder'\n")


@pytest.fixture(scope="module")
def stack(cpu_lab_image, tmp_path_factory):
    stack = Stack(make_workdir(tmp_path_factory, "names"))
    write_student_files(stack.workdir)
    try:
        stack.up("lab")  # --wait: up and healthy (the health check runs in the work folder too)
        yield stack
    finally:
        stack.down()


def warnings_in(text: str) -> dict[str, str]:
    """module -> the warning line naming it."""
    found = {}
    for line in text.splitlines():
        if "WARNING: " in line and " has the name of " in line:
            path = line.split("WARNING: ", 1)[1].split(" has the name of ", 1)[0]
            found[path.rstrip("/").removesuffix(".py")] = line
    return found


def assert_every_file_is_named_with_its_rename(text: str) -> None:
    warnings = warnings_in(text)
    for entry in STDLIB:
        line = warnings.get(module_name(entry))
        assert line is not None, f"{shown(entry)} not named:\n{text[-4000:]}"
        assert f"has the name of Python's standard module {module_name(entry)}:" in line
        assert f"Fix: rename it (in a lab terminal: mv {shown(entry).rstrip('/')} my_" in line
    for entry in IMAGE:
        line = warnings.get(module_name(entry))
        assert line is not None, f"{shown(entry)} not named:\n{text[-4000:]}"
        assert f"has the name of {module_name(entry)}, a package of the lab image" in line
        assert f"Fix: rename it (in a lab terminal: mv {shown(entry).rstrip('/')} my_" in line
    # Nothing else: not the student's own module, not the course material the lab copies in.
    assert set(warnings) == {module_name(entry) for entry in (*STDLIB, *IMAGE)}


def test_the_lab_starts_and_checks_the_images_real_tensorflow(stack):
    logs = stack.logs()
    assert "[lab]   TensorFlow 2.20.0 (CPU build), Python 3.11" in logs
    assert "TensorFlow ?" not in logs
    assert "could not be imported" not in logs
    assert "Traceback" not in logs
    assert "NOTICE: No GPU in the CPU lab: TensorFlow runs on the CPU." in logs


@pytest.mark.parametrize("name", ["random", "numpy", "tensorflow"])
def test_each_file_of_the_issue_alone_leaves_the_lab_starting_on_the_real_tensorflow(fresh_stack, name):
    """Issue 21's three reproductions, one work folder each, as the issue gives them."""
    (fresh_stack.workdir / f"{name}.py").write_text("x = 1\n")
    fresh_stack.up("lab")
    logs = fresh_stack.logs()
    assert "[lab]   TensorFlow 2.20.0 (CPU build), Python 3.11" in logs
    assert f"[lab] WARNING: {name}.py has the name of " in logs
    assert f"(in a lab terminal: mv {name}.py my_{name}.py)" in logs


# The standard modules that `python -m ipykernel_launcher` (ipykernel 7.4) imports while the
# notebook's folder is still first on the path: each of these files stopped a kernel starting.
KERNEL_START = (
    "importlib/", "warnings", "contextlib", "collections/", "keyword", "operator", "reprlib", "functools",
    "types", "pathlib", "fnmatch", "re", "enum", "copyreg", "urllib/", "ipaddress",
)  # fmt: skip


def test_a_kernel_starts_beside_the_files_python_loads_while_a_kernel_starts(fresh_stack):
    """In a subfolder, so the lab itself starts on any code: only the kernel meets them."""
    exercises = fresh_stack.workdir / "exercises"
    exercises.mkdir()
    os.chown(exercises, TEST_UID, TEST_GID)  # the student's folder: the lab saves the notebook there
    for entry in KERNEL_START:
        name = module_name(entry)
        source = f"raise ImportError('the kernel imported the student file {shown(entry)}')\n"
        if entry.endswith("/"):
            (exercises / name).mkdir()
            (exercises / name / "__init__.py").write_text(source)
        else:
            (exercises / f"{name}.py").write_text(source)
    fresh_stack.up("lab")
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    cell["source"] = "import re, types\nprint('kernel ran', re.__file__)"
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    body = {"type": "notebook", "content": notebook}
    status, _ = fresh_stack.api("/api/contents/exercises/a.ipynb", method="PUT", body=body)
    assert status in (200, 201)
    # The kernel starts in exercises/, the notebook's folder, as JupyterLab starts it.
    output = run_notebook_in_kernel(fresh_stack, "exercises/a.ipynb", timeout=120)
    assert "kernel ran /usr/lib/python3" in output
    assert "WARNING: exercises/re.py has the name of Python's standard module re:" in output


def test_the_gate_alone_sees_the_real_tensorflow_too(stack):
    """`check --json` as scripts/lab verify runs it, in the work folder (exec's current folder)."""
    done = stack.compose("exec", "-T", "lab", "python", "-P", "-s", "-m", "labkit", "check", "--json")
    lines = done.stdout.splitlines()
    data = json.loads("\n".join(lines[lines.index("{") :]))
    assert data["probe"]["tensorflow"] == "2.20.0"
    assert data["probe"]["error"] is None


def test_the_start_names_every_file_that_takes_a_modules_name(stack):
    assert_every_file_is_named_with_its_rename(stack.logs())


def test_the_first_notebook_names_them(stack):
    status, model = stack.api("/api/contents/course/01-check-gpu.ipynb")
    assert status == 200
    (cell,) = [
        c["source"] for c in model["content"]["cells"] if "namesakes" in c["source"] and c["cell_type"] == "code"
    ]
    assert_every_file_is_named_with_its_rename(run_notebook_in_kernel(stack, source=cell))


def test_a_kernel_starts_beside_them_says_so_and_imports_the_students_own_module(stack):
    # The kernel starts in the work folder (path ""), where every file above lies.
    output = run_notebook_in_kernel(
        stack, source=f"import {OWN_MODULE}, random, json\nprint({OWN_MODULE}.VALUE, random.Random, json.dumps(1))"
    )
    assert "from the work folder <class 'random.Random'> 1" in output
    assert_every_file_is_named_with_its_rename(output)


def test_the_kernels_warning_comes_once_before_its_first_cell(stack):
    notebook = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "print('FIRST')"},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "print('SECOND')"},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    status, _ = stack.api("/api/contents/two-cells.ipynb", method="PUT", body={"type": "notebook", "content": notebook})
    assert status in (200, 201)
    output = run_notebook_in_kernel(stack, "two-cells.ipynb")
    before, after = output.split("FIRST", 1)
    assert warnings_in(before).keys() == warnings_in(output).keys()
    assert warnings_in(after) == {}
    assert output.count("WARNING: random.py has the name") == 1


def test_pip_and_percent_pip_work_in_that_folder(stack):
    typed = type_once(stack, "pwd; pip show numpy")
    assert typed.exit_code == 0, typed.output
    assert typed.lines[0] == "/home/lab/work"
    assert "Name: numpy" in typed.lines
    output = run_notebook_in_kernel(stack, source="%pip show numpy")
    assert "Name: numpy" in output.splitlines()
