"""The lab layer's lock files (image/locks/<flavour>.txt): read them, check them against
their inputs, and turn them into what the build installs. Standard library only: the build
runs this with the base image's own python3.

A lock is the output of `uv pip compile --generate-hashes` (see relock.py) under a header of
`# lab-lock KEY: VALUE` lines naming what it was resolved from. It pins the whole dependency
tree, including the packages the base image already has (pinned to the base's versions by a
constraints file frozen from the base). The build installs only the entries the base does
not provide: a base package is never replaced, whatever the lock says.

    python3 lockfile.py check-inputs LOCK REQUIREMENTS EXCLUDE   exit 1 when the lock is stale
    python3 lockfile.py installable LOCK BASE_CONSTRAINTS        the part of the lock to install
    python3 lockfile.py pip-check EXCLUDE BASE_PIP_CHECK         pip check, minus known gaps
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HEADER = "# lab-lock "
RELOCK = "scripts/lab lock"
ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Entry:
    name: str  # canonical
    version: str
    text: str  # the entry's lines as in the lock (requirement, hashes, annotations)

    @property
    def hashes(self) -> list[str]:
        return re.findall(r"--hash=sha256:([0-9a-f]{64})", self.text)


@dataclass(frozen=True)
class Lock:
    header: dict[str, str]
    options: list[str]  # pip options the lock carries, e.g. --only-binary :all:
    entries: list[Entry] = field(default_factory=list)

    def pins(self) -> dict[str, str]:
        """name -> version; a name pinned twice (per-Python forks) keeps its first pin."""
        found: dict[str, str] = {}
        for entry in self.entries:
            found.setdefault(entry.name, entry.version)
        return found


def parse(text: str) -> Lock:
    header: dict[str, str] = {}
    options: list[str] = []
    entries: list[Entry] = []
    block: list[str] = []

    def close() -> None:
        if block:
            match = ENTRY.match(block[0])
            if match is None:
                raise ValueError(f"not a pinned requirement: {block[0]!r}")
            entries.append(Entry(canonical(match.group(1)), match.group(3), "\n".join(block)))
            block.clear()

    for line in text.splitlines():
        if line.startswith(HEADER):
            key, _, value = line[len(HEADER) :].partition(":")
            header[key.strip()] = value.strip()
        elif line.startswith("--"):
            options.append(line.strip())
        elif line.startswith((" ", "\t")):
            if block:
                block.append(line)
        elif line.strip() == "" or line.startswith("#"):
            continue
        else:
            close()
            block.append(line)
    close()
    return Lock(header, options, entries)


def requirement_names(text: str) -> list[str]:
    """The package names a requirements file asks for (option and comment lines skipped)."""
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        if match:
            names.append(canonical(match.group(0)))
    return names


def excluded_names(text: str) -> list[str]:
    return requirement_names(text)


def stale_reasons(lock: Lock, *, requirements: bytes, exclude: bytes) -> list[str]:
    """Why this lock no longer matches its inputs (empty when it does)."""
    reasons = []
    if lock.header.get("requirements-sha256") != file_digest(requirements):
        reasons.append("image/requirements-lab.txt changed since the lock was made")
    if lock.header.get("exclude-sha256") != file_digest(exclude):
        reasons.append("image/lock-exclude.txt changed since the lock was made")
    pins = lock.pins()
    missing = [name for name in requirement_names(requirements.decode()) if name not in pins]
    if missing:
        reasons.append(f"not in the lock: {', '.join(missing)}")
    return reasons


def installable(lock: Lock, base_names: set[str]) -> tuple[str, list[Entry]]:
    """The requirements text the build installs: the lock's options and every entry the base
    does not provide. Also returns the entries left to the base."""
    keep = [entry for entry in lock.entries if entry.name not in base_names]
    skipped = [entry for entry in lock.entries if entry.name in base_names]
    # pip applies these in order and `--only-binary :all:` clears every earlier `--no-binary`
    # (uv writes them the other way round): the exceptions must come last.
    options = sorted(lock.options, key=lambda option: not option.startswith("--only-binary"))
    text = "\n".join([*options, *(entry.text for entry in keep)]) + "\n"
    return text, skipped


def new_pip_check_problems(output: str, *, base_output: str, excluded: set[str]) -> list[str]:
    """`pip check` lines the lab layer caused: not already reported for the base alone, and
    not a dependency the lock leaves out on purpose (image/lock-exclude.txt)."""
    known = set(base_output.splitlines())
    problems = []
    for line in output.splitlines():
        line = line.strip()
        if not line or line in known or line.startswith("No broken requirements"):
            continue
        missing = re.match(r"^\S+ \S+ requires (\S+), which is not installed\.$", line)
        if missing and canonical(missing.group(1)) in excluded:
            continue
        problems.append(line)
    return problems


def base_names_from_constraints(text: str) -> set[str]:
    return {canonical(line.split("==", 1)[0]) for line in text.splitlines() if "==" in line}


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "check-inputs":
        lock = parse(Path(argv[1]).read_text())
        reasons = stale_reasons(lock, requirements=Path(argv[2]).read_bytes(), exclude=Path(argv[3]).read_bytes())
        if reasons:
            flavour = lock.header.get("flavour", "?")
            print(
                f"lab layer: the {flavour} lock is out of date ({'; '.join(reasons)}). "
                f"Fix: run `{RELOCK} --flavour {flavour}` and commit image/locks/.",
                file=sys.stderr,
            )
            return 1
        return 0
    if len(argv) == 3 and argv[0] == "installable":
        lock = parse(Path(argv[1]).read_text())
        base = base_names_from_constraints(Path(argv[2]).read_text())
        text, skipped = installable(lock, base)
        print(f"lab layer: {len(lock.entries) - len(skipped)} locked packages to install;", file=sys.stderr)
        print(f"lab layer: the base provides {len(skipped)}: {' '.join(e.name for e in skipped)}", file=sys.stderr)
        sys.stdout.write(text)
        return 0
    if len(argv) == 3 and argv[0] == "pip-check":
        excluded = set(excluded_names(Path(argv[1]).read_text()))
        base_output = Path(argv[2]).read_text()
        done = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False)
        problems = new_pip_check_problems(done.stdout, base_output=base_output, excluded=excluded)
        for line in problems:
            print(f"lab layer: pip check: {line}", file=sys.stderr)
        if problems:
            print(f"lab layer: the lock does not fit this base. Fix: run `{RELOCK}` against it.", file=sys.stderr)
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
