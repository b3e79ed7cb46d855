"""Hub mode: the lab image as a JupyterHub single-user server (`python -m labkit hub`).

A hub's spawner (DockerSpawner, KubeSpawner) starts the image with the command `hub` and
JUPYTERHUB_* variables; the entrypoint runs the same settings check, course sync and GPU gate
as the laptop lab, then execs jupyterhub-singleuser with the same crash-safe saves. The hub
tells the server its address and port (JUPYTERHUB_SERVICE_URL; spawners use 8888, the
port the image EXPOSEs), its base URL and its login, so no token or port is set here.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def singleuser_command(*, python: str, work: Path, args: list[str]) -> list[str]:
    return [
        str(Path(python).with_name("jupyterhub-singleuser")),
        f"--ServerApp.root_dir={work}",
        # Saves replace the file in one step, as in the laptop lab (labkit.contents).
        "--ServerApp.contents_manager_class=labkit.contents.ReplacingFileManager",
        *args,
    ]
