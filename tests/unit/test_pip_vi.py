"""Students' pip refusals and shadowed-package warnings in Vietnamese: with LAB_LANG=vi the
guard refuses the same commands with the same exit code, in a Vietnamese line that keeps the
package names, versions and commands and links the Vietnamese troubleshooting section; the
troubleshooting pages' examples and headings are the lines students see. English stays the
default (tests/unit/test_pipguard.py, test_shadow.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from labkit import pipguard, shadow
from test_pipguard import PINS, PIP_RESOLUTION_IMPOSSIBLE

DOCS = Path(__file__).resolve().parents[2] / "docs"


def refusals() -> dict[str, str]:
    """Every one-line refusal, each from the real decision functions."""
    plan = pipguard.removals(["jupyterlab"], {}, PINS)
    return {
        "replace": pipguard.refusal(["install", "numpy==1.26.4"], PINS),
        "other-build": pipguard.refusal(["install", "tensorflow"], PINS),
        "resolver": pipguard.resolver_refusal(PIP_RESOLUTION_IMPOSSIBLE, PINS),
        "remove": plan[0].line("/u"),
    }


@pytest.mark.parametrize("kind", ["replace", "other-build", "resolver", "remove"])
def test_vietnamese_refusal_keeps_names_versions_and_links_the_vietnamese_page(monkeypatch, kind):
    monkeypatch.setenv("LAB_LANG", "en")
    english = refusals()[kind]
    monkeypatch.setenv("LAB_LANG", "vi")
    vietnamese = refusals()[kind]

    assert vietnamese != english
    assert vietnamese.startswith("pip: ") and "\n" not in vietnamese
    assert ". Cách sửa: " in vietnamese and "Fix:" not in vietnamese
    for literal in re.findall(r"[a-z-]+==[\d.]+|\b\d+\.\d+\.\d+\b|tensorflow-rocm|import tensorflow", english):
        assert literal in vietnamese
    assert vietnamese.endswith("Xem thêm: docs/troubleshooting.vi.md#pip-từ-chối-thay-một-gói-của-image-lab")


def test_the_same_commands_are_refused_in_every_language(monkeypatch):
    commands = [["install", "numpy==1.26.4"], ["install", "tensorflow"], ["install", "numpy"], ["install", "tabulate"]]
    monkeypatch.setenv("LAB_LANG", "en")
    english = [pipguard.refusal(argv, PINS) is None for argv in commands]
    monkeypatch.setenv("LAB_LANG", "vi")
    assert [pipguard.refusal(argv, PINS) is None for argv in commands] == english == [False, False, True, True]


def test_removing_your_own_copy_says_so_in_vietnamese(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    (removal,) = pipguard.removals(["numpy"], {"numpy": "1.26.4"}, PINS)
    assert (
        removal.line("/u") == "pip: đã gỡ bản numpy 1.26.4 các bạn tự cài khỏi /u; numpy 2.4.6 của image lại được dùng"
    )


def test_shadow_warning_in_vietnamese(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    (found,) = shadow.find({"numpy": "1.26.4"}, PINS, "/cache/python-user")
    assert found.warning() == (
        "CẢNH BÁO: bản numpy 1.26.4 các bạn tự cài (trong /cache/python-user) che mất numpy 2.4.6 của image. "
        "Cách sửa: pip uninstall -y numpy   (trong một terminal của lab; lệnh này chỉ gỡ bản của các bạn)"
    )


def test_first_notebook_says_ok_in_vietnamese(monkeypatch, capsys):
    monkeypatch.setenv("LAB_LANG", "vi")
    monkeypatch.setattr(shadow, "check", lambda: [])
    shadow.show()
    assert capsys.readouterr().out == "OK: không gói nào các bạn tự cài bằng pip che mất gói của image lab.\n"


def headings(page: str) -> list[str]:
    return re.findall(r"^## (.+)$", (DOCS / page).read_text(), re.MULTILINE)


@pytest.mark.parametrize(("lang", "page"), [("en", "troubleshooting.md"), ("vi", "troubleshooting.vi.md")])
def test_the_shadow_heading_is_the_warning_students_see(monkeypatch, lang, page):
    # The heading is the line with NAME VERSION for the packages, without the folder and the fix.
    monkeypatch.setenv("LAB_LANG", lang)
    line = shadow.Shadow("NAME", "VERSION", "NAME VERSION", "FOLDER").line()
    heading = re.sub(r" \([^)]*FOLDER\)", "", line).split(". ", 1)[0]
    assert heading in headings(page)


def test_the_vietnamese_page_shows_the_refusals_students_see(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    shown = re.findall(r"^(pip: .+?\. Cách sửa: )\.\.\.$", (DOCS / "troubleshooting.vi.md").read_text(), re.MULTILINE)
    lines = {
        pipguard.refusal(["install", "numpy==1.26.4"], pipguard.read_pins("numpy==2.4.6\n")),
        # The CPU image's own TensorFlow, refused under another version (the page's example).
        pipguard.refusal(
            ["install", "tensorflow-cpu"], pipguard.Pins({"tensorflow-cpu": "2.20.0"}, frozenset({"tensorflow-cpu"}))
        ),
        pipguard.resolver_refusal("The user requested (constraint) numpy==2.4.6", PINS),
        pipguard.removals(["jupyterlab"], {}, PINS)[0].line("/u"),
    }
    assert len(shown) == 4
    for example in shown:
        assert any(line.startswith(example) for line in lines), example


class Shell:
    """What labkit.pipmagic uses of IPython's InteractiveShell: register_magic_function,
    system (which stores the command's exit status in user_ns["_exit_code"]) and user_ns."""

    def __init__(self, exit_code: int) -> None:
        self.exit_code, self.user_ns, self.magics, self.ran = exit_code, {}, {}, []

    def register_magic_function(self, function, kind, name) -> None:
        self.magics[(kind, name)] = function

    def system(self, command: str) -> None:
        self.ran.append(command)
        self.user_ns["_exit_code"] = self.exit_code


@pytest.mark.parametrize(
    ("lang", "note"),
    [
        ("en", "Note: you may need to restart the kernel to use updated packages.\n"),
        ("vi", "LƯU Ý: có thể các bạn cần khởi động lại kernel để dùng các gói vừa cập nhật.\n"),
    ],
)
def test_percent_pip_notes_the_restart_after_an_install_in_the_students_language(monkeypatch, capsys, lang, note):
    from labkit import pipmagic

    monkeypatch.setenv("LAB_LANG", lang)
    for exit_code, printed in ((0, note), (1, "")):
        shell = Shell(exit_code)
        pipmagic.load_ipython_extension(shell)
        shell.magics[("line", "pip")]("install tabulate")
        assert "labkit.pipguard install tabulate" in shell.ran[0]
        assert capsys.readouterr().out == printed
