"""`.env` as lines: read values the way Compose does, edit in place, keep everything else.

Comments, blank lines, order and keys this lab does not know survive every edit, so a
student's own notes and variables are never lost. Validation reuses labkit.envcheck, the
same checks the container runs, and adds the line number.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from labkit import atomic, envcheck

ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")
SETUP_HEADER = "# --- Written by `scripts/lab setup` (edit freely; setup keeps your changes) ---"


def parse_value(raw: str) -> str:
    """A value as Compose reads it: quotes removed, ' #' comments dropped from unquoted values."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    if raw and raw[0] in "\"'":
        closing = raw.find(raw[0], 1)
        if closing > 0:
            return raw[1:closing]
    return re.split(r"\s+#", raw, maxsplit=1)[0].strip()


@dataclass
class EnvFile:
    lines: list[str]

    @classmethod
    def parse(cls, text: str) -> EnvFile:
        return cls(text.splitlines())

    @classmethod
    def read(cls, path: Path) -> EnvFile:
        return cls.parse(path.read_text()) if path.is_file() else cls([])

    def render(self) -> str:
        return "\n".join(self.lines) + "\n" if self.lines else ""

    def _assignments(self) -> list[tuple[int, str, str]]:
        found = []
        for index, line in enumerate(self.lines):
            if line.lstrip().startswith("#"):
                continue
            match = ASSIGNMENT.match(line)
            if match:
                found.append((index, match.group(1), parse_value(match.group(2))))
        return found

    def values(self) -> dict[str, str]:
        """Key -> value; a key set twice takes the last value, as Compose does."""
        return {key: value for _, key, value in self._assignments()}

    def line_of(self, key: str) -> int | None:
        """1-based line number of the assignment that counts for `key`."""
        numbers = [index + 1 for index, k, _ in self._assignments() if k == key]
        return numbers[-1] if numbers else None

    def set(self, key: str, value: str) -> None:
        """Set `key`: in place if assigned, else uncomment its template line, else append."""
        new_line = f"{key}={value}"
        assigned = [index for index, k, _ in self._assignments() if k == key]
        if assigned:
            if self.values()[key] != value:
                self.lines[assigned[-1]] = new_line
            return
        template = re.compile(rf"^\s*#\s*{re.escape(key)}=")
        for index, line in enumerate(self.lines):
            if template.match(line):
                self.lines[index] = new_line
                return
        if SETUP_HEADER not in self.lines:
            if self.lines and self.lines[-1].strip():
                self.lines.append("")
            self.lines.append(SETUP_HEADER)
        self.lines.append(new_line)

    def unset(self, key: str) -> None:
        """Comment out every assignment of `key` (the line stays, as a template)."""
        for index, k, _ in self._assignments():
            if k == key:
                self.lines[index] = "# " + self.lines[index].lstrip()


@dataclass(frozen=True)
class LineProblem:
    line: int | None
    problem: envcheck.Problem

    def text(self, path: str = ".env") -> str:
        where = f"{path} line {self.line}" if self.line else path
        return f"{where}: {self.problem.line()}"


def validate(env: EnvFile) -> list[LineProblem]:
    return [LineProblem(env.line_of(p.key), p) for p in envcheck.validate(env.values())]


def unified_diff(old: str, new: str, path: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"{path} (now)", f"{path} (new)"
        )
    )


def write_atomic(path: Path, text: str, *, backup: bool = True) -> Path | None:
    """Replace `path` in one step (labkit.atomic); keep the old file as .env.bak. Both are
    readable by the student only: the token is in them."""
    saved = None
    if backup and path.is_file():
        saved = path.with_name(path.name + ".bak")
        with atomic.replacing(saved, mode=0o600) as stream:
            stream.write(path.read_bytes())
    atomic.write_text(path, text, mode=0o600)
    return saved
