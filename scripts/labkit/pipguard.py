"""`pip` in the lab: students may add packages, never replace one of the image's.

The image sets PIP_CONSTRAINT to a file pinning every package it has (and refusing other
TensorFlow builds), and PYTHONUSERBASE to the cache volume, so installs persist across
restarts. pip itself then refuses an install that would replace a package of the image, but
with a dozen lines of resolver output; this wrapper (the image's `pip`/`pip3` commands, and
`%pip` in notebooks through labkit.pipmagic) says the same in one line, and passes
everything else to pip unchanged.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

CONSTRAINTS = Path("/opt/lab-venv/constraints.txt")
MORE = "docs/troubleshooting.md#pip-refuses-to-replace-a-package-of-the-lab-image"
REFUSED_REPLACE = (
    "pip: {name} {have} is part of the lab image and cannot be replaced here (asked for {asked}). "
    "Fix: keep the image's version (pip install without a version), or ask your instructor for a class "
    "image with the other one. More: " + MORE
)
REFUSED_BUILD = (
    "pip: {name} would hide the image's TensorFlow ({have}) behind another build and lose the GPU. "
    "Fix: use the TensorFlow that is already there (import tensorflow). More: " + MORE
)
REFUSED_BY_RESOLVER = (
    "pip: installing this would replace {names} of the lab image, so nothing was installed. "
    "Fix: choose a version that works with the image's ({pins}). More: " + MORE
)
# Options of `pip install` that take a value, so that value is not read as a package name.
VALUE_OPTIONS = {
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "--prefix", "--root", "--platform", "--python-version",
    "--implementation", "--abi", "--src", "--upgrade-strategy", "--progress-bar", "--trusted-host",
    "--proxy", "--timeout", "--cache-dir", "--log", "--report", "--only-binary", "--no-binary",
}  # fmt: skip
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pins:
    versions: Mapping[str, str]  # name -> the image's version
    refused: frozenset[str]  # names no version of which may be installed

    @property
    def tensorflow(self) -> str:
        for name, version in self.versions.items():
            if name.startswith(("tensorflow", "tf-nightly", "intel-tensorflow")):
                return f"{name} {version}"
        return "the image's build"


def read_pins(text: str) -> Pins:
    versions, refused = {}, set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            versions[canonical(name)] = version.strip()
        elif line.endswith("<0"):
            refused.add(canonical(line[:-2]))
    return Pins(versions, frozenset(refused))


def requested(argv: Sequence[str]) -> list[tuple[str, str]]:
    """(name, specifier) of each package named on an `install` command line."""
    if not argv or argv[0] != "install":
        return []
    found, skip = [], False
    for token in argv[1:]:
        if skip:
            skip = False
            continue
        if token.startswith("-"):
            skip = token in VALUE_OPTIONS
            continue
        if "/" in token or token.startswith("."):
            continue  # a path or URL: pip decides, the constraints still hold
        match = REQUIREMENT.match(token)
        if match:
            found.append((canonical(match.group(1)), match.group(3).strip()))
    return found


def satisfied(specifier: str, version: str) -> bool:
    if not specifier:
        return True
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(specifier).contains(version, prereleases=True)
    except InvalidSpecifier:
        return True  # pip will say what is wrong with it


def refusal(argv: Sequence[str], pins: Pins) -> str | None:
    """The one line refusing this command before pip runs, or None to let pip run."""
    for name, specifier in requested(argv):
        if name in pins.refused:
            return REFUSED_BUILD.format(name=name, have=pins.tensorflow)
        have = pins.versions.get(name)
        if have is not None and not satisfied(specifier, have):
            return REFUSED_REPLACE.format(name=name, have=have, asked=f"{name}{specifier}")
    return None


def resolver_refusal(stderr: str, pins: Pins) -> str | None:
    """pip's ResolutionImpossible caused by our constraints, as one line."""
    names = re.findall(r"The user requested \(constraint\) ([A-Za-z0-9._-]+)", stderr)
    if not names:
        return None
    names = sorted({canonical(name) for name in names})
    shown = ", ".join(f"{name}=={pins.versions[name]}" for name in names if name in pins.versions)
    return REFUSED_BY_RESOLVER.format(names=", ".join(names), pins=shown or "see pip's message")


def main(argv: list[str], environ: Mapping[str, str] = os.environ) -> int:
    path = Path(environ.get("PIP_CONSTRAINT") or CONSTRAINTS)
    pins = read_pins(path.read_text()) if path.is_file() else Pins({}, frozenset())
    line = refusal(argv, pins)
    if line:
        print(line, file=sys.stderr)
        return 1
    done = subprocess.run([sys.executable, "-m", "pip", *argv], stderr=subprocess.PIPE, text=True, check=False)
    summary = resolver_refusal(done.stderr, pins) if done.returncode != 0 else None
    sys.stderr.write(summary + "\n" if summary else done.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
