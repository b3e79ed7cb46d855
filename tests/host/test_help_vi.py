"""`scripts/lab --help`, every command's --help and the usage errors in the student's language:
with LAB_LANG=vi (in the environment, or only in .env, or a Vietnamese locale) argparse's own
words, the description and the student commands' help are Vietnamese, with the same command
names, option names, metavars and exit codes (0 for --help, 2 for a usage error); the
instructor commands keep their English help. English stays the default and prints exactly what
scripts/lab printed before it was translated: fixtures/help-en.json, captured from that code by
helpcapture.py (argparse's output of Python 3.11, which the suite runs on; 3.9's argparse says
"optional arguments" where 3.10 and later say "options")."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from fakeworld import make_world
from helpcapture import CASES, WIDTH, run_lab
from labhost import argparse_i18n

ENGLISH = json.loads((Path(__file__).resolve().parent / "fixtures" / "help-en.json").read_text())
# report: students run it to send their instructor one file (the file stays English).
STUDENT_COMMANDS = ("doctor", "setup", "up", "down", "logs", "ps", "report")
INSTRUCTOR_COMMANDS = ("verify", "lock", "release", "export", "import")
LOCALE_VARIABLES = ("LAB_HOST_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


@pytest.fixture(autouse=True)
def english_locale(monkeypatch):
    """No language chosen anywhere unless a test chooses one; a fixed terminal width."""
    for variable in ("LAB_LANG", *LOCALE_VARIABLES):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("COLUMNS", WIDTH)


def lab(tmp_path: Path, argv: list[str], *, env: str | None = None) -> tuple[int, str, str]:
    return run_lab(argv, make_world(tmp_path, "no-gpu", env=env))


def in_vietnamese(how: str, monkeypatch) -> str | None:
    """Chooses Vietnamese the way `how` says; the .env text to write, if any."""
    if how == "environment":
        monkeypatch.setenv("LAB_LANG", "vi")
        return None
    if how == "locale":
        monkeypatch.setenv("LANG", "vi_VN.UTF-8")
        return None
    return "LAB_LANG=vi\n"


WAYS = ["environment", "env file", "locale"]


def options_and_metavars(text: str) -> list[str]:
    """What a student types, as the help shows it: -h, --dry-run, {cpu,nvidia,rocm}, ARGS (GPU and
    CPU are words of the help, not metavars: a translation may say them more often)."""
    return re.findall(r"(?<![\w-])--?[a-z][a-z-]*|\{[a-z,]+\}|\b(?!(?:GPU|CPU)\b)[A-Z][A-Z_]+\b", text)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("lang", [None, "en"], ids=["default", "LAB_LANG=en"])
def test_english_is_the_default_and_unchanged(tmp_path, monkeypatch, case: str, lang: str | None) -> None:
    if lang:
        monkeypatch.setenv("LAB_LANG", lang)
    code, stdout, stderr = lab(tmp_path, CASES[case])

    assert (code, stdout, stderr) == (ENGLISH[case]["code"], ENGLISH[case]["stdout"], ENGLISH[case]["stderr"])


def test_the_environments_lab_lang_wins_over_env_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LAB_LANG", "en")
    code, stdout, _stderr = lab(tmp_path, ["--help"], env="LAB_LANG=vi\n")

    assert (code, stdout) == (0, ENGLISH["help"]["stdout"])


@pytest.mark.parametrize("how", WAYS)
def test_lab_help_is_vietnamese(tmp_path, monkeypatch, how: str) -> None:
    code, stdout, stderr = lab(tmp_path, ["--help"], env=in_vietnamese(how, monkeypatch))
    lines = stdout.splitlines()

    assert (code, stderr) == (0, "")
    assert lines[0] == "cách dùng: scripts/lab [-h] COMMAND ..."
    assert "Lab của môn học trên máy này. Mỗi lệnh đều in ra đúng lệnh `docker compose` mà nó chạy." in lines
    assert "đối số vị trí:" in lines
    assert "tùy chọn:" in lines
    assert "  -h, --help  hiện trợ giúp này rồi thoát" in lines
    assert "    up        khởi động lab (docker compose up -d --wait) và in URL của nó" in lines
    assert "    ps        xem các container của lab (docker compose ps)" in lines
    for english in ("usage:", "positional arguments", "options:", "show this help", "check this computer: Docker"):
        assert english not in stdout
    # The same commands, in the same order; instructors' help stays English, word for word.
    listed = re.findall(r"^    (\w+) ", stdout, flags=re.MULTILINE)
    assert listed == re.findall(r"^    (\w+) ", ENGLISH["help"]["stdout"], flags=re.MULTILINE)
    assert listed == [*STUDENT_COMMANDS, *INSTRUCTOR_COMMANDS]
    english_lines = ENGLISH["help"]["stdout"].splitlines()
    for name in INSTRUCTOR_COMMANDS:
        shown = next(line for line in english_lines if line.startswith(f"    {name} "))
        assert shown in lines


@pytest.mark.parametrize("how", WAYS)
def test_setup_help_is_vietnamese_with_the_same_options(tmp_path, monkeypatch, how: str) -> None:
    code, stdout, stderr = lab(tmp_path, ["setup", "--help"], env=in_vietnamese(how, monkeypatch))

    assert (code, stderr) == (0, "")
    usage = "cách dùng: scripts/lab setup [-h] [--dry-run] [--offline] [--flavour {cpu,nvidia,rocm}]"
    assert stdout.splitlines()[0] == usage
    for line in (
        "ghi .env cho máy này (GPU, override, nhóm, token); giữ nguyên những gì các bạn đã sửa",
        "  --dry-run             hiện thay đổi dưới dạng diff; không ghi gì cả",
        "  --offline             không hỏi Docker (mã kiến trúc GPU (target) của ROCm: lấy danh sách AMD",
        "                        công bố cho image gốc đã chọn, không đọc từ image đã build)",
        "                        dùng loại lab này thay cho loại ghi trong .env hoặc loại tự phát hiện",
    ):
        assert line in stdout.splitlines()
    assert options_and_metavars(stdout) == options_and_metavars(ENGLISH["setup --help"]["stdout"])


@pytest.mark.parametrize("command", STUDENT_COMMANDS)
def test_every_student_command_has_vietnamese_help_and_the_same_options(tmp_path, monkeypatch, command: str) -> None:
    monkeypatch.setenv("LAB_LANG", "vi")
    code, stdout, _stderr = lab(tmp_path, [command, "--help"])
    english = ENGLISH[f"{command} --help"]["stdout"]

    assert code == 0
    assert options_and_metavars(stdout) == options_and_metavars(english)
    assert stdout.startswith(f"cách dùng: scripts/lab {command} ")
    # No line of the English help is left, apart from an option's own line (--flavour {...}).
    left = [line for line in english.splitlines() if line.strip() and line in stdout.splitlines()]
    assert all(options_and_metavars(line) and not re.search(r"[a-z]{3,} [a-z]{3,}", line) for line in left), left


# (argv, the last line on stderr): the usage errors a student makes, in Vietnamese.
USAGE_ERRORS = {
    "unknown option": (["setup", "--bogus"], "scripts/lab: lỗi: không hiểu các đối số: --bogus"),
    "unknown flavour": (
        ["up", "--flavour", "nope"],
        "scripts/lab up: lỗi: đối số --flavour: lựa chọn không hợp lệ: 'nope' "
        "(chọn một trong: 'cpu', 'nvidia', 'rocm')",
    ),
    "flavour without value": (["ps", "--flavour"], "scripts/lab ps: lỗi: đối số --flavour: cần một giá trị đi kèm"),
    "no command": ([], "scripts/lab: lỗi: thiếu đối số bắt buộc: COMMAND"),
    "value for a switch": (
        ["setup", "--dry-run=yes"],
        "scripts/lab setup: lỗi: đối số --dry-run: tùy chọn này không nhận giá trị đi kèm 'yes'",
    ),
}


@pytest.mark.parametrize("how", WAYS)
@pytest.mark.parametrize("case", list(USAGE_ERRORS))
def test_a_usage_error_is_vietnamese_and_exits_2(tmp_path, monkeypatch, how: str, case: str) -> None:
    argv, expected = USAGE_ERRORS[case]
    code, stdout, stderr = lab(tmp_path, argv, env=in_vietnamese(how, monkeypatch))
    usage, error = stderr.splitlines()[0], stderr.splitlines()[-1]

    assert (code, stdout) == (2, "")
    assert error == expected
    assert usage.startswith("cách dùng: scripts/lab")


def test_the_english_usage_error_for_a_switch_is_argparses(tmp_path) -> None:
    code, _stdout, stderr = lab(tmp_path, ["setup", "--dry-run=yes"])

    assert code == 2
    assert stderr.splitlines()[-1] == "scripts/lab setup: error: argument --dry-run: ignored explicit argument 'yes'"


@pytest.mark.parametrize("argv", [["--help"], ["setup", "--bogus"]], ids=["help", "usage error"])
def test_lab_lang_from_env_file_does_not_stay_in_the_environment(tmp_path, argv: list[str]) -> None:
    lab(tmp_path, argv, env="LAB_LANG=vi\n")

    assert "LAB_LANG" not in os.environ


def test_an_error_argparse_words_differently_is_shown_as_it_is(monkeypatch) -> None:
    """A newer argparse's wording, not in ERRORS, still reaches the student, untranslated."""
    monkeypatch.setenv("LAB_LANG", "vi")

    assert argparse_i18n.error_message("argument --x: some new complaint") == "đối số --x: some new complaint"
    assert argparse_i18n.error_message("some new complaint") == "some new complaint"


def test_python_3_9s_title_for_options_reads_like_310s(monkeypatch) -> None:
    assert argparse_i18n.word("optional arguments") == "optional arguments"
    monkeypatch.setenv("LAB_LANG", "vi")
    assert argparse_i18n.word("optional arguments") == argparse_i18n.word("options") == "tùy chọn"
