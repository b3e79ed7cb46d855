"""The settings table and what is generated from it: .env.example, docs/settings.md and the
compose files' variable lists must be exactly what the table says (regenerate, never edit)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from labkit import settings
from labkit.settings import SETTINGS, Reader

REPO = Path(__file__).resolve().parents[2]
REGENERATE = "regenerate it: PYTHONPATH=scripts python3 -m labkit.settings {} > {}"


def test_env_example_is_generated_from_the_table() -> None:
    assert (REPO / ".env.example").read_text() == settings.env_example(), REGENERATE.format(
        "env-example", ".env.example"
    )


@pytest.mark.parametrize(
    ("lang", "page", "output"), [("en", "settings.md", "markdown"), ("vi", "settings.vi.md", "markdown-vi")]
)
def test_settings_doc_is_generated_from_the_table(lang: str, page: str, output: str) -> None:
    assert (REPO / "docs" / page).read_text() == settings.markdown(lang), REGENERATE.format(output, f"docs/{page}")


def test_vietnamese_settings_page_explains_every_variable_in_vietnamese() -> None:
    # .env.example is English only: the Vietnamese page is where a student reads what a setting is.
    english = settings.markdown("en").splitlines()
    vietnamese = settings.markdown("vi").splitlines()
    rows = [line for line in vietnamese if line.startswith("| `")]

    assert len(rows) == len([line for line in english if line.startswith("| `")])
    for setting in SETTINGS:
        if Reader.INTERNAL in setting.readers:
            continue
        row = next(line for line in rows if line.startswith(f"| `{setting.name}` |"))
        assert f"| {setting.doc.replace('|', chr(92) + '|')} |" not in row, f"{setting.name} is explained in English"
    assert vietnamese[0] == "# Thiết lập"
    assert "(settings.md)" in "\n".join(vietnamese)  # the English twin is one click away


@pytest.mark.parametrize("name", ["compose.yaml", "compose.rocm.yaml", "compose.nvidia.yaml"])
def test_compose_header_lists_the_variables_the_table_gives_that_file(name: str) -> None:
    lines = (REPO / name).read_text().splitlines()
    start = lines.index(settings.COMPOSE_HEADER_TITLE)
    end = start + 1
    while end < len(lines) and lines[end].startswith("#   "):
        end += 1

    assert lines[start:end] == settings.compose_header(name)


def test_names_are_unique_and_old_names_are_not_current_names() -> None:
    names = [s.name for s in SETTINGS]
    old = [name for s in SETTINGS for name in s.old_names]

    assert len(set(names)) == len(names)
    assert not set(old) & set(names)


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_each_row_is_complete(setting: settings.Setting) -> None:
    assert setting.doc and "\n" not in setting.doc and len(setting.doc) <= 70
    assert setting.flavours and setting.flavours <= settings.ALL
    assert setting.readers
    # What .env.example shows must pass the row's own check.
    shown = setting.example if setting.example is not None else setting.default
    if shown and "${" not in shown:
        assert setting.check(setting.name, shown) is None


@pytest.mark.parametrize(
    "setting",
    [s for s in SETTINGS if s.default and "${" not in s.default],
    ids=lambda s: s.name,
)
def test_the_default_passes_the_check(setting: settings.Setting) -> None:
    assert setting.check(setting.name, setting.default) is None


@pytest.mark.parametrize(
    ("values", "name", "expected"),
    [
        pytest.param({}, "LAB_PORT", "8888", id="default"),
        pytest.param({"LAB_PORT": ""}, "LAB_PORT", "8888", id="empty-means-default"),
        pytest.param({"LAB_PORT": "8890"}, "LAB_PORT", "8890", id="set"),
        pytest.param({}, "LAB_KFD_GID", "65534", id="kfd-falls-back-to-nogroup"),
        pytest.param({}, "LAB_RENDER_GID", "1000", id="render-falls-back-to-the-lab-gid-default"),
        pytest.param({"LAB_GID": "1001"}, "LAB_RENDER_GID", "1001", id="render-falls-back-to-lab-gid"),
        pytest.param({"LAB_VIDEO_GID": "44", "LAB_GID": "1001"}, "LAB_KFD_GID", "44", id="old-name"),
        pytest.param({"LAB_VIDEO_GID": "44", "LAB_KFD_GID": "45"}, "LAB_KFD_GID", "45", id="new-name-wins"),
        pytest.param({}, "HSA_OVERRIDE_GFX_VERSION", None, id="unset-stays-unset"),
    ],
)
def test_effective_is_the_value_compose_uses(values, name, expected) -> None:
    assert settings.effective(values, name) == expected


def test_internal_settings_are_not_in_the_env_example() -> None:
    internal = [s.name for s in SETTINGS if Reader.INTERNAL in s.readers]

    assert internal == ["LAB_HOST_PORT", "LAB_HOST_ADDRESS"]
    for name in internal:
        assert name not in settings.env_example()


@pytest.mark.parametrize("path", sorted(REPO.glob("compose*.yaml")), ids=lambda p: p.name)
def test_every_variable_written_in_a_compose_file_is_in_the_table(path: Path) -> None:
    # Every ${NAME...}, nested defaults included, and every name-only environment entry; the
    # config tier asks the real compose the same (tests/config/test_settings_vs_compose.py).
    text = path.read_text()
    written = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    for block in yaml.safe_load(text).values():
        for service in (block or {}).values() if isinstance(block, dict) else ():
            environment = service.get("environment") if isinstance(service, dict) else None
            if isinstance(environment, list):
                written |= {entry for entry in environment if "=" not in entry}
    known = {s.name for s in SETTINGS} | set(settings.RENAMED)

    assert written - known == set(), f"add a row to scripts/labkit/settings.py for each ({path.name})"
