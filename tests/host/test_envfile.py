"""`.env` round trips: comments, order and unknown keys survive; bad values name their line."""

from __future__ import annotations

import os
import stat

import pytest
from fakehost import REPO
from labhost.envfile import SETUP_HEADER, EnvFile, format_assignment, unified_diff, validate, write_atomic

STUDENT_FILE = """\
# my notes: the lab for ML-101
LAB_UID=1000
LAB_GID=1000

# my own variable, not the lab's
WANDB_PROJECT=ml101
LAB_PORT=8890   # 8888 is taken by my other notebook
# HSA_OVERRIDE_GFX_VERSION=10.3.0
JUPYTER_TOKEN="my-own-token-1234567890"
"""


def test_parse_then_render_is_byte_for_byte_the_same() -> None:
    assert EnvFile.parse(STUDENT_FILE).render() == STUDENT_FILE


def test_env_example_round_trips_unchanged() -> None:
    text = (REPO / ".env.example").read_text()

    assert EnvFile.parse(text).render() == text


def test_values_are_read_the_way_compose_reads_them() -> None:
    values = EnvFile.parse(STUDENT_FILE).values()

    assert values["LAB_PORT"] == "8890"
    assert values["JUPYTER_TOKEN"] == "my-own-token-1234567890"
    assert values["WANDB_PROJECT"] == "ml101"
    assert "HSA_OVERRIDE_GFX_VERSION" not in values


def test_values_agree_with_python_dotenv() -> None:
    dotenv = pytest.importorskip("dotenv")
    import io

    assert EnvFile.parse(STUDENT_FILE).values() == dict(dotenv.dotenv_values(stream=io.StringIO(STUDENT_FILE)))


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("plain", "plain"),
        ('"quoted # not a comment"', "quoted # not a comment"),
        ("'single'", "single"),
        ("value # comment", "value"),
        ("", ""),
        ("a#b", "a#b"),
    ],
    ids=["plain", "double-quoted", "single-quoted", "inline-comment", "empty", "hash-inside"],
)
def test_a_value_is_read_as_compose_reads_it(raw: str, value: str) -> None:
    # The whole table of tricky lines against the real compose: tests/config/test_envsyntax_vs_compose.py.
    assert EnvFile.parse(f"KEY={raw}\n").values() == {"KEY": value}


@pytest.mark.parametrize(
    "value",
    ["plain", "", "two words", "it's", 'say "hi"', "pa$word", "a#b", "back\\slash", "tab\there", "l1\nl2", "bài tập"],
)
def test_set_writes_a_line_compose_reads_back_unchanged(value: str) -> None:
    env = EnvFile.parse("# mine\n")

    env.set("KEY", value)

    assert EnvFile.parse(env.render()).values() == {"KEY": value}
    assert format_assignment("KEY", value) in env.render()


def test_crlf_line_ends_and_a_byte_order_mark_survive_an_edit() -> None:
    text = "\ufeff# from Notepad\r\nLAB_PORT=8890\r\nLAB_UID=1000\r\n"
    env = EnvFile.parse(text)

    env.set("LAB_UID", "1001")
    env.set("LAB_FLAVOUR", "cpu")

    assert env.render().startswith("\ufeff# from Notepad\r\nLAB_PORT=8890\r\nLAB_UID=1001\r\n")
    assert env.render().endswith("LAB_FLAVOUR=cpu\r\n")
    assert env.values() == {"LAB_PORT": "8890", "LAB_UID": "1001", "LAB_FLAVOUR": "cpu"}


def test_a_quoted_value_over_several_lines_is_replaced_whole() -> None:
    env = EnvFile.parse('A=1\nNOTE="line one\nline two"\nB=2\n')

    env.set("NOTE", "short")

    assert env.render() == "A=1\nNOTE=short\nB=2\n"


def test_unset_comments_out_every_line_of_a_multi_line_value() -> None:
    env = EnvFile.parse('NOTE="line one\nline two"\nB=2\n')

    env.unset("NOTE")

    assert env.render() == '# NOTE="line one\n# line two"\nB=2\n'
    assert env.values() == {"B": "2"}


def test_a_line_compose_cannot_read_is_one_problem_with_its_line() -> None:
    env = EnvFile.parse('LAB_PORT=8890\nJUPYTER_TOKEN="unclosed-token-1234567\nLAB_UID=abc\n')

    (problem,) = validate(env)

    assert problem.line == 2
    assert problem.text(".env").startswith(".env line 2: compose cannot read this line: unterminated quoted value")


