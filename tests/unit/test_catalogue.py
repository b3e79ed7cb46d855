"""The message catalogue (GNU gettext): every message the code marks with _() or N_() has a
Vietnamese translation with the same placeholders, and the compiled .mo the code reads is the
.po as committed. Needs GNU gettext's xgettext and msgfmt (apt-get install gettext)."""

from __future__ import annotations

import ast
import gettext
import json
import re
import shutil
import string
import subprocess
from pathlib import Path

import pytest
from skips import require

REPO = Path(__file__).resolve().parents[2]
LOCALE = REPO / "scripts" / "labkit" / "locale"
LANGUAGES = ("vi",)


def tools_problem() -> str | None:
    missing = [tool for tool in ("xgettext", "msgfmt") if shutil.which(tool) is None]
    return f"GNU gettext is missing ({', '.join(missing)}): apt-get install gettext" if missing else None


def read_po(path: Path) -> dict[str, tuple[str, bool]]:
    """msgid -> (msgstr, fuzzy), from a .po without plural forms (ours has none)."""
    entries = {}
    for block in path.read_text().split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n)+)', block + "\n", re.MULTILINE)
        msgstr = re.search(r'^msgstr ((?:".*"\n?)+)', block + "\n", re.MULTILINE)
        if not msgid or not msgstr:
            continue

        def joined(match):
            return "".join(re.findall(r'"(.*)"', match.group(1))).replace('\\"', '"').replace("\\\\", "\\")

        if joined(msgid):
            entries[joined(msgid)] = (joined(msgstr), "#, fuzzy" in block or ", fuzzy" in block)
    return entries


def placeholders(text: str) -> set[str]:
    """Each replacement field whole: its name, conversion and format spec ({value!r},
    {seconds:.0f}). xgettext does not flag a msgid with a conversion as python-brace-format, so
    msgfmt --check does not compare those; a translation that drops the !r must fail here."""
    return {
        field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
        for _literal, field, spec, conversion in string.Formatter().parse(text)
        if field is not None
    }


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, tuple[str, bool]]:
    require(tools_problem(), "message catalogue tests")
    pot = tmp_path_factory.mktemp("catalogue") / "courselab.pot"
    subprocess.run([str(REPO / "scripts" / "i18n"), "extract", str(pot)], check=True, cwd=REPO)
    return read_po(pot)


def test_the_code_has_messages_to_translate(extracted):
    assert len(extracted) > 100


def notebook_messages() -> set[str]:
    """The literal messages the course notebooks pass to _(), read from their code cells."""
    found = set()
    for notebook in sorted((REPO / "lab").glob("*.ipynb")):
        cells = json.loads(notebook.read_text())["cells"]
        code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_":
                found.add(node.args[0].value)
    return found


def test_the_notebooks_messages_are_extracted_too(extracted):
    # The notebooks print through the catalogue; scripts/i18n reads their code cells.
    assert len(notebook_messages()) >= 10
    assert notebook_messages() <= set(extracted)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated(extracted, lang):
    catalogue = read_po(LOCALE / lang / "LC_MESSAGES" / "courselab.po")
    untranslated = [msgid for msgid in extracted if not catalogue.get(msgid, ("", False))[0]]
    fuzzy = [msgid for msgid in extracted if catalogue.get(msgid, ("", False))[1]]
    assert untranslated == [], f"run scripts/i18n update and translate {len(untranslated)} message(s)"
    assert fuzzy == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_every_placeholder(lang):
    catalogue = read_po(LOCALE / lang / "LC_MESSAGES" / "courselab.po")
    different = {
        msgid: (sorted(placeholders(msgid)), sorted(placeholders(msgstr)))
        for msgid, (msgstr, _fuzzy) in catalogue.items()
        if msgstr and placeholders(msgid) != placeholders(msgstr)
    }
    assert different == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_gettext_checks_the_catalogue_and_the_committed_mo_is_current(tmp_path, lang):
    require(tools_problem(), "message catalogue tests")
    po = LOCALE / lang / "LC_MESSAGES" / "courselab.po"
    fresh = tmp_path / "courselab.mo"
    # --check: python-brace-format placeholders, header, line ends.
    subprocess.run(["msgfmt", "--check", "--output-file", str(fresh), str(po)], check=True)
    with fresh.open("rb") as new, (po.with_suffix(".mo")).open("rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(new)._catalog, (
            "the .mo is older than the .po: run scripts/i18n compile"
        )


def test_placeholder_check_sees_a_dropped_placeholder():
    assert placeholders("{path} is missing") != placeholders("thiếu tệp")


def test_placeholder_check_sees_a_dropped_conversion_or_spec():
    assert placeholders("is {value!r}") != placeholders("là {value}")
    assert placeholders("at most {seconds:.0f} s") != placeholders("tối đa {seconds} giây")
