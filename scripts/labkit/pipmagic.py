"""`%pip` in the lab's notebooks runs the lab's pip guard (labkit.pipguard) instead of pip
directly; loaded by image/ipython/ipython_kernel_config.py."""

from __future__ import annotations

import shlex
import sys

from labkit.i18n import _


def pip_command(line: str) -> str:
    # -P: the notebook's folder is the shell's current folder, and a student's file there
    # must not stand in for a module the guard or pip imports; -s: see labkit.pipguard.
    return shlex.join([sys.executable, "-P", "-s", "-m", "labkit.pipguard", *shlex.split(line)])


def load_ipython_extension(ipython) -> None:
    def pip(line: str) -> None:
        """Run the lab's pip guard: pip, held to the image's package versions."""
        # shell.system streams the output into the notebook, as IPython's own %pip does.
        ipython.system(pip_command(line))
        # Only after an install that happened (IPython keeps the exit status in _exit_code).
        if line.split()[:1] == ["install"] and ipython.user_ns.get("_exit_code") == 0:
            print(_("Note: you may need to restart the kernel to use updated packages."))

    ipython.register_magic_function(pip, "line", "pip")
