"""Students' pip in the running CPU lab, as a student uses it: in a JupyterLab terminal, and
with %pip and !pip in a notebook's kernel. New packages persist across a restart (they live on
the cache volume); replacing a package of the image is refused in one line with nothing
installed; a shadowing copy left in the user site from before is named, with its fix, by the
start's GPU check and the first notebook, and the fix works. The wheels are made here, so no
test depends on a package index."""

from __future__ import annotations

import pytest
from dockerlab import Stack, make_workdir
from jupyter_kernel import run_notebook_in_kernel
from jupyter_terminal import Terminal, type_once
from wheels import make_wheel

USER_SITE = "/cache/python-user/lib/python3.11/site-packages"
OLD_NUMPY_USER = "oldnumpyuser-1.0-py3-none-any.whl"
NOTEBOOK = "course/01-check-gpu.ipynb"


@pytest.fixture(scope="module")
def stack(cpu_lab_image, tmp_path_factory):
    stack = Stack(make_workdir(tmp_path_factory, "pip"))
    make_wheel(stack.workdir, name="coursepkg", version="1.0", module="coursepkg", source="ANSWER = 42\n")
    # A base package's older copy (libclang: a TensorFlow requirement nothing imports at run time).
    make_wheel(stack.workdir, name="libclang", version="9.0.1", module="clang", source="STUDENT = True\n")
    # A package that needs numpy<2, as scipy 1.11.4 does (tests/unit/fixtures/pip: the same
    # report from pip either way), without a package index.
    make_wheel(
        stack.workdir, name="oldnumpyuser", version="1.0", module="oldnumpyuser", source="", requires=["numpy<2"]
    )
    (stack.workdir / "requirements.txt").write_text("numpy==1.26.4\n")
    try:
        stack.up("lab")
        yield stack
    finally:
        stack.down()


@pytest.fixture
def terminal(stack):
    opened = Terminal(stack)
    yield opened
    opened.close()


def restart(stack: Stack) -> None:
    """`docker compose down` and `up`, without -v: the container is new, the cache volume stays."""
    stack.compose("down", "--timeout", "5")
    stack.up("lab")


def in_kernel(stack: Stack, code: str) -> str:
    return run_notebook_in_kernel(stack, source=code).strip()


def image_version(terminal: Terminal, name: str) -> str:
    typed = terminal.type(f"grep -i '^{name}==' /opt/lab-venv/constraints.txt")
    return typed.lines[-1].split("==", 1)[1]


def user_installs(terminal: Terminal) -> list[str]:
    return terminal.type("python -m pip list --user --format freeze").lines


def test_terminal_runs_the_labs_python_and_pip(terminal):
    typed = terminal.type("command -v python pip")
    assert typed.lines == ["/opt/lab-venv/bin/python", "/opt/lab-venv/bin/pip"]


