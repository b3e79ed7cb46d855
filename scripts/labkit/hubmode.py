"""Hub mode: the lab image as a JupyterHub single-user server (`python -m labkit hub`).

A hub's spawner (DockerSpawner, KubeSpawner) starts the image with the command `hub` and
JUPYTERHUB_* variables; the entrypoint runs the same settings check, course sync and GPU gate
as the laptop lab, then execs jupyterhub-singleuser with the same crash-safe saves. The hub
tells the server its address and port (JUPYTERHUB_SERVICE_URL; spawners use 8888, the
port the image EXPOSEs), its base URL and its login, so no token or port is set here.

What a hub's server serves to anyone, without a login, must not be the student's: JupyterLab
serves lab extensions (/lab/extensions/..., and themes from them) from every folder of
jupyter_path("labextensions"), which includes ~/.local/share/jupyter and the pip --user
folder. A page a student put there was served as active HTML to whoever opened the link, in
the hub's origin before the hub gave each student their own. In hub mode JupyterLab loads
extensions only from folders the student cannot change (the image's). Everything else a
student's files reach goes through JupyterLab's own sandbox (/files/, nbconvert: a
`sandbox` Content-Security-Policy) or needs the student's own login. Written for JupyterLab
4.6 (jupyterlab_server 2.28: jupyter_server's FileFindHandler, allow_unauthenticated, over
every labextensions folder); it can go when JupyterLab no longer serves extensions from a
user's own folders to anyone, though each student's own origin already protects the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

# Every spawner sets these (jupyterhub Spawner.get_env); without them jupyterhub-singleuser
# fails with a long traceback, so the entrypoint says it in one line instead.
REQUIRED_FROM_HUB = ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL", "JUPYTERHUB_SERVICE_URL")

NOT_STARTED_BY_A_HUB = (
    "hub mode needs the JUPYTERHUB_* settings a JupyterHub spawner gives its servers (missing: {missing}). "
    "Fix: start the image from a hub (deploy/README.md), or use `lab` on a laptop."
)


def missing_hub_settings(env: Mapping[str, str]) -> list[str]:
    return [name for name in REQUIRED_FROM_HUB if not env.get(name)]


def changeable_by_user(path: Path, *, writable: Callable[[Path], bool], exists: Callable[[Path], bool]) -> bool:
    """True when the server's user could put files at `path`: it, or any folder above it that
    exists, is writable (a missing folder can be created, a writable parent's entry replaced)."""
    return any(writable(folder) for folder in (path, *path.parents) if exists(folder))


def split_extension_paths(
    paths: Iterable[str], *, writable: Callable[[Path], bool], exists: Callable[[Path], bool]
) -> tuple[list[str], list[str]]:
    """(folders lab extensions may come from, folders the student could change)."""
    kept, ignored = [], []
    for path in paths:
        (ignored if changeable_by_user(Path(path), writable=writable, exists=exists) else kept).append(path)
    return kept, ignored


def singleuser_command(*, python: str, work: Path, args: list[str], extension_paths: list[str]) -> list[str]:
    return [
        str(Path(python).with_name("jupyterhub-singleuser")),
        f"--ServerApp.root_dir={work}",
        # Saves replace the file in one step, as in the laptop lab (labkit.contents).
        "--ServerApp.contents_manager_class=labkit.contents.ReplacingFileManager",
        # On the command line, so no config file in the student's ~/.jupyter sets them back.
        f"--LabApp.labextensions_path={json.dumps(extension_paths)}",
        "--LabApp.extra_labextensions_path=[]",
        *args,
    ]
