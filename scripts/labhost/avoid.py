"""The "tags to avoid" list in docs/instructors.md, as data the release check consults.

Instructors keep the list where they read it: bullet lines under the heading
`## Tags to avoid`, each starting with the avoided thing in backticks, either a base image
reference (`rocm/tensorflow:...`) or an installed TensorFlow distribution (`tensorflow-rocm==2.14.0.600`),
then the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADING = "## Tags to avoid"
ITEM = re.compile(r"^[-*]\s+`([^`]+)`\s*[:\-—–]*\s*(.*)$")


@dataclass(frozen=True)
class Avoided:
    what: str  # an image reference, or name==version of a distribution
    reason: str

    @property
    def is_distribution(self) -> bool:
        return "==" in self.what


def parse(markdown: str) -> list[Avoided]:
    found, inside = [], False
    for line in markdown.splitlines():
        if line.startswith("## "):
            inside = line.strip() == HEADING
            continue
        match = ITEM.match(line.strip()) if inside else None
        if match:
            found.append(Avoided(match.group(1).strip(), match.group(2).strip()))
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def hits(avoided: list[Avoided], *, base: str, distributions: dict[str, str]) -> list[Avoided]:
    """Which entries this release would ship: its base reference, or a distribution in it."""
    found = []
    for item in avoided:
        if item.is_distribution:
            name, version = item.what.split("==", 1)
            if distributions.get(canonical(name)) == version.strip():
                found.append(item)
        elif base == item.what or base.split("@", 1)[0] == item.what:
            found.append(item)
    return found
