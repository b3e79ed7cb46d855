"""`pip` in the lab: students may add packages, never replace one of the image's.

The image sets PIP_CONSTRAINT to a file pinning every package it has (and refusing other
TensorFlow builds), and PYTHONUSERBASE to the cache volume, so installs persist across
restarts. pip itself then refuses an install that would replace a package of the image, but
with a dozen lines of resolver output; this wrapper (the image's `pip`, `pip3` and `pip3.X`
commands, and `%pip` in notebooks through labkit.pipmagic) says the same in one line, and
passes everything else to pip unchanged.

The constraints go on pip's command line too (`--constraint`), so what switches pip's
environment and configuration off (`--isolated`, `PIP_CONSTRAINT=`, a `PIP_CONFIG_FILE`) does
not switch them off: those installs are refused like any other. `python -m pip` runs pip
itself, past this wrapper; its `--isolated` is the one way left to replace a package of the
image, and labkit.shadow then names the copy with the command that removes it.

pip prints its resolver's reasons ("The conflict is caused by: ... The user requested
(constraint) numpy==2.4.6") on stdout and its ERROR lines on stderr, so an install's output is
held back until pip has finished: a refusal is then one line, anything else what pip printed.
tests/unit/fixtures/pip/ holds pip's real output for each refusal (tests/unit/pip_record.py).

`pip uninstall` needs the guard too. pip will not remove anything from the user site while it
runs in a virtual environment ("Not uninstalling ... outside environment", exit 0, nothing
removed: pip's `dist.local` rule), and on a package of the image it tries the read-only copy
and ends in a traceback. So the guard removes a student's own copy itself, from the files its
RECORD lists (what pip would remove), and refuses an image package in one line.

The wrapper runs as `python -P -s -m labkit.pipguard` and pip as `python -P -m pip`: neither
looks in the current folder (a student's `random.py` there would break pip), and the guard
does not load the user site, so `pip uninstall` still works when a package there is broken.
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
# pip's general options that take a value (`pip --log FILE install ...`), so the command
# after them is found. pip's own parser is internal (pip._internal), not an API to build on.
GLOBAL_VALUE_OPTIONS = {
    "--log", "--log-file", "--local-log", "--proxy", "--retries", "--timeout", "--exists-action",
    "--trusted-host", "--cert", "--client-cert", "--cache-dir", "--python", "--use-feature",
    "--use-deprecated", "--keyring-provider",
}  # fmt: skip
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


def split_command(argv: Sequence[str]) -> tuple[list[str], str | None, list[str]]:
    """(pip's general options, the command, what follows it): `pip --isolated install X` is
    an install as much as `pip install --isolated X` is."""
    skip = False
    for index, token in enumerate(argv):
        if skip:
            skip = False
        elif token.startswith("-"):
            skip = token in GLOBAL_VALUE_OPTIONS
        else:
            return list(argv[:index]), token, list(argv[index + 1 :])
    return list(argv), None, []


def requested(argv: Sequence[str]) -> list[tuple[str, str]]:
    """(name, specifier) of each package named on an `install` command line."""
    _options, command, rest = split_command(argv)
    if command != "install":
        return []
    found, skip = [], False
    for token in rest:
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


# pip's resolver names each constraint in its conflict report, on stdout, as the file says it
# ("The user requested (constraint) numpy==2.4.6", "... tensorflow<0"), one per line.
CONSTRAINT_LINE = re.compile(r"^\s*The user requested \(constraint\) ([A-Za-z0-9][A-Za-z0-9._-]*)(\S*)\s*$", re.M)


def image_constraint(name: str, specifier: str, pins: Pins) -> bool:
    """Whether a constraint pip reports is one of the image's (not one the student gave)."""
    if name in pins.refused and specifier == "<0":
        return True
    return name in pins.versions and specifier == f"=={pins.versions[name]}"


def resolver_refusal(output: str, pins: Pins) -> str | None:
    """pip's ResolutionImpossible caused by the image's constraints, as one line. `output` is
    all pip printed, stdout and stderr: the conflict report is on stdout."""
    found = [(canonical(name), specifier) for name, specifier in CONSTRAINT_LINE.findall(output)]
    names = sorted({name for name, specifier in found if image_constraint(name, specifier, pins)})
    if not names:
        return None
    shown = ", ".join(f"{name}=={pins.versions[name]}" for name in names if name in pins.versions)
    return _(REFUSED_BY_RESOLVER).format(
        names=", ".join(names), pins=shown or _("see pip's message"), more=section_link(HEADING)
    )


def uninstall_names(argv: Sequence[str]) -> list[str] | None:
    """The names an `uninstall` command line gives, or None when pip should decide (not an
    uninstall, or a requirements file)."""
    _options, command, rest = split_command(argv)
    if command != "uninstall":
        return None
    names = []
    for token in rest:
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
    return subprocess.run(pip_command(rest), check=False).returncode


def pip_command(argv: Sequence[str], constraints: Path | None = None) -> list[str]:
    """pip itself, never looking in the current folder (-P); an install carries the image's
    constraints on its command line, which neither --isolated nor the environment can drop."""
    constraints = constraints or CONSTRAINTS
    options, command, rest = split_command(argv)
    if command == "install" and constraints.is_file():
        return [sys.executable, "-P", "-m", "pip", *options, command, "--constraint", str(constraints), *rest]
    return [sys.executable, "-P", "-m", "pip", *argv]


def install(argv: Sequence[str], pins: Pins) -> int:
    """Run pip's install with its output held back: a refusal by the image's constraints is
    then one line, and whatever else happened is shown as pip printed it."""
    try:
        done = subprocess.run(pip_command(argv), capture_output=True, text=True, check=False)
    except KeyboardInterrupt:
        return 130
    summary = resolver_refusal(done.stdout + done.stderr, pins) if done.returncode != 0 else None
    if summary:
        print(summary, file=sys.stderr)
    else:
        sys.stdout.write(done.stdout)
        sys.stdout.flush()
        sys.stderr.write(done.stderr)
    return done.returncode


def main(argv: list[str], environ: Mapping[str, str] = os.environ) -> int:
    # The image's own file, whatever PIP_CONSTRAINT says now: it is what the image has.
    pins = read_pins(CONSTRAINTS.read_text()) if CONSTRAINTS.is_file() else Pins({}, frozenset())
    names = uninstall_names(argv)
    if names:
        return uninstall(argv, names, pins, environ)
    line = refusal(argv, pins)
    if line:
        print(line, file=sys.stderr)
        return 1
    if split_command(argv)[1] == "install":
        return install(argv, pins)
    return subprocess.run(pip_command(argv), check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
