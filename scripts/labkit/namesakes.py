"""Files in the work folder named like a module of Python or of the lab image.

Python looks for a module in the folder of the program it runs before anywhere else (a script's
folder, the current folder of `python -m` and `python -c`), and a notebook's kernel looks in
the notebook's folder before the installed packages. So a student's `random.py` is what
`import random` finds in a script started there (and the standard library's `tempfile`, which
imports random, breaks), and a `numpy.py` beside a notebook is what `import numpy` (and
TensorFlow, which imports numpy) gets in it. The lab's own processes never look in the work
folder (they run with -P); this module tells the student, at the lab's start, in the first
notebook and when a kernel starts, which of their files takes a module's name, and how to
rename it.

What counts is what this image has, asked of Python's own import system: a name in
sys.stdlib_module_names that Python would load from a file (builtin and frozen modules, such
as sys, math and os, can never be replaced by a file), and any other top-level module the
image's own path provides (its installed distributions, the lab's own packages). The image's
path is labkit.sitepaths': without the user site, the current folder or what a .pth file adds.
"""

from __future__ import annotations

import os
import pkgutil
import re
import shlex
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from importlib import machinery, metadata
from pathlib import Path

from labkit import sitepaths
from labkit.i18n import N_, _

WORK = Path("/home/lab/work")
# Folders a walk of the work folder never enters: Python's and Jupyter's own, hidden ones.
SKIPPED_FOLDERS = frozenset({"__pycache__", "site-packages", "node_modules"})
# A work folder holding a dataset can have tens of thousands of folders: the walk stops here.
MAX_FOLDERS = 2000

STDLIB_LINE = N_(
    "{path} has the name of Python's standard module {module}: a Python program started in that folder "
    "imports your file instead of Python's. Fix: rename it (in a lab terminal: {command})"
)
IMAGE_LINE = N_(
    "{path} has the name of {module}, a package of the lab image{package}: `import {module}` in that folder "
    "gets your file instead, and TensorFlow can fail. Fix: rename it (in a lab terminal: {command})"
)


class Kind(str, Enum):
    STDLIB = "stdlib"  # a module of Python's standard library
    IMAGE = "image"  # a module the image's packages (or the lab's own) provide


@dataclass(frozen=True)
class Namesake:
    module: str  # the name it takes: random, numpy
    path: str  # the student's file or package folder, as shown (relative to the work folder)
    kind: Kind
    package: str = ""  # the image's distribution(s) providing the module, for the message

    @property
    def renamed(self) -> str:
        """A name that takes no module's place: my_ in front of the module's name."""
        parent, _sep, leaf = self.path.rstrip("/").rpartition("/")
        return f"{parent}/my_{leaf}" if parent else f"my_{leaf}"

    @property
    def command(self) -> str:
        """The rename, as typed in a lab terminal (it starts in the work folder)."""
        return shlex.join(["mv", self.path.rstrip("/"), self.renamed])

    def line(self) -> str:
        if self.kind is Kind.STDLIB:
            return _(STDLIB_LINE).format(path=self.path, module=self.module, command=self.command)
        package = f" ({self.package})" if self.package and self.package.lower() != self.module.lower() else ""
        return _(IMAGE_LINE).format(path=self.path, module=self.module, package=package, command=self.command)

    def warning(self) -> str:
        return _("WARNING: {line}").format(line=self.line())


def find(
    modules: Mapping[str, str],
    image_modules: Iterable[str],
    *,
    stdlib: Iterable[str],
    packages: Mapping[str, Sequence[str]] | None = None,
) -> list[Namesake]:
    """Pure: which of a folder's modules (name -> path as shown) take the name of a module the
    image provides (`image_modules`: every name its path can load from a file or folder)."""
    stdlib, provided, packages = frozenset(stdlib), frozenset(image_modules), packages or {}
    found = []
    for name, path in sorted(modules.items()):
        if name not in provided:
            continue
        kind = Kind.STDLIB if name in stdlib else Kind.IMAGE
        # Distribution names as pip lists them: some wheels write tensorflow_cpu for tensorflow-cpu.
        names = {re.sub(r"[-_.]+", "-", dist) for dist in packages.get(name, ())} if kind is Kind.IMAGE else ()
        package = ", ".join(sorted(names))
        found.append(Namesake(name, path, kind, package))
    return found


