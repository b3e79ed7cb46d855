"""`.env` as lines: read values the way Compose does, edit in place, keep everything else.

Comments, blank lines, order, line endings (CRLF from Windows editors), a byte order mark and
keys this lab does not know survive every edit, so a student's own notes and variables are
never lost. Reading is labhost.envsyntax (compose's grammar); validation is labkit.envcheck,
the same checks the container runs, with the line number added.

Why not python-dotenv here: `scripts/lab` runs on the host's own python3 with nothing
installed, and python-dotenv's set_key() neither fills in the commented template lines of
.env.example nor agrees with compose on every file (tests/config/test_envsyntax_vs_compose.py).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from labkit import atomic, envcheck
from labkit.i18n import _

from labhost import envsyntax

SETUP_HEADER = "# --- Written by `scripts/lab setup` (edit freely; setup keeps your changes) ---"
# Values written without quotes: what compose reads back unchanged when unquoted.
PLAIN_VALUE = re.compile(r"[A-Za-z0-9_./:,@+=%-]*")


def format_assignment(key: str, value: str) -> str:
    """`KEY=value` that compose reads back as exactly `value`."""
    if PLAIN_VALUE.fullmatch(value):
        return f"{key}={value}"
    if "'" not in value:
        return f"{key}='{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("\n", "\\n")
    return f'{key}="{escaped}"'


@dataclass
class EnvFile:
    lines: list[str]
    final_newline: bool = True
    bom: bool = False
    # The first compose would refuse (unterminated quote, bad key), or None.
    syntax_error: envsyntax.EnvSyntaxError | None = field(default=None, init=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> EnvFile:
        bom = text.startswith(envsyntax.BOM)
        if bom:
            text = text[1:]
        if not text:
            return cls([], bom=bom)
        final_newline = text.endswith("\n")
        return cls(text.removesuffix("\n").split("\n"), final_newline, bom)

    @classmethod
    def read(cls, path: Path) -> EnvFile:
        # Bytes, not read_text(): universal newlines would turn CRLF into LF on the next write,
        # and a file that is not UTF-8 must still round-trip byte for byte.
        return cls.parse(path.read_bytes().decode("utf-8", "surrogateescape")) if path.is_file() else cls([])

    def render(self) -> str:
        if not self.lines:
            return envsyntax.BOM if self.bom else ""
        body = "\n".join(self.lines) + ("\n" if self.final_newline else "")
        return (envsyntax.BOM if self.bom else "") + body

    @property
    def _line_end(self) -> str:
        """A carriage return when the file has CRLF line ends, so added lines match the others."""
        ended = [line for line in self.lines if line]
        return "\r" if ended and all(line.endswith("\r") for line in ended) else ""

    def statements(self) -> list[envsyntax.Statement]:
        parsed = envsyntax.parse("\n".join(self.lines))
        self.syntax_error = parsed.error
        return list(parsed.statements)

    def values(self) -> dict[str, str]:
        """Key -> value as compose reads them; a key set twice takes the last value."""
        return {s.key: s.value for s in self.statements() if s.value is not None and s.key}

    def _last(self, key: str) -> envsyntax.Statement | None:
        found = [s for s in self.statements() if s.key == key]
        return found[-1] if found else None

    def line_of(self, key: str) -> int | None:
        """1-based line number of the assignment that counts for `key`."""
        statement = self._last(key)
        return statement.first_line if statement else None

    def set(self, key: str, value: str) -> None:
        """Set `key`: in place if assigned, else uncomment its template line, else append."""
        new_line = format_assignment(key, value) + self._line_end
        statement = self._last(key)
        if statement is not None:
            if statement.value != value:
                self.lines[statement.first_line - 1 : statement.last_line] = [new_line]
            return
        template = re.compile(rf"^\s*#\s*{re.escape(key)}=")
        for index, line in enumerate(self.lines):
            if template.match(line):
                self.lines[index] = new_line
                return
        if SETUP_HEADER not in (line.rstrip("\r") for line in self.lines):
            if self.lines and self.lines[-1].strip():
                self.lines.append(self._line_end)
            self.lines.append(SETUP_HEADER + self._line_end)
        self.lines.append(new_line)
        self.final_newline = True

    def unset(self, key: str) -> None:
        """Comment out every assignment of `key` (the lines stay, as a template)."""
        for statement in self.statements():
            if statement.key == key:
                for index in range(statement.first_line - 1, statement.last_line):
                    self.lines[index] = "# " + self.lines[index].lstrip()


@dataclass(frozen=True)
class LineProblem:
    line: int | None
    problem: envcheck.Problem

    def text(self, path: str = ".env") -> str:
        where = _("{path} line {line}").format(path=path, line=self.line) if self.line else path
        return f"{where}: {self.problem.line()}"


def validate(env: EnvFile) -> list[LineProblem]:
    values = env.values()
    if env.syntax_error is not None:
        # Compose refuses the whole file; nothing after this line counts.
        error = env.syntax_error
        return [LineProblem(error.line, envcheck.syntax_problem(error.message))]
    found = [LineProblem(env.line_of(p.key), p) for p in envcheck.validate(values)]
    # In the order of the file, as the student reads it.
    return sorted(found, key=lambda problem: problem.line or 0)


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
    # The token is in here: readable by the student only. Bytes, so that what the student's
    # editor wrote (CRLF line ends, a stray non-UTF-8 byte) comes back exactly as it was.
    with atomic.replacing(path, mode=0o600) as stream:
        stream.write(text.encode("utf-8", errors="surrogateescape"))
    return saved
