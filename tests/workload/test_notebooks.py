"""The course notebooks: committed without outputs, and the training ones run end to end."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import pytest
from conftest import make_work
from workload_support import LAB, REPO, TINY_DATASET, needs_tensorflow, script_env


def committed_notebooks() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "lab/*.ipynb"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert listed, "no notebooks in git under lab/"
    return listed


def code_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_course_notebooks_are_in_git():
    assert {"lab/01-check-gpu.ipynb", "lab/02-train.ipynb", "lab/03-cpu-vs-gpu.ipynb"} <= set(committed_notebooks())


@pytest.mark.parametrize("path", committed_notebooks())
def test_committed_notebook_has_no_outputs(path):
    # The committed blob, not the working copy: what students get from git.
    blob = subprocess.run(["git", "show", f":{path}"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    notebook = json.loads(blob)
    for index, cell in enumerate(code_cells(notebook)):
        assert cell.get("outputs") == [], f"{path}: code cell {index} has outputs"
        assert cell.get("execution_count") is None, f"{path}: code cell {index} has an execution count"


def module_names(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


@pytest.mark.parametrize("notebook", ["02-train.ipynb", "03-cpu-vs-gpu.ipynb"])
def test_notebook_calls_functions_that_exist(notebook):
    source = "\n".join("".join(cell["source"]) for cell in code_cells(json.loads((LAB / notebook).read_text())))
    for module in ("train", "bench"):
        used = set(re.findall(rf"\b{module}\.([A-Za-z_]\w*)", source))
        missing = used - module_names(LAB / f"{module}.py")
        assert not missing, f"{notebook} uses {module}.{sorted(missing)}, which {module}.py does not define"


def as_script(notebook: dict, parameters: str) -> str:
    """The notebook's code cells in order, with the cell tagged 'parameters' replaced."""
    parts = []
    for cell in code_cells(notebook):
        tags = cell.get("metadata", {}).get("tags", [])
        parts.append(parameters if "parameters" in tags else "".join(cell["source"]))
    return "\n\n".join(parts)


TINY_PARAMETERS = {
    "02-train.ipynb": (
        f"DATASET = {TINY_DATASET!r}\nEPOCHS = 2\nBATCH_SIZE = 16\nMAX_STEPS = 5\nIMAGE_SIZE = 8\nWIDTH = 4\n"
        "RUNS = '../runs'\nRUN_NAME = 'notebook-test'\n"
    ),
    "03-cpu-vs-gpu.ipynb": (
        f"DATASET = {TINY_DATASET!r}\nSTEPS = 3\nBATCH_SIZE = 16\nIMAGE_SIZE = 8\nWIDTH = 4\nDATA = 'real,synthetic'\n"
    ),
}


@needs_tensorflow
@pytest.mark.parametrize("notebook", sorted(TINY_PARAMETERS))
def test_notebook_runs_end_to_end_with_tiny_settings(notebook, tmp_path, tiny_tfds):
    work = make_work(tmp_path)
    script = as_script(json.loads((LAB / notebook).read_text()), TINY_PARAMETERS[notebook])
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=work / "course",  # a notebook's working folder is its own
        env=script_env(tiny_tfds),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    if notebook == "02-train.ipynb":
        assert (work / "runs" / "notebook-test" / "results.json").is_file()
        assert "steady state:" in done.stdout
    else:
        assert "only the CPU is measured" in done.stdout
        assert "real/synth" in done.stdout