def modules_in(folder: Path, shown_as: str = "") -> dict[str, str]:
    """The top-level modules Python can import from `folder`: name -> path as shown
    (`shown_as` before the file's name; a package is its folder, with a slash)."""
    found = {}
    for module in pkgutil.iter_modules([str(folder)]):
        if module.ispkg:
            found[module.name] = f"{shown_as}{module.name}/"
            continue
        spec = machinery.PathFinder.find_spec(module.name, [str(folder)])
        if spec is not None and spec.origin:
            found[module.name] = shown_as + os.path.basename(spec.origin)
    return found


def stdlib_names() -> frozenset[str]:
    # The interpreter's own list (Python 3.10+; the image's Python is 3.11 or newer, which
    # image/install-lab-layer.sh checks).
    return frozenset(sys.stdlib_module_names)  # novermin


def replaceable(name: str, image_path: Sequence[str]) -> bool:
    """A module of the image that a file can take the place of: not builtin or frozen (those
    come before any folder), and found on the image's own path (a namespace package counts:
    a plain module of the same name comes first)."""
    if machinery.BuiltinImporter.find_spec(name) or machinery.FrozenImporter.find_spec(name):
        return False
    return machinery.PathFinder.find_spec(name, list(image_path)) is not None


def scan(folders: Iterable[tuple[Path, str]], image_path: Sequence[str] | None = None) -> list[Namesake]:
    """Each (folder, shown as) pair's namesakes; the image's path from labkit.sitepaths."""
    folders = list(folders)
    listed = [modules_in(folder, shown_as) for folder, shown_as in folders]
    # This process's path holds the image's (and maybe more): a name it cannot find anywhere
    # is the student's own, and most folders have only such names, so the child Python that
    # gives the image's exact path is started only when one is left.
    scanned = {"", os.getcwd(), *(str(folder) for folder, _shown in folders)}
    wider = [folder for folder in sys.path if folder not in scanned]
    names = {name for found in listed for name in found if replaceable(name, wider)}
    if not names:
        return []
    image_path = image_path if image_path is not None else sitepaths.read().image
    image_modules = {name for name in names if replaceable(name, image_path)}
    # Which distribution provides each module, only to name it (Python 3.10+, as above).
    packages = metadata.packages_distributions() if image_modules - stdlib_names() else {}  # novermin
    found = []
    for folder_modules in listed:
        modules = {name: path for name, path in folder_modules.items() if name in image_modules}
        found += find(modules, image_modules, stdlib=stdlib_names(), packages=packages)
    return found


def folders_below(root: Path, *, limit: int = MAX_FOLDERS) -> list[tuple[Path, str]]:
    """`root` and the folders below it (not hidden ones, nor Python's own), each with the
    prefix its files are shown with ("" for root, "course/" below it)."""
    found = []
    for current, dirs, _files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        relative = os.path.relpath(current, root)
        found.append((Path(current), "" if relative == "." else relative.replace(os.sep, "/") + "/"))
        if len(found) >= limit:
            break
    return found


def shown_prefix(folder: Path, root: Path = WORK) -> str:
    """How a folder's files are named to the student: relative to the work folder, where a
    lab terminal starts, or the full path outside it."""
    try:
        relative = folder.resolve().relative_to(root.resolve())
    except ValueError:
        return f"{folder}/"
    return "" if str(relative) == "." else f"{relative.as_posix()}/"


def check_work(root: Path = WORK, image_path: Sequence[str] | None = None) -> list[Namesake]:
    return scan(folders_below(root), image_path) if root.is_dir() else []


def show(root: Path = WORK) -> None:
    """For the first notebook: every namesake in the work folder, or that there is none."""
    found = check_work(root)
    for namesake in found:
        print(namesake.warning())
    if not found:
        print(_("OK: no file in your work folder has the name of a module of Python or of the lab image."))


def load_ipython_extension(shell) -> None:
    """At a kernel's start: its own folder (the notebook's, where its imports look first).
    Said in the first cell the student runs, as labkit.kernel_notes does."""
    folder = Path.cwd()
    found = scan([(folder, shown_prefix(folder))])
    if not found:
        return

    def show_once(*_args) -> None:
        shell.events.unregister("pre_run_cell", show_once)
        for namesake in found:
            print(namesake.warning(), file=sys.stderr, flush=True)

    shell.events.register("pre_run_cell", show_once)
