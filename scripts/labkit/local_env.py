"""Outside Docker, read the lab's `.env` the way compose does, so `python lab/train.py` on the
host gets the same settings as the container (the lecture ran it like that).

One call, before TensorFlow is imported (ROCm and TensorFlow read their variables when they
start): `load_env()`. Inside the container it does nothing: compose has already passed the
settings, and there is no compose.yaml above the course folder.

python-dotenv reads the file (the image installs it; on the host it comes with the course's
requirements). It agrees with compose on quotes, `export`, comments, CRLF line ends, empty
values and duplicates; tests/config/test_envsyntax_vs_compose.py lists the rarer lines where it
does not. As with compose, a variable already set in the shell wins over `.env`. The values are
checked with the same table as in the container (labkit.settings): a bad one stops the run
with the same one line, and an empty one is never exported (an empty HSA_OVERRIDE_GFX_VERSION
makes ROCm find no GPU at all).
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

from labkit import envcheck
from labkit.i18n import _

PROJECT_MARKER = "compose.yaml"


def find_env_file(start: Path) -> Path | None:
    """The .env beside the compose.yaml at or above `start`, where compose would read it."""
    for folder in (start, *start.parents):
        if (folder / PROJECT_MARKER).is_file():
            env = folder / ".env"
            return env if env.is_file() else None
    return None


def load_env(start: Path | None = None, *, environ: MutableMapping[str, str] | None = None) -> Path | None:
    """Export the lab's .env into `environ` (os.environ), the shell's own values first.
    Returns the file read, or None. Exits with status 2 and one line per bad setting."""
    environ = os.environ if environ is None else environ
    path = find_env_file((start or Path.cwd()).resolve())
    if path is None:
        return None
    try:
        from dotenv import dotenv_values
    except ImportError:
        raise SystemExit(
            _(
                "[lab] ERROR: {path} needs python-dotenv to be read outside Docker. "
                "Fix: pip install python-dotenv (or run the lab with docker compose)."
            ).format(path=path)
        ) from None
    # utf-8-sig: Windows editors start files with a byte order mark, which compose skips too.
    read = dotenv_values(path, encoding="utf-8-sig", interpolate=True)
    values = {key: environ.get(key, value) for key, value in read.items() if value is not None}
    problems = envcheck.validate(values)
    if problems:
        for problem in problems:
            print(_("[lab] ERROR in {path}: {problem}").format(path=path, problem=problem.line()), file=sys.stderr)
        raise SystemExit(2)
    for notice in envcheck.notices(values):
        print(_("[lab] NOTICE: {notice}.").format(notice=notice), file=sys.stderr)
    for key, value in envcheck.sanitize(values).items():
        environ.setdefault(key, value)
    return path
