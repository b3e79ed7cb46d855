""".env as Docker Compose reads it: compose is the consumer, so its reading is the truth.

A port of the grammar of compose-go's dotenv parser (compose-spec/compose-go, dotenv/parser.go
and template/template.go), written for this lab, standard library only, so `scripts/lab`
sees exactly the values `docker compose` will use. tests/config/test_envsyntax_vs_compose.py
runs a table of tricky files through the real `docker compose config` and through this module
and fails on any difference. What compose does, in short:

- A UTF-8 byte order mark (Windows editors add one) is skipped; CRLF line ends are fine.
- Blank lines and lines starting with `#` are comments. `export KEY=value` and the YAML-like
  `KEY: value` are accepted. Spaces around `=` are dropped. A key with a space is an error.
- Unquoted values end at the line end; ` #` (a space, then #) starts a comment, a tab does not.
- 'Single quotes' keep everything literally. "Double quotes" may span lines, know \\n, \\t,
  \\", \\\\ and \\$, and expand variables. Text after the closing quote is not part of the value.
- $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+alt},
  ${VAR+alt} expand in unquoted and double-quoted values, from the keys above it and the
  process environment; $$ is a literal $. Defaults are expanded even when unused (compose-go
  does the same, so a ${B:?..} nested in a default fails whenever B is unset).
- A key given twice takes the last value. A bare `KEY` line takes KEY from the environment.

python-dotenv (used by train.py outside Docker, see labkit.local_env) agrees with compose
on the common cases and differs on a few; the comparison test lists each difference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from labkit.interpolation import substitute

BOM = "\ufeff"
# compose-go's isSpace: spaces that are not line breaks.
INLINE_SPACE = "\t\v\f\r \x85\xa0"
EXPORT = re.compile(r"export\s+")
# What `\x` means inside double quotes (compose-go's escapeSeqRegex); others stay as written.
ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", '"': '"', "\\": "\\"}
OCTAL = re.compile(r"0([0-7]{0,3})")


class EnvSyntaxError(ValueError):
    """Compose refuses the file: it says `failed to read .env: line N: ...` and starts nothing."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Statement:
    """One `KEY=value` (or bare `KEY`) as compose reads it, with the lines it spans (1-based)."""

    key: str
    value: str | None  # None: a bare KEY that the environment did not set
    first_line: int
    last_line: int


def _is_key_char(char: str) -> bool:
    return char.isalnum() or char in "_.-[]"


class _Reader:
    def __init__(self, text: str, environ: Mapping[str, str]) -> None:
        self.text = text[1:] if text.startswith(BOM) else text
        self.pos = 0
        self.environ = environ
        self.values: dict[str, str] = {}

    def line_at(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def lookup(self, name: str) -> str | None:
        if name in self.environ:
            return self.environ[name]
        return self.values.get(name)

    def statements(self, found: list[Statement]) -> None:
        """Append each statement to `found` (kept on an error: what came before still counts)."""
        while self.skip_to_statement():
            start = self.pos
            key, bare = self.key()
            if bare:
                value = self.environ.get(key)
                if value is not None:
                    self.values[key] = value
                found.append(Statement(key, value, self.line_at(start), self.line_at(start)))
                continue
            value = self.value()
            self.values[key] = value
            found.append(Statement(key, value, self.line_at(start), self.line_at(max(start, self.pos - 1))))

    def skip_to_statement(self) -> bool:
        text = self.text
        while self.pos < len(text):
            if text[self.pos].isspace():
                self.pos += 1
            elif text[self.pos] == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return True
        return False

    def key(self) -> tuple[str, bool]:
        text = self.text
        if EXPORT.match(text, self.pos):
            self.pos += len("export")
            while self.pos < len(text) and text[self.pos] in INLINE_SPACE:
                self.pos += 1
        start = self.pos
        for index in range(start, len(text)):
            char = text[index]
            if char in INLINE_SPACE:
                continue
            if char in "=:\n":
                key = text[start:index].rstrip()
                if " " in key:
                    raise EnvSyntaxError(self.line_at(start), "key cannot contain a space")
                self.pos = index + 1
                while self.pos < len(text) and text[self.pos] in INLINE_SPACE:
                    self.pos += 1
                return key, char == "\n"
            if not _is_key_char(char):
                raise EnvSyntaxError(self.line_at(index), f"unexpected character {char!r} in variable name")
        # The last line has a key and no `=`: compose treats it like a bare key.
        self.pos = len(text)
        return text[start:].rstrip(), True

    def value(self) -> str:
        text = self.text
        if self.pos < len(text) and text[self.pos] in "\"'":
            return self.quoted(text[self.pos])
        end = text.find("\n", self.pos)
        end = len(text) if end < 0 else end
        raw = text[self.pos : end].split(" #", 1)[0].rstrip()
        self.pos = min(end + 1, len(text))
        return self.expand(raw)

    def quoted(self, quote: str) -> str:
        text = self.text
        start = self.pos
        chars = []
        escaped = False
        for index in range(start + 1, len(text)):
            char = text[index]
            if escaped:
                escaped = False
                # An escaped quote loses its backslash; any other escape keeps it for now.
                chars.append(char if char == quote else "\\" + char)
            elif char == "\\":
                escaped = True
            elif char == quote:
                self.pos = index + 1
                raw = "".join(chars)
                return self.expand(unescape(raw)) if quote == '"' else raw
            else:
                chars.append(char)
        first_line = text[start:].split("\n", 1)[0]
        raise EnvSyntaxError(self.line_at(start), f"unterminated quoted value {first_line}")

    def expand(self, value: str) -> str:
        try:
            return substitute(value, self.lookup)
        except ValueError as error:
            raise EnvSyntaxError(self.line_at(self.pos - 1), str(error)) from None


def unescape(raw: str) -> str:
    """Double-quote escapes as compose expands them; `\\$` becomes `$$` (a literal $ later)."""
    out = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char != "\\" or index + 1 >= len(raw):
            out.append(char)
            index += 1
            continue
        following = raw[index + 1]
        octal = OCTAL.match(raw, index + 1)
        if following == "$":
            out.append("$$")
            index += 2
        elif octal:
            out.append(chr(int(octal.group(1) or "0", 8)))
            index = octal.end()
        elif following in ESCAPES:
            out.append(ESCAPES[following])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


@dataclass(frozen=True)
class Parsed:
    statements: tuple[Statement, ...]
    error: EnvSyntaxError | None  # where compose stops and refuses the whole file


def parse(text: str, *, environ: Mapping[str, str] | None = None) -> Parsed:
    """Every statement of a .env text, in order, up to the first syntax error (if any)."""
    found: list[Statement] = []
    try:
        _Reader(text, environ or {}).statements(found)
    except EnvSyntaxError as error:
        return Parsed(tuple(found), error)
    return Parsed(tuple(found), None)


def values(text: str, *, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """KEY -> value, as compose uses them for interpolation (the last assignment wins).
    Raises EnvSyntaxError where compose refuses the file."""
    parsed = parse(text, environ=environ)
    if parsed.error is not None:
        raise parsed.error
    # compose also keeps a "" key for a line like `=x`; nothing can refer to it.
    return {s.key: s.value for s in parsed.statements if s.value is not None and s.key}
