"""Reading the READMEs' sample output, for the tests that compare it with what the lab prints."""

from __future__ import annotations

import re
from pathlib import Path


def sample_output(readme: Path) -> list[str]:
    """The README's block under "What you should see", without compose's `lab-1  | ` prefix."""
    text = readme.read_text()
    block = re.search(r"```\n(lab-1 +\| .*?)```", text, re.DOTALL)
    assert block, f"{readme.name} has no sample lab output"
    return [line.split("| ", 1)[1] for line in block.group(1).splitlines()]


def matches_in_order(sample: list[str], printed: list[str]) -> list[str]:
    """The sample lines that are not found, in order, in what was printed ('...' = any text)."""
    missing, position = [], 0
    for line in sample:
        pattern = re.compile("^" + ".*".join(re.escape(part) for part in line.split("...")) + "$")
        found = next((i for i in range(position, len(printed)) if pattern.match(printed[i])), None)
        if found is None:
            missing.append(line)
        else:
            position = found + 1
    return missing
