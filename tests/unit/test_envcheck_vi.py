"""The .env checks speak the student's language: with LAB_LANG=vi every problem line is
Vietnamese and still names the variable and keeps the literal values and commands; with
LAB_LANG=en (or unset) it is the English line students have always read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from labhost.envfile import EnvFile, validate
from labkit import entrypoint, envcheck, i18n

DOCS = Path(__file__).resolve().parents[2] / "docs"

# (values, the key named, the English line of today, what stays literal in every language)
CASES = {
    "override-empty": (
        {"HSA_OVERRIDE_GFX_VERSION": ""},
        "HSA_OVERRIDE_GFX_VERSION",
        "HSA_OVERRIDE_GFX_VERSION: is set but empty, and an empty override makes ROCm find no GPU at all. "
        "Fix: delete the line, or set the value the lab's doctor prints for your card.",
        ["ROCm", "GPU"],
    ),
    "port-word": (
        {"LAB_PORT": "abc"},
        "LAB_PORT",
        "LAB_PORT: is 'abc', not a port between 1 and 65535. Fix: set LAB_PORT=8888 or another free port.",
        ["'abc'", "65535", "LAB_PORT=8888"],
    ),
    "render-gid-root": (
        {"LAB_RENDER_GID": "0"},
        "LAB_RENDER_GID",
        "LAB_RENDER_GID: is 0, root's group; the lab is never given root's group. Fix: delete the line (a device "
        "open to everyone needs no group), or set the number from `stat -c %g /dev/dri/renderD128` when it is not 0.",
        ["root", "`stat -c %g /dev/dri/renderD128`"],
    ),
    "kfd-equals-render": (
        {"LAB_RENDER_GID": "110", "LAB_KFD_GID": "110"},
        "LAB_KFD_GID",
        "LAB_KFD_GID: equals LAB_RENDER_GID (110): /dev/kfd and the render node share that group, and compose "
        "refuses the same group twice. Fix: delete the LAB_KFD_GID line (LAB_RENDER_GID covers both devices).",
        ["LAB_RENDER_GID (110)", "/dev/kfd", "compose", "LAB_KFD_GID (LAB_RENDER_GID"],
    ),
    "memory-word": (
        {"LAB_MEMORY_LIMIT": "8 gigabytes"},
        "LAB_MEMORY_LIMIT",
        "LAB_MEMORY_LIMIT: is '8 gigabytes', not a size like 8g, 512m or 1.5GiB. "
        "Fix: set LAB_MEMORY_LIMIT=8g, or 0 for none.",
        ["'8 gigabytes'", "8g, 512m", "1.5GiB", "LAB_MEMORY_LIMIT=8g"],
    ),
    "memory-without-unit": (
        {"LAB_MEMORY_LIMIT": "512"},
        "LAB_MEMORY_LIMIT",
        "LAB_MEMORY_LIMIT: is '512', which is 512 bytes: Docker refuses less than 6 MiB. "
        "Fix: add the unit, e.g. LAB_MEMORY_LIMIT=512g.",
        ["'512'", "512 byte", "6 MiB", "LAB_MEMORY_LIMIT=512g"],
    ),
    "token-short": (
        {"JUPYTER_TOKEN": "abc"},
        "JUPYTER_TOKEN",
        "JUPYTER_TOKEN: is 3 characters; at least 16 are required. "
        "Fix: delete the line to get a generated token, or use a longer one.",
        ["3", "16"],
    ),
    "pull-unpinned": (
        {"LAB_PULL_POLICY": "always", "LAB_IMAGE": "courselab/lab:1"},
        "LAB_PULL_POLICY",
        "LAB_PULL_POLICY: is 'always' but LAB_IMAGE is 'courselab/lab:1', not pinned by digest; compose would "
        "pull whatever that tag points to. Fix: set LAB_IMAGE=registry/name@sha256:... (from `scripts/lab "
        "release`) or LAB_PULL_POLICY=never.",
        ["'always'", "'courselab/lab:1'", "LAB_IMAGE=registry/name@sha256:...", "LAB_PULL_POLICY=never"],
    ),
}


def only_line(values: dict[str, str]) -> envcheck.Problem:
    problems = envcheck.validate(values)
    assert len(problems) == 1, [problem.line() for problem in problems]
    return problems[0]


# Words the Vietnamese catalogue keeps as they are (as Vietnamese computing text does).
LOANWORDS = {"card", "compose", "digest", "doctor", "node", "override", "pull", "render", "root", "token"}


def english_words(line: str) -> set[str]:
    """The English message's own words (not the key, values or commands it quotes)."""
    prose = re.sub(r"`[^`]*`|'[^']*'|\S*[=/_]\S*|[A-Z][A-Z0-9_]+", " ", line)
    return set(re.findall(r"[a-z]{4,}", prose)) - LOANWORDS