@pytest.mark.parametrize(
    ("how", "command"),
    [
        pytest.param("terminal", "pip install numpy==1.26.4", id="terminal-base-package"),
        pytest.param("terminal", "pip install jupyterlab==4.0.0", id="terminal-locked-package"),
        pytest.param("terminal", "pip install tensorflow-cpu==2.19.0", id="terminal-another-tensorflow"),
        pytest.param("kernel", "%pip install numpy==1.26.4", id="percent-pip"),
        pytest.param("kernel", "!pip install numpy==1.26.4", id="bang-pip"),
        # Refused by pip's resolver (its report is on stdout), each in one line.
        pytest.param("terminal", "pip install -r requirements.txt", id="terminal-requirements-file"),
        pytest.param("terminal", f"pip install ./{OLD_NUMPY_USER}", id="terminal-needs-older-numpy"),
        pytest.param("terminal", "pip install ./libclang-9.0.1-py3-none-any.whl", id="terminal-local-wheel"),
        pytest.param(
            "terminal", "pip install file:///home/lab/work/libclang-9.0.1-py3-none-any.whl", id="terminal-direct-url"
        ),
        pytest.param("terminal", "pip install --no-deps numpy==1.26.4", id="terminal-no-deps"),
        # What switches pip's environment or configuration off does not switch the guard off.
        pytest.param("terminal", f"pip install --isolated --user ./{OLD_NUMPY_USER}", id="terminal-isolated"),
        pytest.param("terminal", f"pip --isolated install ./{OLD_NUMPY_USER}", id="terminal-isolated-first"),
        pytest.param("terminal", f"PIP_CONSTRAINT= pip install ./{OLD_NUMPY_USER}", id="terminal-constraint-emptied"),
        pytest.param("terminal", f"PIP_CONFIG_FILE=/dev/null pip install ./{OLD_NUMPY_USER}", id="terminal-no-config"),
        pytest.param("terminal", f"pip3.11 install ./{OLD_NUMPY_USER}", id="terminal-pip3.11"),
        pytest.param("kernel", "%pip install -r requirements.txt", id="percent-pip-requirements-file"),
        pytest.param("kernel", f"%pip install --isolated ./{OLD_NUMPY_USER}", id="percent-pip-isolated"),
        pytest.param("kernel", f"!pip install ./{OLD_NUMPY_USER}", id="bang-pip-needs-older-numpy"),
    ],
)
def test_replacing_a_package_of_the_image_is_refused_in_one_line(stack, terminal, how, command):
    if how == "terminal":
        typed = terminal.type(command)
        assert typed.exit_code == 1
        lines = typed.lines
    else:
        lines = [line for line in in_kernel(stack, command).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("pip: ")
    assert "lab image" in lines[0] or "TensorFlow" in lines[0]
    assert "Fix:" in lines[0]
    installed = [line.split("==")[0].lower() for line in user_installs(terminal)]
    assert not {"numpy", "libclang", "oldnumpyuser", "tensorflow-cpu", "jupyterlab"} & set(installed), installed


def test_plain_python_m_pip_is_refused_by_the_constraints_in_pips_own_words(stack, terminal):
    """`python -m pip` runs pip itself, past the guard: the constraints still refuse, with pip's
    multi-line resolver message (docs/troubleshooting.md says why it is not one line)."""
    have = image_version(terminal, "libclang")
    typed = terminal.type("python -m pip install ./libclang-9.0.1-py3-none-any.whl")
    assert typed.exit_code == 1
    assert f"The user requested (constraint) libclang=={have}" in typed.output
    assert "libclang==9.0.1" not in user_installs(terminal)


def test_python_m_pip_no_deps_adds_the_package_but_never_replaces_numpy(stack, terminal):
    """--no-deps leaves pip's resolver out of the requirement on numpy<2, not the constraints:
    the package comes, numpy stays the image's (pip check then names the mismatch)."""
    typed = terminal.type(f"python -m pip install --no-deps ./{OLD_NUMPY_USER}")
    assert typed.exit_code == 0, typed.output
    installed = user_installs(terminal)
    assert "oldnumpyuser==1.0" in installed
    assert not [line for line in installed if line.startswith("numpy==")]
    assert terminal.type("pip uninstall -y oldnumpyuser").exit_code == 0


@pytest.fixture(scope="module")
def restarted(stack):
    """One restart for the tests that need one: before it, a student installs a new package in
    a terminal, and a copy of a base package lands in the user site as an older image without
    the constraints would have let it (pip with PIP_CONSTRAINT emptied)."""
    terminal = Terminal(stack)
    try:
        have = image_version(terminal, "libclang")
        installed = terminal.type("pip install ./coursepkg-1.0-py3-none-any.whl")
        assert installed.exit_code == 0, installed.output
        before = terminal.type("PIP_CONSTRAINT= python -m pip install --no-deps ./libclang-9.0.1-py3-none-any.whl")
        assert before.exit_code == 0, before.output
    finally:
        terminal.close()
    assert in_kernel(stack, "import coursepkg; print(coursepkg.__file__)").startswith(USER_SITE)
    restart(stack)
    return {"libclang": have}


def test_a_new_package_survives_a_restart_and_can_be_removed(stack, restarted):
    assert in_kernel(stack, "import coursepkg; print(coursepkg.ANSWER)") == "42"
    removed = type_once(stack, "pip uninstall -y coursepkg")
    assert removed.exit_code == 0, removed.output
    assert removed.lines == [f"pip: removed your own coursepkg 1.0 from {USER_SITE}"]
    assert in_kernel(stack, "import importlib.util; print(importlib.util.find_spec('coursepkg'))") == "None"


def test_a_shadowing_copy_from_before_is_named_with_a_fix_that_works(stack, restarted):
    have = restarted["libclang"]
    expected = f"your own libclang 9.0.1 (in {USER_SITE}) shadows the image's libclang {have}"
    fix = "Fix: pip uninstall -y libclang"
    warnings = [line for line in stack.logs().splitlines() if "shadows the image's" in line]
    assert len(warnings) == 1, stack.logs()[-3000:]
    assert expected in warnings[0] and fix in warnings[0]
    status, model = stack.api(f"/api/contents/{NOTEBOOK}")
    assert status == 200
    (cell,) = [c["source"] for c in model["content"]["cells"] if "shadow" in c["source"] and c["cell_type"] == "code"]
    said = in_kernel(stack, cell)
    assert said.startswith("WARNING: ") and expected in said and fix in said

    removed = type_once(stack, "pip uninstall -y libclang")
    assert removed.lines == [
        f"pip: removed your own libclang 9.0.1 from {USER_SITE}; the image's libclang {have} is used again"
    ]
    assert in_kernel(stack, cell).startswith("OK: ")
