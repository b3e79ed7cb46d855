"""The class hub: JupyterHub + DockerSpawner running the course's pinned lab image.

Everything a department changes is a HUB_* variable (deploy/.env.example); the logic lives in
the courselab_hub package beside this file. Local additions (OAuth, TLS details, a logo) go
in *.py files mounted into /srv/jupyterhub/config.d, loaded last, in name order.
"""

import os
import sys
from pathlib import Path

from courselab_hub import settings as hub_settings
from courselab_hub.ledger import GpuLedger
from courselab_hub.plan import WORK_MOUNT, work_volume

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

try:
    s = hub_settings.from_env(os.environ)
except hub_settings.SettingsError as error:
    for problem in error.problems:
        print(f"[hub] ERROR in deploy/.env: {problem.line()}", file=sys.stderr, flush=True)
    print("[hub] The hub did not start. Edit deploy/.env and start again.", file=sys.stderr, flush=True)
    sys.exit(2)

DATA = Path("/srv/jupyterhub/data")  # a named volume: accounts survive hub upgrades

# --- The hub and its proxy (configurable-http-proxy, started by JupyterHub in this container)
c.JupyterHub.bind_url = "http://:8000"
# Inside the container: students' servers reach the hub API over the hub network; what the
# host exposes is only the published port (HUB_BIND_ADDRESS).
c.JupyterHub.hub_ip = "0.0.0.0"  # noqa: S104
c.JupyterHub.hub_connect_ip = s.hub_host
c.JupyterHub.db_url = f"sqlite:///{DATA / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(DATA / "jupyterhub_cookie_secret")
# Students' servers keep running while the hub restarts or is upgraded.
c.JupyterHub.cleanup_servers = False

# --- Accounts: NativeAuthenticator. Students sign up at /hub/signup; an instructor (an admin)
# authorizes each one at /hub/authorize. Admins are authorized when they sign up, so sign up
# the HUB_ADMIN_USERS accounts before the URL is given out. OAuth: see deploy/README.md.
c.JupyterHub.authenticator_class = "native"
c.Authenticator.admin_users = set(s.admin_users)
# JupyterHub 5 lets nobody in without an allow rule; NativeAuthenticator's authorization by an
# admin is that rule here, so every *authorized* account may log in.
c.Authenticator.allow_all = True
c.NativeAuthenticator.minimum_password_length = 10
c.NativeAuthenticator.check_common_password = True
c.NativeAuthenticator.allowed_failed_logins = 5
c.NativeAuthenticator.seconds_before_next_try = 300

# --- Students' servers: the lab image in hub mode, one container and one volume each
c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
c.DockerSpawner.image = s.lab_image
c.DockerSpawner.cmd = ["hub"]  # the image's entrypoint: python -m labkit hub
c.DockerSpawner.prefix = s.prefix
c.DockerSpawner.name_template = "{prefix}-{username}"
c.DockerSpawner.volumes = {work_volume(prefix=s.prefix, username="{username}"): WORK_MOUNT}
# A stopped server's container goes (the next start is a fresh one from the pinned image);
# its work volume stays.
c.DockerSpawner.remove = True
c.DockerSpawner.network_name = s.network
c.DockerSpawner.use_internal_ip = True
c.DockerSpawner.mem_limit = s.mem_limit
c.DockerSpawner.cpu_limit = s.cpu_limit
c.Spawner.default_url = "/lab"
# The GPU gate runs before the server answers (TensorFlow import + a matmul per device).
c.Spawner.start_timeout = s.start_timeout
c.Spawner.http_timeout = s.start_timeout

ledger = GpuLedger(s)
c.Spawner.pre_spawn_hook = ledger.pre_spawn
c.Spawner.post_stop_hook = ledger.post_stop

# --- The idle culler: a server nobody used for HUB_IDLE_TIMEOUT seconds is stopped (its work
# volume stays), which frees its memory and its GPU slot.
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={s.idle_timeout}",
            f"--cull-every={max(5, min(300, s.idle_timeout // 4))}",
        ],
    }
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]

for extra in sorted(Path("/srv/jupyterhub/config.d").glob("*.py")):
    load_subconfig(str(extra))  # noqa: F821 - provided by JupyterHub's config loader
