"""Compose's variable interpolation: ${VAR}, ${VAR:-default}, ${VAR?error}, $$ and friends.

The rules of compose-go's template package (compose-spec/compose-go, template/template.go),
written for this lab in the standard library: the .env reader (labhost.envsyntax) expands values
with it, and the settings table (labkit.settings) resolves compose's nested defaults with it.

One compose-go detail matters for this lab's compose files: a default, error message or
alternative is expanded before the variable is looked at (softDefault calls Substitute on the
default first), so `${A:-${B:?message}}` fails whenever B is unset, even when A is set.
"""

from __future__ import annotations

import re
from collections.abc import Callable

NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")

Lookup = Callable[[str], "str | None"]


def _closing_brace(text: str, start: int) -> int:
    """Index of the `}` that closes the `${` at `start`, counting nested `${`."""
    depth = 0
    index = start
    while index < len(text):
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


# ${NAME<op>rest}: the operators compose-go knows, longest first.
OPERATORS = (":-", ":?", ":+", "-", "?", "+")


def _braced(body: str, lookup: Lookup) -> str:
    match = NAME.match(body)
    if not match:
        raise ValueError(f"invalid interpolation format for ${{{body}}}")
    name, rest = match.group(), body[match.end() :]
    value = lookup(name)
    if not rest:
        return value or ""
    operator = next((op for op in OPERATORS if rest.startswith(op)), None)
    if operator is None:
        raise ValueError(f"invalid interpolation format for ${{{body}}}")
    # Compose expands the default, message or alternative first, used or not.
    argument = substitute(rest[len(operator) :], lookup)
    empty = value is None or (operator.startswith(":") and value == "")
    if operator in (":-", "-"):
        return argument if empty else value or ""
    if operator in (":?", "?"):
        if empty:
            raise ValueError(f"required variable {name} is missing a value: {argument}")
        return value or ""
    return "" if empty else argument


def substitute(template: str, lookup: Lookup) -> str:
    """Compose's variable expansion of one value (see the module docstring)."""
    out = []
    index = 0
    while index < len(template):
        char = template[index]
        if char != "$":
            out.append(char)
            index += 1
            continue
        if template.startswith("$$", index):
            out.append("$")
            index += 2
            continue
        if template.startswith("${", index):
            end = _closing_brace(template, index)
            if end < 0:
                raise ValueError(f"invalid interpolation format for {template[index:]}")
            out.append(_braced(template[index + 2 : end], lookup))
            index = end + 1
            continue
        match = NAME.match(template, index + 1)
        if match:
            out.append(lookup(match.group()) or "")
            index = match.end()
        else:
            out.append("$")
            index += 1
    return "".join(out)
