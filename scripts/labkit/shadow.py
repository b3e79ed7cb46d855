"""Find students' own installs that shadow a package of the image.

Packages a student installs live in the user site on the cache volume (PYTHONUSERBASE), which
Python puts before the image's own on sys.path, with every folder that a `.pth` file there
adds (labkit.sitepaths). The pip guard keeps new installs from replacing the image's packages,
but a copy installed past it (an older image, `python -m pip --isolated`, a package whose
`.pth` file puts another folder on the path) still wins every import: numpy 1.26 over the
image's numpy 2, or PyPI's CPU TensorFlow over the vendor's GPU build. The GPU check and the
first notebook call this and say, for each copy, the one command that removes it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

from labkit import pipguard, sitepaths
from labkit.i18n import N_, _

FIX = N_("pip uninstall -y {name}   (in a lab terminal; it removes only your copy)")
# A copy in a folder that a .pth file of the user site puts on Python's path: removing that
# file takes the folder off the path. The package that installed it removes it with its files.
FIX_PTH_OWNED = N_(
    "pip uninstall -y {owner}   (in a lab terminal; it removes {pth}, the file that puts that folder on Python's path)"
)
FIX_PTH_LOOSE = N_("rm {pth}   (in a lab terminal; that file puts the folder on Python's path)")


@dataclass(frozen=True)
class Shadow:
    name: str
    yours: str  # the version of the student's copy
    image: str  # what the image has instead
    where: str  # the folder the copy is in
    pth: str | None = None  # the .pth file that put `where` on the path (None: the user site)
    owner: str | None = None  # the user-site package that installed that .pth file

    @property
    def command(self) -> str:
        """The one command that removes this copy from Python's path."""
        return f"pip uninstall -y {self.name}" if self.pth is None else pth_removal(self.pth, self.owner)

    def fix(self) -> str:
        if self.pth is None:
            return _(FIX).format(name=self.name)
        if self.owner:
            return _(FIX_PTH_OWNED).format(owner=self.owner, pth=self.pth)
        return _(FIX_PTH_LOOSE).format(pth=self.pth)

    def line(self) -> str:
        """In the student's language; the heading of its troubleshooting section is this line's
        shape with NAME VERSION in place of the packages."""
        return _("your own {name} {yours} (in {where}) shadows the image's {image}. Fix: {fix}").format(
            name=self.name, yours=self.yours, where=self.where, image=self.image, fix=self.fix()
        )

    def warning(self) -> str:
        return _("WARNING: {line}").format(line=self.line())


def pth_removal(pth: str, owner: str | None) -> str:
    """The command that takes a .pth file, and the folder it adds, off Python's path: the lab's
    `pip uninstall` of the package that installed it (it removes the files its RECORD lists),
    else the file itself."""
    return f"pip uninstall -y {owner}" if owner else f"rm {pth}"


def find(user_dists: Mapping[str, str], pins: pipguard.Pins, where: str) -> list[Shadow]:
    """Pure: which distributions of one of the student's folders shadow a package of the image."""
    found = []
    for name, version in sorted(user_dists.items()):
        if name in pins.versions:
            found.append(Shadow(name, version, f"{name} {pins.versions[name]}", where))
        elif name in pins.refused:
            found.append(Shadow(name, version, f"TensorFlow ({pins.tensorflow})", where))
    return found


def distributions_in(folders: Iterable[str]) -> dict[str, str]:
    existing = [folder for folder in folders if Path(folder).is_dir()]
    if not existing:
        return {}
    return {pipguard.canonical(d.metadata["Name"]): d.version for d in metadata.distributions(path=existing)}


def pth_owners(user_site: str) -> dict[str, str]:
    """.pth file (normalised path) -> the user-site package whose RECORD lists it."""
    if not Path(user_site).is_dir():
        return {}
    owners = {}
    for dist in metadata.distributions(path=[user_site]):
        for entry in dist.files or []:
            if entry.name.endswith(".pth"):
                owners[os.path.normpath(dist.locate_file(entry))] = pipguard.canonical(dist.metadata["Name"])
    return owners


def check(constraints: Path = pipguard.CONSTRAINTS, paths: sitepaths.SitePaths | None = None) -> list[Shadow]:
    if not constraints.is_file():
        return []
    pins = pipguard.read_pins(constraints.read_text())
    paths = paths or sitepaths.read()
    owners = pth_owners(paths.user_site)
    found = []
    for folder, pth in paths.foreign_folders():
        owner = owners.get(os.path.normpath(pth)) if pth else None
        found += [replace(item, pth=pth, owner=owner) for item in find(distributions_in([folder]), pins, folder)]
    return found


def show() -> None:
    """For the first notebook: one line per shadowed package, or that there is none."""
    found = check()
    for shadow in found:
        print(shadow.warning())
    if not found:
        print(_("OK: none of your own pip installs hides a package of the lab image."))
