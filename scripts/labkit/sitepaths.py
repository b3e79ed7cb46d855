"""Which folders on Python's path are the image's own, and which a student's installs added.

Python puts the user site (PYTHONUSERBASE, on the cache volume: students' `pip install`s)
on sys.path at every start, and runs each `.pth` file in it: a line naming a folder adds that
folder, a line starting with `import` runs code that may put a folder anywhere, even before
the standard library. Either way a folder no one sees in `pip list` can hide a package of the
image. To tell those folders apart from the image's own:

    python -s -P -m labkit.sitepaths

runs without the user site (-s) and without the current folder (-P), so its sys.path is the
image's own path; it then processes each `.pth` file of the user site the way `site` does at
every start (site.addpackage, one file at a time) and prints, as JSON, the image's path and
the folders each `.pth` file added. A child process, so the code those files run never runs
in the lab's own process.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class SitePaths:
    image: tuple[str, ...]  # sys.path of a Python that sees neither the user site nor a cwd
    user_site: str
    # Each .pth file of the user site -> the folders it puts on sys.path, in site's order.
    added: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def foreign_folders(self) -> list[tuple[str, str | None]]:
        """(folder, the .pth file that put it there, or None for the user site itself): every
        folder a student's Python sees that the image does not have, in the order `site`
        adds them, all of them before the image's own site-packages."""
        found: list[tuple[str, str | None]] = [(self.user_site, None)]
        for pth, folders in self.added.items():
            found += [(folder, pth) for folder in folders if folder not in self.image]
        return found


def report() -> dict:
    """Run with -s -P (see the module's docstring); the user site's .pth files run here."""
    image = list(sys.path)
    user_site = site.getusersitepackages()
    added: dict[str, list[str]] = {}
    try:
        names = sorted(name for name in os.listdir(user_site) if name.endswith(".pth"))
    except OSError:
        names = []
    for name in names:  # site sorts them the same way (site.addsitedir)
        before = list(sys.path)
        site.addpackage(user_site, name, None)
        added[os.path.join(user_site, name)] = [folder for folder in sys.path if folder not in before]
    return {"image": image, "user_site": user_site, "added": added}


def parse(text: str) -> SitePaths:
    data = json.loads(text.strip().splitlines()[-1])
    return SitePaths(
        image=tuple(data["image"]),
        user_site=data["user_site"],
        added={pth: tuple(folders) for pth, folders in data["added"].items()},
    )


def fallback() -> SitePaths:
    """Without the child's answer: this process's path, less the user site and the cwd."""
    user_site = site.getusersitepackages()
    image = tuple(folder for folder in sys.path if folder not in ("", os.getcwd(), user_site))
    return SitePaths(image=image, user_site=user_site)


def read(python: str = sys.executable) -> SitePaths:
    try:
        done = subprocess.run(
            [python, "-s", "-P", "-m", "labkit.sitepaths"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=True,
        )
        return parse(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, IndexError):
        return fallback()


if __name__ == "__main__":
    # A .pth line may print; the JSON goes on its own last line.
    sys.stdout.write("\n" + json.dumps(report()) + "\n")
