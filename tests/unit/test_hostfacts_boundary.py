"""labhost (the host) may import from labkit only the shared, standard-library modules, and
those import nothing but the standard library and each other: the host command must run on
a student's python3 with nothing installed, and the container-only code (the Jupyter
contents manager, the probe, the entrypoint) must stay out of it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
# labkit modules the host may use: the host-facts package and the pure decisions it shares.
SHARED = {
    "labkit",
    "labkit.atomic",
    "labkit.gfx",
    "labkit.seen_targets",
    "labkit.envcheck",
    "labkit.pullpolicy",
    "labkit.settings",
    "labkit.values",
    "labkit.interpolation",
    "labkit.i18n",
    "labkit.oomkills",
    "labkit.urls",
    "labkit.hostfacts",
    "labkit.hostfacts.kfd",
    "labkit.hostfacts.devices",
    "labkit.hostfacts.token",
    "labkit.hostfacts.flavour",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def module_file(name: str) -> Path:
    parts = name.split(".")
    package = SCRIPTS.joinpath(*parts) / "__init__.py"
    return package if package.exists() else SCRIPTS.joinpath(*parts[:-1], parts[-1] + ".py")


def labkit_names(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] == "labkit" and module_file(n).exists()}


def test_labhost_imports_only_shared_labkit_modules():
    used = set()
    for path in (SCRIPTS / "labhost").rglob("*.py"):
        used |= labkit_names(imported_modules(path))

    assert used <= SHARED, sorted(used - SHARED)
    assert "labkit.hostfacts.kfd" in used


def test_shared_modules_use_only_the_standard_library_and_each_other():
    for name in sorted(SHARED):
        for imported in imported_modules(module_file(name)):
            top = imported.split(".")[0]
            if top == "labkit":
                assert not module_file(imported).exists() or imported in SHARED, (name, imported)
            else:
                assert top in sys.stdlib_module_names or top == "__future__", (name, imported)
