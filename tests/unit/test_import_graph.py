"""No module of scripts/ imports another in a circle, and each imports alone.

A cycle works or breaks by the order modules happen to be imported in: labhost.checks and
labhost.platform_checks imported each other, and `import labhost.platform_checks` on its own
met a half-initialised module. import-linter walks the import graph (its acyclic_siblings
contract, in pyproject.toml); the second test imports every module with none of scripts/ loaded before it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
PACKAGES = ("labhost", "labkit")


def modules(package: str) -> list[str]:
    found = []
    for path in sorted((SCRIPTS / package).rglob("*.py")):
        parts = path.relative_to(SCRIPTS).with_suffix("").parts
        found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def scripts_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SCRIPTS)}


def test_no_module_of_scripts_imports_another_in_a_circle():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=REPO, env=scripts_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "1 kept, 0 broken" in done.stdout


# Runs in a fresh interpreter: before each import, every module of scripts/ is forgotten, so
# nothing imported earlier can hide a cycle (the standard library and other packages stay
# loaded: they cannot be part of one).
IMPORT_EACH_ALONE = """
import importlib, json, sys
failed = {}
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("labhost", "labkit", "labtrain")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as error:
        failed[name] = f"{type(error).__name__}: {error}"
print(json.dumps(failed))
"""


def test_every_host_and_container_module_imports_alone():
    # labkit's modules that need the lab image's own packages (jupyter_server) are imported
    # by the image tier; __main__ would run the entrypoint.
    needs_the_image = {"labkit.contents", "labkit.identity", "labkit.__main__"}
    names = [m for package in PACKAGES for m in modules(package) if m not in needs_the_image]
    assert "labhost.platform_checks" in names and "labhost.checks" in names
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_ALONE, *names],
        env=scripts_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == {}
