"""Find students' own installs that shadow a package of the image.

Packages a student installs live in the user site on the cache volume (PYTHONUSERBASE), which
Python puts before the image's own on sys.path. The pip guard keeps new installs from
replacing the image's packages, but a copy installed before (an older image, or `python -m
pip` with the guard bypassed) still wins every import: numpy 1.26 over the image's numpy 2,
or PyPI's CPU TensorFlow over the vendor's GPU build. The GPU check and the first notebook
call this and say how to undo it.
"""

from __future__ import annotations

import site
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from labkit import pipguard
from labkit.i18n import N_, _

FIX = N_("pip uninstall -y {name}   (in a lab terminal; it removes only your copy)")


@dataclass(frozen=True)
class Shadow:
    name: str
    yours: str  # the version in the user site
    image: str  # what the image has instead
    where: str

    def line(self) -> str:
        """In the student's language; the heading of its troubleshooting section is this line's
        shape with NAME VERSION in place of the packages."""
        return _("your own {name} {yours} (in {where}) shadows the image's {image}. Fix: {fix}").format(
            name=self.name, yours=self.yours, where=self.where, image=self.image, fix=_(FIX).format(name=self.name)
        )

    def warning(self) -> str:
        return _("WARNING: {line}").format(line=self.line())


def find(user_dists: Mapping[str, str], pins: pipguard.Pins, where: str) -> list[Shadow]:
    """Pure: which user-site distributions shadow a package of the image."""
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


def check(constraints: Path = pipguard.CONSTRAINTS) -> list[Shadow]:
    if not constraints.is_file():
        return []
    user_site = site.getusersitepackages()
    folders = [user_site] if isinstance(user_site, str) else list(user_site)
    pins = pipguard.read_pins(constraints.read_text())
    return find(distributions_in(folders), pins, folders[0] if folders else _("the user site"))


def show() -> None:
    """For the first notebook: one line per shadowed package, or that there is none."""
    found = check()
    for shadow in found:
        print(shadow.warning())
    if not found:
        print(_("OK: none of your own pip installs hides a package of the lab image."))
