"""How `.env` is read: the real `docker compose config` (the truth: compose is the consumer)
against labhost.envsyntax (what `scripts/lab` reads) and python-dotenv (what train.py uses
outside Docker, labkit.local_env).

Each case is a whole .env file. Compose's reading comes from the rendered model: every case
key becomes a label `${KEY-<unset>}`, so unset, empty and set are told apart. envsyntax must
agree with compose on every case. python-dotenv agrees on the common ones; where it does not,
the case says how it differs, and the test checks that it still does (so the list stays true).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from labhost import envsyntax

KEYS = ("A", "B", "a")
UNSET = "<unset>"
PASSED_THROUGH = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "XDG_RUNTIME_DIR")
BOM = "\ufeff"


@dataclass(frozen=True)
class Case:
    text: str
    shell: dict[str, str] = field(default_factory=dict)
    dotenv_differs: str = ""  # how python-dotenv reads it differently, when it does


CASES = {
    # --- quotes
    "plain": Case("A=plain\n"),
    "double-quotes": Case('A="two words"\n'),
    "single-quotes": Case("A='two words'\n"),
    "hash-inside-double-quotes": Case('A="x # not a comment"\n'),
    "comment-after-single-quotes": Case("A='x' # comment\n"),
    "escaped-quote": Case('A="say \\"hi\\""\n'),
    "single-quote-inside-double": Case('A="it\'s"\n'),
    "newline-escape-in-double-quotes": Case('A="l1\\nl2"\n'),
    "no-escapes-in-single-quotes": Case("A='l1\\nl2'\n"),
    "value-over-two-lines": Case('A="l1\nl2"\nB=2\n'),
    "octal-escape": Case('A="\\0101"\n', dotenv_differs="keeps \\0101"),
    "text-after-closing-quote": Case('A="x"y\n', dotenv_differs="drops the line"),
    "unterminated-quote": Case('A="never closed\nB=2\n', dotenv_differs="skips the line; compose refuses"),
    # --- export, spaces, keys
    "export": Case("export A=1\n"),
    "export-two-spaces": Case("export  A=1\n"),
    "spaces-around-equals": Case("A = spaced\n"),
    "leading-spaces": Case("   A=1\n"),
    "trailing-spaces": Case("A=value   \n"),
    "inner-space-unquoted": Case("A=1 2\n"),
    "equals-in-value": Case("A=a=b\n"),
    "yaml-style-colon": Case("A: 1\n", dotenv_differs="ignores the line"),
    "space-in-key": Case("A B=1\n", dotenv_differs="ignores the line; compose refuses"),
    "lowercase-key": Case("a=1\n"),
    # --- comments
    "inline-comment": Case("A=value # comment\n"),
    "hash-without-space": Case("A=value#not-a-comment\n"),
    "tab-before-hash": Case("A=value\t# kept\n", dotenv_differs="takes a tab as the start of a comment"),
    "hash-right-after-equals": Case("A= #x\n"),
    "commented-line": Case("#A=1\nB=2\n"),
    # --- empty, unset, duplicates
    "empty": Case("A=\n"),
    "empty-quotes": Case('A=""\n'),
    "bare-key-unset": Case("A\nB=2\n"),
    "bare-key-from-the-shell": Case("A\n", shell={"A": "from-shell"}),
    "bare-key-after-a-value": Case("A=1\nA\n", dotenv_differs="unsets A"),
    "duplicate-last-wins": Case("A=1\nA=2\n"),
    # --- line ends and encodings
    "crlf": Case("A=1\r\nB=2\r\n"),
    "crlf-quoted": Case('A="x y"\r\nB=2\r\n'),
    "bom": Case(BOM + "A=1\nB=2\n"),
    "no-final-newline": Case("A=1"),
    "utf8-value": Case("A=bài tập\n"),
    "nbsp-at-end": Case("A=é\xa0\n"),
    # --- variables
    "braced-variable": Case("B=x\nA=${B}y\n"),
    "bare-variable": Case("B=x\nA=$B\n", dotenv_differs="only expands ${B}"),
    "no-expansion-in-single-quotes": Case("B=x\nA='$B'\n"),
    "default": Case("A=${NOPE:-dflt}\n"),
    "default-when-empty": Case("B=\nA=${B:-d}\n", dotenv_differs="takes the empty B"),
    "nested-default": Case("A=${B:-${C:-deep}}\n", dotenv_differs="does not nest"),
    "alternative": Case("B=x\nA=${B:+alt}\n", dotenv_differs="knows no :+"),
    "required-missing": Case("A=${NOPE:?needed}\n", dotenv_differs="no error"),
    "later-key-not-seen-yet": Case("A=${B}\nB=late\n"),
    "dollar-dollar": Case("A=pa$$word\n", dotenv_differs="keeps $$"),
    "lone-dollar": Case("A=pa$\n"),
    "dollar-digit": Case("A=pa$1\n"),
    "escaped-dollar-in-double-quotes": Case('A="\\$x"\n', dotenv_differs="keeps the backslash"),
    "shell-wins-in-expansion": Case(
        "B=file\nA=${B}\n", shell={"B": "shell"}, dotenv_differs="expands with the file's B, not the shell's"
    ),
    "shell-wins-over-the-file": Case("A=file\n", shell={"A": "shell"}),
}


def compose_reading(case: Case, folder: Path) -> dict[str, str] | str:
    """KEY -> value as compose reads it, or "refused"."""
    name = uuid.uuid4().hex[:8]
    env_file = folder / f"{name}.env"
    env_file.write_bytes(case.text.encode())
    compose_file = folder / f"{name}.yaml"
    labels = {key: f"${{{key}-{UNSET}}}" for key in KEYS}
    compose_file.write_text(json.dumps({"services": {"s": {"image": "x", "labels": labels}}}))
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ} | case.shell
    command = ["docker", "compose", "-p", f"envtest-{name}", "-f", str(compose_file), "--env-file", str(env_file)]
    done = subprocess.run([*command, "config", "--format", "json"], capture_output=True, text=True, env=env, timeout=60)
    if done.returncode != 0:
        return "refused"
    labels = json.loads(done.stdout)["services"]["s"].get("labels") or {}
    # The rendered model writes a literal $ as $$ (so it can be read back).
    return {key: value.replace("$$", "$") for key, value in labels.items() if value != UNSET}


@pytest.fixture(scope="module")
def compose_readings(compose_cli, tmp_path_factory) -> dict[str, dict[str, str] | str]:
    folder = tmp_path_factory.mktemp("envsyntax")
    # One compose process per case; they wait on process start more than on the CPU.
    with ThreadPoolExecutor(max_workers=8) as pool:
        readings = pool.map(lambda case: compose_reading(case, folder), CASES.values())
    return dict(zip(CASES, readings, strict=True))


def effective(values: dict[str, str], shell: dict[str, str]) -> dict[str, str]:
    """What compose interpolates with: the shell's variables win over .env's."""
    merged = {**values, **shell}
    return {key: merged[key] for key in KEYS if key in merged}


def host_reading(case: Case) -> dict[str, str] | str:
    try:
        return effective(envsyntax.values(case.text, environ=case.shell), case.shell)
    except envsyntax.EnvSyntaxError:
        return "refused"


def dotenv_reading(case: Case, tmp_path: Path) -> dict[str, str] | str:
    dotenv = pytest.importorskip("dotenv")
    path = tmp_path / ".env"
    path.write_bytes(case.text.encode())
    logging.getLogger("dotenv.main").disabled = True  # it warns on lines it skips
    # The call labkit.local_env makes: utf-8-sig reads past a byte order mark.
    read = dotenv.dotenv_values(path, encoding="utf-8-sig")
    return effective({key: value for key, value in read.items() if value is not None}, case.shell)


@pytest.mark.parametrize("name", list(CASES))
def test_scripts_lab_reads_env_exactly_as_compose_does(compose_readings, name: str) -> None:
    assert host_reading(CASES[name]) == compose_readings[name]


@pytest.mark.parametrize("name", list(CASES))
def test_python_dotenv_agrees_with_compose_except_where_the_case_says(compose_readings, name, tmp_path) -> None:
    case = CASES[name]
    if case.dotenv_differs:
        assert dotenv_reading(case, tmp_path) != compose_readings[name], f"python-dotenv now agrees: {name}"
    else:
        assert dotenv_reading(case, tmp_path) == compose_readings[name]
