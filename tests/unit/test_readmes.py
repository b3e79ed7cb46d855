"""README.md and README.vi.md tell the same path: the same commands, linked to each other."""

from __future__ import annotations

import re
from pathlib import Path

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