def test_a_file_that_is_not_utf8_round_trips_byte_for_byte(tmp_path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"# caf\xe9 (latin-1)\nLAB_PORT=8890\n")
    env = EnvFile.read(path)

    env.set("LAB_UID", "1001")
    write_atomic(path, env.render(), backup=False)

    assert path.read_bytes() == b"# caf\xe9 (latin-1)\nLAB_PORT=8890\n\n" + SETUP_HEADER.encode() + b"\nLAB_UID=1001\n"


def test_set_keeps_comments_unknown_keys_and_order() -> None:
    env = EnvFile.parse(STUDENT_FILE)

    env.set("LAB_UID", "1001")
    text = env.render()

    assert "# my notes: the lab for ML-101" in text
    assert "WANDB_PROJECT=ml101" in text
    assert "LAB_PORT=8890   # 8888 is taken by my other notebook" in text
    assert text.splitlines()[1] == "LAB_UID=1001"


def test_set_uncomments_the_template_line_in_place() -> None:
    env = EnvFile.parse(STUDENT_FILE)

    env.set("HSA_OVERRIDE_GFX_VERSION", "10.3.0")

    assert env.lines[7] == "HSA_OVERRIDE_GFX_VERSION=10.3.0"


def test_set_appends_a_new_key_under_one_header() -> None:
    env = EnvFile.parse(STUDENT_FILE)

    env.set("LAB_FLAVOUR", "rocm")
    env.set("COMPOSE_FILE", "compose.yaml:compose.rocm.yaml")

    assert env.lines.count(SETUP_HEADER) == 1
    assert env.lines[-2:] == ["LAB_FLAVOUR=rocm", "COMPOSE_FILE=compose.yaml:compose.rocm.yaml"]


def test_setting_the_same_value_changes_nothing() -> None:
    env = EnvFile.parse(STUDENT_FILE)

    env.set("LAB_PORT", "8890")

    assert env.render() == STUDENT_FILE


def test_unset_comments_the_line_out() -> None:
    env = EnvFile.parse("HSA_OVERRIDE_GFX_VERSION=10.3.0\n")

    env.unset("HSA_OVERRIDE_GFX_VERSION")

    assert env.render() == "# HSA_OVERRIDE_GFX_VERSION=10.3.0\n"
    assert env.values() == {}


def test_a_key_set_twice_uses_the_last_line() -> None:
    env = EnvFile.parse("LAB_PORT=8888\nLAB_PORT=abc\n")

    (problem,) = validate(env)

    assert env.values()["LAB_PORT"] == "abc"
    assert problem.line == 2


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ("# c\nLAB_PORT=eighty\n", "LAB_PORT", 2),
        ("A=1\n\nHSA_OVERRIDE_GFX_VERSION=\n", "HSA_OVERRIDE_GFX_VERSION", 3),
        ("TF_FORCE_GPU_ALLOW_GROWTH=yes\n", "TF_FORCE_GPU_ALLOW_GROWTH", 1),
        ("x=1\ny=2\nz=3\nJUPYTER_TOKEN=short\n", "JUPYTER_TOKEN", 4),
        ("LAB_RENDER_GID=render\n", "LAB_RENDER_GID", 1),
    ],
    ids=["port-not-a-number", "empty-override", "growth-not-true-false", "short-token", "group-name-not-gid"],
)
def test_bad_values_are_reported_with_their_line(text: str, key: str, line: int) -> None:
    (problem,) = validate(EnvFile.parse(text))

    assert problem.problem.key == key
    assert problem.line == line
    assert problem.text(".env").startswith(f".env line {line}: {key}: ")


def test_write_is_atomic_keeps_a_backup_and_is_private(tmp_path) -> None:
    path = tmp_path / ".env"
    path.write_text("OLD=1\n")

    saved = write_atomic(path, "NEW=1\n")

    assert path.read_text() == "NEW=1\n"
    assert saved is not None and saved.read_text() == "OLD=1\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", ".env.bak"]


def test_diff_shows_only_the_changed_lines() -> None:
    diff = unified_diff("A=1\nB=2\n", "A=1\nB=3\n", ".env")

    assert "-B=2" in diff and "+B=3" in diff
    assert "-A=1" not in diff
