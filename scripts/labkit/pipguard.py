"""`pip` in the lab: students may add packages, never replace one of the image's.

The image sets PIP_CONSTRAINT to a file pinning every package it has (and refusing other
TensorFlow builds), and PYTHONUSERBASE to the cache volume, so installs persist across
restarts. pip itself then refuses an install that would replace a package of the image, but
with a dozen lines of resolver output; this wrapper (the image's `pip`/`pip3` commands, and
`%pip` in notebooks through labkit.pipmagic) says the same in one line, and passes
everything else to pip unchanged.

`pip uninstall` needs the guard too. pip will not remove anything from the user site while it
runs in a virtual environment ("Not uninstalling ... outside environment", exit 0, nothing
removed: pip's `dist.local` rule), and on a package of the image it tries the read-only copy
and ends in a traceback. So the guard removes a student's own copy itself, from the files its
RECORD lists (what pip would remove), and refuses an image package in one line.
"""

from __future__ import annotations

import os
import re
import site
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from labkit.i18n import N_, _
from labkit.verdicts import section_link

CONSTRAINTS = Path("/opt/lab-venv/constraints.txt")
# The troubleshooting heading every refusal links to ({more}: the section on the page in the
# student's language, see section_link). The lines are catalogue keys, translated where shown.
HEADING = N_("pip refuses to replace a package of the lab image")
REFUSED_REPLACE = N_(
    "pip: {name} {have} is part of the lab image and cannot be replaced here (asked for {asked}). "
    "Fix: keep the image's version (pip install without a version), or ask your instructor for a class "
    "image with the other one. More: {more}"
)
REFUSED_BUILD = N_(
    "pip: {name} would hide the image's TensorFlow ({have}) behind another build and lose the GPU. "
    "Fix: use the TensorFlow that is already there (import tensorflow). More: {more}"
)
REFUSED_BY_RESOLVER = N_(
    "pip: installing this would replace {names} of the lab image, so nothing was installed. "
    "Fix: choose a version that works with the image's ({pins}). More: {more}"
)
REFUSED_REMOVE = N_(
    "pip: {name} {have} is part of the lab image and cannot be removed; nothing was changed. "
    "Fix: nothing to do (only your own installs can be removed). More: {more}"
)
REMOVED = N_("pip: removed your own {name} {version} from {where}{after}")
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
        return _("the image's build")


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
            return _(REFUSED_BUILD).format(name=name, have=pins.tensorflow, more=section_link(HEADING))
        have = pins.versions.get(name)
        if have is not None and not satisfied(specifier, have):
            asked = f"{name}{specifier}"
            return _(REFUSED_REPLACE).format(name=name, have=have, asked=asked, more=section_link(HEADING))
    return None


def resolver_refusal(stderr: str, pins: Pins) -> str | None:
    """pip's ResolutionImpossible caused by our constraints, as one line."""
    names = re.findall(r"The user requested \(constraint\) ([A-Za-z0-9._-]+)", stderr)
    if not names:
        return None
    names = sorted({canonical(name) for name in names})
    shown = ", ".join(f"{name}=={pins.versions[name]}" for name in names if name in pins.versions)
    return _(REFUSED_BY_RESOLVER).format(
        names=", ".join(names), pins=shown or _("see pip's message"), more=section_link(HEADING)
    )


def uninstall_names(argv: Sequence[str]) -> list[str] | None:
    """The names an `uninstall` command line gives, or None when pip should decide (not an
    uninstall, or a requirements file)."""
    if not argv or argv[0] != "uninstall":
        return None
    names = []
    for token in argv[1:]:
        if token.startswith(("-r", "--requirement")):
            return None
        if not token.startswith("-"):
            names.append(canonical(token))
    return names


@dataclass(frozen=True)
class Removal:
    name: str
    yours: str | None  # the version in the user site, if there is one
    image: str | None  # the image's version, if it has this package

    def line(self, where: str) -> str:
        if self.yours is None:
            return _(REFUSED_REMOVE).format(name=self.name, have=self.image, more=section_link(HEADING))
        after = (
            _("; the image's {name} {version} is used again").format(name=self.name, version=self.image)
            if self.image
            else ""
        )
        return _(REMOVED).format(name=self.name, version=self.yours, where=where, after=after)


def removals(names: Sequence[str], user_dists: Mapping[str, str], pins: Pins) -> list[Removal]:
    """Pure: what `pip uninstall NAMES` does here. A student's own copy goes; a package only the
    image has is refused; anything else is left to pip (not listed)."""
    found = []
    for name in names:
        if name in user_dists:
            found.append(Removal(name, user_dists[name], pins.versions.get(name)))
        elif name in pins.versions:
            found.append(Removal(name, None, pins.versions[name]))
    return found


def user_site() -> Path:
    folder = site.getusersitepackages()
    return Path(folder if isinstance(folder, str) else folder[0])


def user_distributions(folder: Path) -> dict[str, metadata.Distribution]:
    if not folder.is_dir():
        return {}
    return {canonical(dist.metadata["Name"]): dist for dist in metadata.distributions(path=[str(folder)])}


def remove_distribution(dist: metadata.Distribution, user_base: Path) -> None:
    """Remove the files a distribution's RECORD lists (as pip does), never outside the user
    base, then the folders that are left empty."""
    folders = set()
    for entry in dist.files or []:
        path = Path(os.path.normpath(dist.locate_file(entry)))
        if user_base not in path.parents:
            continue
        path.unlink(missing_ok=True)
        if path.suffix == ".py":
            for compiled in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
                compiled.unlink(missing_ok=True)
        folders.add(path.parent)
    # The user site and bin folders stay, as pip leaves them.
    keep = {user_base, user_base / "bin", Path(os.path.normpath(dist.locate_file("")))}
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        for candidate in (folder / "__pycache__", folder):
            while candidate not in keep and user_base in candidate.parents and candidate.is_dir():
                if any(candidate.iterdir()):
                    break
                candidate.rmdir()
                candidate = candidate.parent


def uninstall(argv: Sequence[str], names: Sequence[str], pins: Pins, environ: Mapping[str, str]) -> int:
    folder = user_site()
    dists = user_distributions(folder)
    planned = removals(names, {name: dist.version for name, dist in dists.items()}, pins)
    refused = [removal for removal in planned if removal.yours is None]
    for removal in refused:
        print(removal.line(str(folder)), file=sys.stderr)
    if refused:
        return 1
    user_base = Path(environ.get("PYTHONUSERBASE") or site.getuserbase())
    for removal in planned:
        remove_distribution(dists[removal.name], user_base)
        print(removal.line(str(folder)))
    done = {removal.name for removal in planned}
    if not set(names) - done:
        return 0
    rest = [token for token in argv if token.startswith("-") or canonical(token) not in done]
    return subprocess.run([sys.executable, "-m", "pip", *rest], check=False).returncode


def main(argv: list[str], environ: Mapping[str, str] = os.environ) -> int:
    path = Path(environ.get("PIP_CONSTRAINT") or CONSTRAINTS)
    pins = read_pins(path.read_text()) if path.is_file() else Pins({}, frozenset())
    names = uninstall_names(argv)
    if names:
        return uninstall(argv, names, pins, environ)
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
