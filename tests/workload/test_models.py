"""The benchmark's network (labtrain.models.course_cnn) is the one train.py builds as shipped,
and train.py keeps the shape of a Keras example: short, the model and fit() in plain sight."""

from __future__ import annotations

import ast

import pytest
from workload_support import LAB, needs_tensorflow

TRAIN = LAB / "train.py"


def build_model_from_train_py():
    """train.py's build_model, compiled from its source without running the script."""
    import keras

    tree = ast.parse(TRAIN.read_text())
    function = next(node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "build_model")
    namespace = {"keras": keras}
    exec(compile(ast.Module(body=[function], type_ignores=[]), str(TRAIN), "exec"), namespace)  # noqa: S102
    return namespace["build_model"]


@needs_tensorflow
@pytest.mark.parametrize("shape,classes,width", [((32, 32, 3), 10, 32), ((8, 8, 1), 2, 4)])
def test_benchmark_network_is_train_py_as_shipped(shape, classes, width):
    from labtrain.models import course_cnn

    ours, theirs = course_cnn(shape, classes, width), build_model_from_train_py()(shape, classes, width)
    assert [type(layer).__name__ for layer in ours.layers] == [type(layer).__name__ for layer in theirs.layers]
    for mine, students in zip(ours.layers, theirs.layers, strict=True):
        mine_config, students_config = mine.get_config(), students.get_config()
        mine_config.pop("name"), students_config.pop("name")
        assert mine_config == students_config
    assert ours.count_params() == theirs.count_params()


def test_train_py_fits_on_a_few_screens():
    assert len(TRAIN.read_text().splitlines()) <= 150


def test_model_and_fit_are_in_plain_sight():
    source = TRAIN.read_text()
    tree = ast.parse(source)
    calls = {
        node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert {"compile", "fit", "Sequential", "Conv2D", "Dense"} <= calls


def test_sections_follow_a_keras_example():
    # settings -> device -> data -> model -> compile/fit -> results, as keras-io's examples.
    headings = [line.strip() for line in TRAIN.read_text().splitlines() if line.strip().startswith("# ## ")]
    assert headings == [
        "# ## Settings",
        "# ## Device",
        "# ## Data",
        "# ## The model",
        "# ## Build and compile the model (on the chosen device or devices)",
        "# ## Train",
        "# ## Results",
    ]