@pytest.mark.parametrize("lang", ["en", ""], ids=["lab-lang-en", "unset"])
@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_english_lines_are_those_of_today(monkeypatch, case, lang):
    values, key, english, _literal = CASES[case]
    monkeypatch.setenv("LAB_LANG", lang)
    for variable in ("LAB_HOST_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(variable, raising=False)
    problem = only_line(values)
    assert problem.key == key
    assert problem.line() == english


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_vietnamese_lines_name_the_variable_and_keep_the_literals(monkeypatch, case):
    values, key, english, literal = CASES[case]
    monkeypatch.setenv("LAB_LANG", "vi")
    problem = only_line(values)
    line = problem.line()
    assert problem.key == key  # variable names never translate
    assert line.startswith(f"{key}: ")
    assert ". Cách sửa: " in line and "Fix:" not in line
    for text in literal:
        assert text in line, f"{text!r} lost in {line!r}"
    left_in_english = {word for word in english_words(english) if re.search(rf"\b{word}\b", line)}
    assert left_in_english == set(), line


def test_the_language_is_chosen_when_the_check_runs(monkeypatch):
    # The host sets LAB_LANG from .env after importing everything: nothing may be cached.
    monkeypatch.setenv("LAB_LANG", "vi")
    vietnamese = only_line({"LAB_PORT": "abc"}).line()
    monkeypatch.setenv("LAB_LANG", "en")
    assert only_line({"LAB_PORT": "abc"}).line() != vietnamese


def test_the_locale_chooses_vietnamese_without_lab_lang(monkeypatch):
    monkeypatch.delenv("LAB_LANG", raising=False)
    monkeypatch.delenv("LAB_HOST_LOCALE", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    assert only_line({"LAB_PORT": "abc"}).line().startswith("LAB_PORT: đang là 'abc'")


def test_rename_notices_are_vietnamese(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    assert envcheck.notices({"LAB_VIDEO_GID": "44"}) == [
        "LAB_VIDEO_GID là tên cũ của LAB_KFD_GID: hãy đổi tên trong .env (tên cũ vẫn dùng được)"
    ]


def test_the_container_prints_the_vietnamese_line(monkeypatch, capsys):
    monkeypatch.setenv("LAB_LANG", "vi")
    monkeypatch.setenv("HSA_OVERRIDE_GFX_VERSION", "")
    monkeypatch.setattr(entrypoint, "run_gate", lambda env: pytest.fail("the GPU check ran"))
    assert entrypoint.main(["check"]) == 2
    err = capsys.readouterr().err
    assert "[lab] LỖI trong .env: HSA_OVERRIDE_GFX_VERSION: được đặt nhưng để trống" in err
    assert "Cách sửa: xóa dòng đó" in err


STUDENT_FILE = """\
# my notes
LAB_UID=1000
LAB_PORT=abc
LAB_RENDER_GID=110
LAB_KFD_GID=110
"""


def test_host_lines_name_file_line_and_variable_in_vietnamese(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    lines = [problem.text(".env") for problem in validate(EnvFile.parse(STUDENT_FILE))]
    assert [line.split(": ")[0:2] for line in lines] == [[".env dòng 3", "LAB_PORT"], [".env dòng 5", "LAB_KFD_GID"]]
    assert lines[0] == (
        ".env dòng 3: LAB_PORT: đang là 'abc', không phải một cổng từ 1 đến 65535. "
        "Cách sửa: đặt LAB_PORT=8888 hoặc một cổng khác đang trống."
    )
    monkeypatch.setenv("LAB_LANG", "en")
    assert [problem.text(".env") for problem in validate(EnvFile.parse(STUDENT_FILE))] == [
        ".env line 3: " + CASES["port-word"][2],
        ".env line 5: " + CASES["kfd-equals-render"][2],
    ]


def test_a_line_compose_cannot_read_is_said_in_vietnamese(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    [problem] = validate(EnvFile.parse('LAB_UID=1000\nJUPYTER_TOKEN="abc\n'))
    text = problem.text(".env")
    # compose's own words about the line stay as compose says them.
    assert text.startswith(".env dòng 2: compose không đọc được dòng này: unterminated quoted value")
    assert text.endswith(". Cách sửa: đóng dấu nháy hoặc sửa tên biến trên dòng đó.")


def headings(page: str) -> list[str]:
    return re.findall(r"^## (.+)$", (DOCS / page).read_text(), re.MULTILINE)


@pytest.mark.parametrize(("lang", "page"), [("en", "troubleshooting.md"), ("vi", "troubleshooting.vi.md")])
@pytest.mark.parametrize("value", ["", "10.3"], ids=["empty", "two-numbers"])
def test_troubleshooting_headings_are_the_override_messages_students_see(monkeypatch, lang, page, value):
    monkeypatch.setenv("LAB_LANG", lang)
    problem = only_line({"HSA_OVERRIDE_GFX_VERSION": value})
    assert f"{problem.key}: {problem.message}" in headings(page)


@pytest.mark.parametrize(("lang", "page"), [("en", "troubleshooting.md"), ("vi", "troubleshooting.vi.md")])
def test_troubleshooting_heading_is_the_group_clash_students_see(monkeypatch, lang, page):
    monkeypatch.setenv("LAB_LANG", lang)
    problem = only_line({"LAB_RENDER_GID": "110", "LAB_KFD_GID": "110"})
    assert f"{problem.key}: {problem.message}" in headings(page)


@pytest.mark.parametrize(("lang", "page"), [("en", "troubleshooting.md"), ("vi", "troubleshooting.vi.md")])
def test_troubleshooting_heading_is_the_rename_notice_the_container_prints(monkeypatch, lang, page):
    # entrypoint prints each notice as "NOTICE: {notice}." before the GPU check; the heading
    # is that line without its full stop.
    monkeypatch.setenv("LAB_LANG", lang)
    (notice,) = envcheck.notices({"LAB_VIDEO_GID": "44"})
    line = i18n._("NOTICE: {notice}.").format(notice=notice)
    assert line.removesuffix(".") in headings(page)
