"""The course notebooks: committed without outputs, and the training ones run end to end."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import pytest
import vietnamese
from labkit import i18n
from workload_support import LAB, REPO, TINY_DATASET, make_work, needs_tensorflow, script_env


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


def notebook_source(notebook: str) -> str:
    return "\n".join("".join(cell["source"]) for cell in code_cells(json.loads((LAB / notebook).read_text())))


@needs_tensorflow
@pytest.mark.parametrize("notebook", ["02-train.ipynb", "03-cpu-vs-gpu.ipynb"])
def test_notebook_uses_the_installed_package_not_the_students_train_py(notebook):
    import importlib

    source = notebook_source(notebook)
    assert not re.search(r"^\s*(import train|from train import)", source, re.MULTILINE)
    for module_name, alias in (("labtrain", "labtrain"), ("labtrain.bench", "bench"), ("labtrain.devices", "devices")):
        module = importlib.import_module(module_name)
        used = set(re.findall(rf"\b{alias}\.([A-Za-z_]\w*)", source))
        missing = {name for name in used if not hasattr(module, name)}
        assert not missing, f"{notebook} uses {alias}.{sorted(missing)}, which {module_name} does not define"


def test_train_notebook_has_a_model_cell_and_a_fit_cell_to_change():
    cells = code_cells(json.loads((LAB / "02-train.ipynb").read_text()))
    by_tag = {tag: "".join(cell["source"]) for cell in cells for tag in cell.get("metadata", {}).get("tags", [])}
    assert "def build_model(" in by_tag["model"] and "keras.Sequential" in by_tag["model"]
    assert "build_model(" in by_tag["fit"] and "model.fit(" in by_tag["fit"] and "model.compile(" in by_tag["fit"]


@pytest.mark.parametrize("path", committed_notebooks())
def test_notebook_prose_is_in_english_and_vietnamese(path):
    notebook = json.loads((REPO / path).read_text())
    for index, cell in enumerate(notebook["cells"]):
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and len(text) > 200:
            assert "**Tiếng Việt.**" in text, f"{path}: markdown cell {index} has no Vietnamese"


VOCABULARY = vietnamese.english_vocabulary()


def printed_literals(path: str) -> list[str]:
    """The words a notebook's print() calls write themselves: string literals and the literal
    parts of f-strings handed to print, also inside `a if b else c`. A message from the
    catalogue is a call (_("...").format(...)), not a literal, and is not listed."""

    def literals(node: ast.expr) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.JoinedStr):
            return ["".join(part.value for part in node.values if isinstance(part, ast.Constant))]
        if isinstance(node, ast.IfExp):
            return literals(node.body) + literals(node.orelse)
        return []

    code = "\n".join("".join(cell["source"]) for cell in code_cells(json.loads((REPO / path).read_text())))
    calls = [node for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Call)]
    return [
        text for call in calls if getattr(call.func, "id", "") == "print" for arg in call.args for text in literals(arg)
    ]


@pytest.mark.parametrize("path", committed_notebooks())
def test_notebook_prints_its_sentences_through_the_catalogue(path):
    # With LAB_LANG=vi a student reads what the notebook prints in Vietnamese: a sentence
    # written straight into print() would stay English.
    english = [text for text in printed_literals(path) if vietnamese.english_lines(text, VOCABULARY)]
    assert english == [], f"{path} prints English: wrap it in _() (from labkit.i18n) and translate it"


def test_cpu_vs_gpu_notebook_names_the_columns_as_the_table_prints_them_in_each_language():
    cells = json.loads((LAB / "03-cpu-vs-gpu.ipynb").read_text())["cells"]
    english, in_vietnamese = "".join(cells[0]["source"]).split("**Tiếng Việt.**")
    explained = re.findall(r"^- \*\*(.+?)\*\*:", english, re.MULTILINE)
    table = (REPO / "scripts" / "labtrain" / "bench.py").read_text()

    assert explained == ["GPU/CPU", "all/one", "real/synth"]
    assert all(f'(_("{name}"), ' in table for name in explained)  # bench.format_table's headings
    assert re.findall(r"^> - \*\*(.+?)\*\*:", in_vietnamese, re.MULTILINE) == [
        i18n.translations("vi").gettext(name) for name in explained
    ]


def as_script(notebook: dict, parameters: str) -> str:
    """The notebook's code cells in order, with the cell tagged 'parameters' replaced."""
    parts = []
    for cell in code_cells(notebook):
        tags = cell.get("metadata", {}).get("tags", [])
        parts.append(parameters if "parameters" in tags else "".join(cell["source"]))
    return "\n\n".join(parts)


TINY_PARAMETERS = {
    "02-train.ipynb": (
        f"DATASET = {TINY_DATASET!r}\nEPOCHS = 2\nBATCH_SIZE = 16\nLEARNING_RATE = 1e-3\nMAX_STEPS = 5\n"
        "IMAGE_SIZE = 8\nWIDTH = 4\nSYNTHETIC = False\nFRESH = True\nRUNS = '../runs'\nRUN_NAME = 'notebook-test'\n"
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
