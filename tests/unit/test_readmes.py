"""README.md and README.vi.md tell the same path: the same commands and the same points, linked
to each other, and every link on them reaches a page and a heading that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from labkit.verdicts import slug

REPO = Path(__file__).resolve().parents[2]


def commands(readme: str) -> list[str]:
    """Every command in the README's shell blocks, without its comment."""
    text = (REPO / readme).read_text()
    found = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        found += [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    return found


def test_both_readmes_contain_the_same_commands():
    english, vietnamese = commands("README.md"), commands("README.vi.md")
    assert english, "README.md has no commands"
    assert sorted(english) == sorted(vietnamese)


def test_readmes_link_to_each_other_at_the_top():
    assert "(README.vi.md)" in (REPO / "README.md").read_text().split("\n\n")[1]
    assert "(README.md)" in (REPO / "README.vi.md").read_text().split("\n\n")[1]


def test_command_comparison_sees_a_missing_command():
    assert commands("README.md") != [c for c in commands("README.md") if c != "./scripts/test"]


def bullets(readme: str) -> list[str]:
    """The README's list items (outside code blocks), each with its continuation lines."""
    text = re.sub(r"```.*?```", "", (REPO / readme).read_text(), flags=re.DOTALL)
    items: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("- "):
            current = [line[2:]]
            items.append(current)
        elif current is not None and line.startswith("  ") and line.strip():
            current.append(line.strip())
        else:
            current = None
    return [" ".join(item) for item in items]


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def test_vietnamese_readme_makes_every_point_of_the_english_one():
    # A point is a list item; its commands, paths and settings are the same in both languages
    # (the pip packages' item was missing once, and half of the security items' settings).
    english, vietnamese = bullets("README.md"), bullets("README.vi.md")
    assert len(english) > 5
    assert [code_spans(item) for item in vietnamese] == [code_spans(item) for item in english]
    assert [len(re.findall(r"\]\(", item)) for item in vietnamese] == [
        len(re.findall(r"\]\(", item)) for item in english
    ]


def local_links(page: Path) -> list[tuple[str, str]]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    found = re.findall(r"\]\(([^)\s]+)\)", text)
    return [tuple((link.split("#", 1) + [""])[:2]) for link in found if not re.match(r"\w+:", link)]


def headings(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return {slug(heading) for heading in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


@pytest.mark.parametrize(
    "page", ["README.md", "README.vi.md", "docs/troubleshooting.vi.md", "docs/settings.md", "docs/settings.vi.md"]
)
def test_links_reach_a_page_and_a_heading_that_exist(page):
    source = REPO / page
    broken = []
    for path, anchor in local_links(source):
        target = (source.parent / path).resolve() if path else source
        if not target.exists() or (anchor and target.suffix == ".md" and anchor not in headings(target)):
            broken.append(f"{path}#{anchor}" if anchor else path)
    assert broken == []
