"""A copy of the image's numpy that a student got past the pip guard, on the real CPU lab:
`python -m pip install --isolated --user` (pip itself, with its environment and so the
constraints switched off), and a package whose .pth file puts another folder first on Python's
path. numpy 1.26.4 is PyPI's real wheel (tests/wheels.pypi_wheel, cached): the image's
TensorFlow, built for numpy 2, fails to import under it. The next start's GPU check says where
the copy is and the one command that removes it, instead of blaming the image; that command,
typed on the host, removes it, and the lab starts again."""

from __future__ import annotations

import re
import shlex
import shutil

import pytest
from dockerlab import Stack, make_workdir
from jupyter_kernel import run_notebook_in_kernel
from jupyter_terminal import type_once
from wheels import make_wheel, pypi_wheel

USER_SITE = "/cache/python-user/lib/python3.11/site-packages"
VENDOR = "/cache/fastpath-vendor"
FIX = re.compile(r"remove it with `(docker compose run [^`]+)`")


@pytest.fixture(scope="module")
def stack(cpu_lab_image, tmp_path_factory):
    stack = Stack(make_workdir(tmp_path_factory, "shadowing"))
    numpy = pypi_wheel("numpy==1.26.4")
    shutil.copy(numpy, stack.workdir / numpy.name)
    (stack.workdir / numpy.name).chmod(0o644)
    # A package whose .pth file puts its own folder first on sys.path (some packages ship
    # `import` lines in .pth files; this one names a folder on the cache volume).
    pth = f"import sys; sys.path.insert(0, {VENDOR!r})\n"
    make_wheel(
        stack.workdir, name="fastpath", version="1.0", module="fastpath", source="", extra_files={"fastpath.pth": pth}
    )
    try:
        stack.up("lab")
        yield stack
    finally:
        stack.down()


def numpy_wheel(stack: Stack) -> str:
    (wheel,) = stack.workdir.glob("numpy-1.26.4-*.whl")
    return wheel.name


def restart_refused(stack: Stack) -> str:
    """down and up (the cache volume stays): the start must fail its check; its log."""
    stack.compose("down", "--timeout", "5")
    started = stack.compose("up", "-d", "--wait", "--wait-timeout", "300", "lab", check=False)
    assert started.returncode != 0, "the lab started under a shadowing numpy"
    return stack.logs()


def run_the_printed_fix(stack: Stack, logs: str) -> str:
    (command,) = FIX.findall(logs)
    argv = shlex.split(command)
    assert argv[:3] == ["docker", "compose", "run"]
    return stack.compose(*argv[2:]).stdout


def test_the_guard_refuses_the_isolated_install_itself(stack):
    typed = type_once(stack, f"pip install --isolated --user ./{numpy_wheel(stack)}")
    assert typed.exit_code == 1
    assert len(typed.lines) == 1 and typed.lines[0].startswith("pip: ")


def test_pip_isolated_past_the_guard_is_named_at_the_next_start_with_the_command_that_removes_it(stack):
    typed = type_once(stack, f"python -m pip install --isolated --user ./{numpy_wheel(stack)}")
    assert typed.exit_code == 0, typed.output
    with pytest.raises(AssertionError, match="cell failed"):
        run_notebook_in_kernel(stack, source="import tensorflow")

    logs = restart_refused(stack)
    assert "[lab] ERROR: TensorFlow could not be imported." in logs
    assert f"Fix: numpy in {USER_SITE} hides the image's: remove it with " in logs
    assert "`docker compose run --rm --entrypoint pip lab uninstall -y numpy`, then start the lab again." in logs
    assert "build --pull" not in logs
    assert f"WARNING: your own numpy 1.26.4 (in {USER_SITE}) shadows the image's numpy 2." in logs

    removed = run_the_printed_fix(stack, logs)
    assert f"pip: removed your own numpy 1.26.4 from {USER_SITE}; the image's numpy 2." in removed
    stack.up("lab")
    assert "TensorFlow 2.20.0" in run_notebook_in_kernel(
        stack, source="import tensorflow as tf; print('TensorFlow', tf.__version__)"
    )


def test_a_pth_file_that_puts_a_folder_first_is_seen_and_removed_with_its_package(stack):
    wheel = numpy_wheel(stack)
    vendored = type_once(stack, f"python -m pip install --isolated --no-deps --target {VENDOR} ./{wheel}")
    assert vendored.exit_code == 0, vendored.output
    installed = type_once(stack, "pip install ./fastpath-1.0-py3-none-any.whl")
    assert installed.exit_code == 0, installed.output
    status, model = stack.api("/api/contents/course/01-check-gpu.ipynb")
    cells = [c["source"] for c in model["content"]["cells"] if c["cell_type"] == "code"]
    (shadow_cell,) = [source for source in cells if "shadow.show()" in source]
    said = run_notebook_in_kernel(stack, source=shadow_cell)
    assert f"WARNING: your own numpy 1.26.4 (in {VENDOR}) shadows the image's numpy 2." in said
    assert f"Fix: pip uninstall -y fastpath   (in a lab terminal; it removes {USER_SITE}/fastpath.pth" in said

    logs = restart_refused(stack)
    assert f"Fix: numpy in {VENDOR} hides the image's: remove it with " in logs
    assert "`docker compose run --rm --entrypoint pip lab uninstall -y fastpath`" in logs
    assert "build --pull" not in logs

    removed = run_the_printed_fix(stack, logs)
    assert "pip: removed your own fastpath 1.0" in removed
    stack.up("lab")
    assert run_notebook_in_kernel(stack, source=shadow_cell).startswith("OK: ")
