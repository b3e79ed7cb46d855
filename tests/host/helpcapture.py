"""What `scripts/lab` prints for --help and for usage errors, captured in-process: argparse
writes to sys.stdout/sys.stderr itself (not to world.out), and exits with SystemExit.

`python tests/host/helpcapture.py FILE` writes every case's English output to FILE (how
fixtures/help-en.json was captured, on Python 3.11, from the parser before it was translated).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path

# name -> argv: every command's --help, and the usage errors a student can make.
CASES: dict[str, list[str]] = {
    "help": ["--help"],
    **{
        f"{name} --help": [name, "--help"]
        for name in (
            "doctor",
            "setup",
            "up",
            "down",
            "logs",
            "ps",
            "report",
            "verify",
            "lock",
            "release",
            "export",
            "import",
        )
    },
    "no command": [],
    "unknown command": ["bogus"],
    "unknown option": ["--bogus"],
    "setup unknown option": ["setup", "--bogus"],
    "up unknown flavour": ["up", "--flavour", "nope"],
    "ps flavour without value": ["ps", "--flavour"],
    "release without term": ["release"],
}
WIDTH = "100"  # argparse wraps to $COLUMNS; fixed so the output is the same on every terminal


def run_lab(argv: list[str], world) -> tuple[int, str, str]:
    from labhost import cli

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = cli.main(list(argv), world)
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
    return code, stdout.getvalue(), stderr.getvalue()


def capture(world_for) -> dict[str, dict[str, object]]:
    """world_for(name) -> a World with no .env; every case's exit code and output."""
    results = {}
    for name, argv in CASES.items():
        code, stdout, stderr = run_lab(argv, world_for(name))
        results[name] = {"argv": argv, "code": code, "stdout": stdout, "stderr": stderr}
    return results


if __name__ == "__main__":
    import tempfile

    here = Path(__file__).resolve().parent
    sys.path[:0] = [str(here), str(here.parents[1] / "scripts")]
    from fakeworld import make_world

    for variable in ("LAB_LANG", "LAB_HOST_LOCALE", "LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        os.environ.pop(variable, None)
    os.environ.update(LANG="C.UTF-8", COLUMNS=WIDTH)
    with tempfile.TemporaryDirectory() as folder:
        results = capture(lambda name: make_world(Path(folder) / name.replace(" ", "-"), "no-gpu"))
    Path(sys.argv[1]).write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
