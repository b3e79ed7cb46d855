"""The class hub: JupyterHub + DockerSpawner running the course's pinned lab image.

Everything a department changes is a HUB_* variable (deploy/.env.example); the logic lives in
the courselab_hub package beside this file. Local additions (OAuth, TLS details, a logo) go
in *.py files mounted into /srv/jupyterhub/config.d, loaded last, in name order.
"""

import os
import sys
from pathlib import Path

from courselab_hub import networks, usernames
from courselab_hub import settings as hub_settings
from courselab_hub.accounts import ClassAuthenticator
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

# --- One origin per student. Every student's server is its own site, <name>.<hub's host>
# (JupyterHub's subdomain_host), so a page a student serves from their server (a planted
# "lab extension", an HTML file) runs in their own origin: it cannot read the hub's pages or
# XSRF token, nor another student's server, for whoever opens it. With one shared origin such
# a page created API tokens for every visitor, the instructor included. Needs wildcard DNS and
# a wildcard certificate for a class (deploy/README.md); *.localhost works on one computer.
c.JupyterHub.subdomain_host = s.public_url
# __Host- cookies: only the hub's own host can set or read the hub's login cookie, so a
# student's subdomain cannot plant one (JupyterHub recommends it with per-user domains).
c.JupyterHub.cookie_host_prefix_enabled = True
# SameSite=Lax on the hub's cookies, and through JUPYTERHUB_COOKIE_OPTIONS on the servers':
# another site's POST carries no login.
c.JupyterHub.tornado_settings = {"cookie_options": {"samesite": "Lax"}}

# --- Accounts: NativeAuthenticator. Students sign up at /hub/signup; an instructor (an admin)
# authorizes each one at /hub/authorize. Admins are authorized when they sign up, so sign up
# the HUB_ADMIN_USERS accounts before the URL is given out. OAuth: see deploy/README.md.
# ClassAuthenticator is NativeAuthenticator with approvals on POST only, approvals that end a
# removed student's sessions, lock-outs per client (courselab_hub/accounts.py).
c.JupyterHub.authenticator_class = ClassAuthenticator
c.JupyterHub.template_paths = ["/srv/courselab/templates"]
c.Authenticator.admin_users = set(s.admin_users)
# One DNS label a person cannot mistake for another (courselab_hub/usernames.py).
c.Authenticator.username_pattern = usernames.PATTERN
# JupyterHub 5 lets nobody in without an allow rule; NativeAuthenticator's authorization by an
# admin is that rule here, so every *authorized* account may log in.
c.Authenticator.allow_all = True
c.NativeAuthenticator.minimum_password_length = 10
c.NativeAuthenticator.check_common_password = True
# Per client and account (courselab_hub/guard.py): someone else's guesses never lock the
# instructor's own browser out.
c.NativeAuthenticator.allowed_failed_logins = 5
c.NativeAuthenticator.seconds_before_next_try = 300
# Per client across accounts: one computer guessing names and passwords is slowed down.
c.ClassAuthenticator.failed_logins_per_client = 20
c.ClassAuthenticator.failed_logins_window = 600

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
# Each student's server starts on its own network (the pre_spawn hook below, courselab_hub/
# networks.py), which the hub joins as HUB_HOST: a server reaches the hub and nothing of
# another student's. A new hub container rejoins the networks of servers still running.
c.DockerSpawner.network_name = s.network
c.DockerSpawner.use_internal_ip = True
networks.join_all(networks.docker_client(), prefix=s.prefix, container=networks.this_container(), alias=s.hub_host)
c.DockerSpawner.mem_limit = s.mem_limit
c.DockerSpawner.cpu_limit = s.cpu_limit
c.Spawner.default_url = "/lab"
# The GPU gate runs before the server answers (TensorFlow import + a matmul per device).
c.Spawner.start_timeout = s.start_timeout
c.Spawner.http_timeout = s.start_timeout

ledger = GpuLedger(s)
student_networks = networks.StudentNetworks(s)


async def pre_spawn(spawner):
    await ledger.pre_spawn(spawner)
    await student_networks.pre_spawn(spawner)


async def post_stop(spawner):
    ledger.post_stop(spawner)
    await student_networks.post_stop(spawner)


c.Spawner.pre_spawn_hook = pre_spawn
c.Spawner.post_stop_hook = post_stop

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
