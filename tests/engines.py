"""The Docker engines the suite runs on: the primary one (Debian 12's Engine 20.10, at the
default socket or DOCKER_HOST) and the current engine, Debian 13's Engine 26, run twice beside
it: once with the default image store (overlay2) and once with the containerd image store,
Engine 29's default on fresh installs (`"containerd-snapshotter": true`).

Engine 26 is installed from the Debian registry, never from what the machine has: the
docker.io, docker-cli, containerd and tini packages of Debian 13 (trixie), fetched with
`apt-get download` under an apt state of our own (the host's apt sources and lists are never
touched) and unpacked with `dpkg-deb -x` into INSTALL_ROOT. Its runc is Debian 12's (the host's,
installed with docker.io by .ci/run): trixie's runc needs a newer glibc than Debian 12 has.

Each second engine gets its own socket, data root, exec root, pid file, managed containerd
(under its exec root) and its own network namespace, so it has its own docker0 and iptables
and can never touch the primary engine's network (a second dockerd in the host's namespace
with `--bridge=none` deletes the primary's docker0). The namespace reaches the outside through
a veth pair, NATed by the host. dockerd is started with `nsenter --net`, not `ip netns exec`,
which remounts /sys and hides the cgroup mounts dockerd needs. Published ports then live on the
namespace's loopback: the tests that reach them run inside the namespace (tests/stack/
test_current_engines.py runs the whole tier there), so "publish on 127.0.0.1, test there" holds.

Everything here is idempotent: install once, start what is not running, leave it running
(its data root, with its images and BuildKit cache, persists on the machine).

    python3 tests/engines.py install        fetch and unpack Engine 26 (once)
    python3 tests/engines.py start          start both second engines (installs first)
    python3 tests/engines.py status         what runs, with versions and image store
    python3 tests/engines.py stop           stop the second engines (never the primary)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Debian 13's packages for Engine 26. No version pin: the archive keeps only the current one
# (a point release replaces 26.1.5+dfsg1-9+deb13u1 by the next); what was installed is
# recorded in INSTALL_ROOT/installed.json and printed in the test summary.
SUITE = "trixie"
PACKAGES = ("docker.io", "docker-cli", "containerd", "tini")
MIRROR = os.environ.get("COURSELAB_DEBIAN_MIRROR", "http://deb.debian.org/debian")
INSTALL_ROOT = Path(os.environ.get("COURSELAB_ENGINE26_ROOT", "/opt/courselab-engine26"))
# The tier's tests run with this folder first on PATH: Engine 26's own docker CLI (docker-cli
# 26), as a Debian 13 user has it, so every parsed output is the pair's real output.
CLIENT_DIR = INSTALL_ROOT / "client"
PRIMARY_HOST = os.environ.get("COURSELAB_PRIMARY_DOCKER_HOST") or os.environ.get("DOCKER_HOST") or ""
# Set in the tier's own pytest session (the key of the engine it runs on); unset elsewhere.
CURRENT_VARIABLE = "COURSELAB_ENGINE"


def cache_dir() -> Path:
    return Path(os.environ.get("COURSELAB_CACHE", "/var/cache/courselab"))


def log(message: str) -> None:
    print(f"[engines] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Engine:
    """One second engine: Engine 26 with one image store, in its own network namespace."""

    key: str  # e26, e26c: names every resource of this engine
    store: str  # overlay2 or containerd: the image store its daemon.json selects
    octet: int  # its veth pair is 10.<octet>.255.0/30

    @property
    def daemon_json(self) -> dict:
        # The containerd store is one feature flag on Engine 24-28 (the default from 29).
        return {"features": {"containerd-snapshotter": self.store == "containerd"}}

    @property
    def netns(self) -> str:
        return f"cl-{self.key}"

    @property
    def netns_path(self) -> str:
        return f"/run/netns/{self.netns}"

    @property
    def run_dir(self) -> Path:
        return Path("/run/courselab") / self.key

    @property
    def socket(self) -> Path:
        return self.run_dir / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def data_root(self) -> Path:
        return Path("/var/lib") / f"courselab-{self.key}"

    @property
    def config_file(self) -> Path:
        return self.run_dir / "daemon.json"

    @property
    def pidfile(self) -> Path:
        return self.run_dir / "docker.pid"

    @property
    def log_file(self) -> Path:
        return Path("/var/log") / f"courselab-{self.key}.log"

    @property
    def veth(self) -> tuple[str, str]:
        return f"cl-{self.key}-h", f"cl-{self.key}-n"  # host side, namespace side (<= 15 chars)

    @property
    def addresses(self) -> tuple[str, str]:
        return f"10.{self.octet}.255.1", f"10.{self.octet}.255.2"

    @property
    def subnet(self) -> str:
        return f"10.{self.octet}.255.0/30"

    @property
    def label(self) -> str:
        return f"Engine 26 ({'containerd image store' if self.store == 'containerd' else 'default store, overlay2'})"


SECOND_ENGINES = (Engine("e26", "overlay2", 236), Engine("e26c", "containerd", 237))
BY_KEY = {engine.key: engine for engine in SECOND_ENGINES}


def current() -> Engine | None:
    """The second engine this pytest session runs on, or None on the primary engine."""
    key = os.environ.get(CURRENT_VARIABLE, "")
    return BY_KEY.get(key)


def docker_env(engine: Engine | None) -> dict[str, str]:
    """The environment whose `docker` talks to `engine` (None: the primary) with its own CLI."""
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", CURRENT_VARIABLE)}
    path = [entry for entry in env.get("PATH", "/usr/bin:/bin").split(":") if entry != str(CLIENT_DIR)]
    if engine is None:
        if PRIMARY_HOST:
            env["DOCKER_HOST"] = PRIMARY_HOST
    else:
        env["DOCKER_HOST"] = engine.host
        path.insert(0, str(CLIENT_DIR))
    env["PATH"] = ":".join(path)
    return env


def docker(engine: Engine | None, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    return subprocess.run(["docker", *args], env=docker_env(engine), check=check, **kwargs)


# ---- install -------------------------------------------------------------------------------


def installed() -> dict | None:
    """What install() unpacked ({package: version}), or None when it is not (completely) there."""
    record = INSTALL_ROOT / "installed.json"
    needed = [INSTALL_ROOT / "usr/sbin/dockerd", INSTALL_ROOT / "usr/bin/containerd", CLIENT_DIR / "docker"]
    if not record.is_file() or not all(path.exists() for path in needed):
        return None
    return json.loads(record.read_text())


def apt_options(state: Path) -> list[str]:
    """apt-get options for an apt of our own: trixie's lists in `state`, nothing of the host's."""
    return [
        "-o", f"Dir::State={state}",
        "-o", f"Dir::State::Lists={state}/lists",
        "-o", f"Dir::State::status={state}/status",
        "-o", f"Dir::Cache={state}/cache",
        "-o", f"Dir::Etc::SourceList={state}/sources.list",
        "-o", f"Dir::Etc::SourceParts={state}/sources.list.d",
        "-o", f"Dir::Etc::Preferences={state}/preferences",
        "-o", f"Dir::Etc::PreferencesParts={state}/preferences.d",
        "-o", "APT::Architecture=amd64",
        "-o", "APT::Sandbox::User=root",
        "-o", "Debug::NoLocking=1",
    ]  # fmt: skip


def install() -> dict:
    """Fetch and unpack Debian 13's Engine 26 once; return {package: version}."""
    done = installed()
    if done is not None:
        return done
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise SystemExit(f"[engines] {tool} is missing: Engine 26 is installed with Debian's apt tools")
    state = cache_dir() / f"apt-{SUITE}"
    for folder in ("lists/partial", "cache/archives/partial", "sources.list.d", "preferences.d"):
        (state / folder).mkdir(parents=True, exist_ok=True)
    (state / "sources.list").write_text(f"deb {MIRROR} {SUITE} main\n")
    (state / "status").touch()
    options = apt_options(state)
    log(f"apt-get update ({SUITE}, own state in {state})")
    subprocess.run(["apt-get", *options, "-qq", "update"], check=True)
    INSTALL_ROOT.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=INSTALL_ROOT.parent, prefix=".engine26-") as scratch:
        debs, root = Path(scratch) / "debs", Path(scratch) / "root"
        debs.mkdir()
        log(f"apt-get download {' '.join(PACKAGES)}")
        subprocess.run(["apt-get", *options, "-qq", "download", *PACKAGES], cwd=debs, check=True)
        versions = {}
        for deb in sorted(debs.glob("*.deb")):
            fields = subprocess.run(["dpkg-deb", "--field", str(deb), "Package", "Version"], capture_output=True,
                                    text=True, check=True).stdout  # fmt: skip
            package, version = (line.split(": ", 1)[1] for line in fields.splitlines())
            versions[package] = version
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        # Debian's docker-init is a link to tini-static (the tini package, unpacked beside it).
        client = root / "client"
        client.mkdir()
        (client / "docker").symlink_to(INSTALL_ROOT / "usr/bin/docker")
        (root / "installed.json").write_text(json.dumps(versions, indent=1) + "\n")
        if INSTALL_ROOT.exists():  # a half install from a killed run
            shutil.rmtree(INSTALL_ROOT)
        root.rename(INSTALL_ROOT)  # whole or nothing
    log(f"installed {', '.join(f'{k} {v}' for k, v in sorted(versions.items()))} in {INSTALL_ROOT}")
    return versions


# ---- network namespace ---------------------------------------------------------------------


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check)


def in_netns(engine: Engine, *argv: str) -> list[str]:
    return ["nsenter", f"--net={engine.netns_path}", *argv]


def ensure_rule(table: str, chain: str, *rule: str) -> None:
    """An iptables rule in the host's namespace, added once (checked with -C first)."""
    if sh("iptables", "-t", table, "-C", chain, *rule, check=False).returncode != 0:
        sh("iptables", "-t", table, "-I" if chain == "FORWARD" else "-A", chain, *rule)


def ensure_netns(engine: Engine) -> None:
    """The engine's namespace, its veth pair and the host's NAT for it (each step once)."""
    host_side, ns_side = engine.veth
    host_address, ns_address = engine.addresses
    if not Path(engine.netns_path).exists():
        sh("ip", "netns", "add", engine.netns)
    if sh("ip", "link", "show", host_side, check=False).returncode != 0:
        sh("ip", "link", "add", host_side, "type", "veth", "peer", "name", ns_side)
        sh("ip", "link", "set", ns_side, "netns", engine.netns)
        sh("ip", "addr", "add", f"{host_address}/30", "dev", host_side)
        sh("ip", "link", "set", host_side, "up")
        sh(*in_netns(engine, "ip", "addr", "add", f"{ns_address}/30", "dev", ns_side))
        sh(*in_netns(engine, "ip", "link", "set", ns_side, "up"))
        sh(*in_netns(engine, "ip", "link", "set", "lo", "up"))
        sh(*in_netns(engine, "ip", "route", "add", "default", "via", host_address))
    # The primary engine turns forwarding on too; a fresh machine may have started nothing yet.
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
    ensure_rule("nat", "POSTROUTING", "-s", engine.subnet, "!", "-o", host_side, "-j", "MASQUERADE")
    ensure_rule("filter", "FORWARD", "-i", host_side, "-j", "ACCEPT")
    ensure_rule("filter", "FORWARD", "-o", host_side, "-j", "ACCEPT")


# ---- the daemon ----------------------------------------------------------------------------


def answers(engine: Engine) -> bool:
    if not engine.socket.exists():
        return False
    done = docker(engine, "version", "--format", "{{.Server.Version}}", check=False, timeout=20)
    return done.returncode == 0


def start(engine: Engine, *, timeout: float = 90) -> None:
    """Start the engine unless it answers already."""
    if answers(engine):
        return
    install()
    ensure_netns(engine)
    engine.run_dir.mkdir(parents=True, exist_ok=True)
    engine.data_root.mkdir(parents=True, exist_ok=True)
    engine.config_file.write_text(json.dumps(engine.daemon_json) + "\n")
    # Its own containerd, shims and docker-init first; runc is the host's (Debian 12's).
    path = f"{INSTALL_ROOT}/usr/sbin:{INSTALL_ROOT}/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    command = in_netns(
        engine,
        str(INSTALL_ROOT / "usr/sbin/dockerd"),
        "--host", engine.host,
        "--data-root", str(engine.data_root),
        "--exec-root", str(engine.run_dir / "exec"),
        "--pidfile", str(engine.pidfile),
        "--config-file", str(engine.config_file),
    )  # fmt: skip
    log(f"starting {engine.label} as {engine.key} ({engine.host}, data root {engine.data_root})")
    with engine.log_file.open("ab") as sink:
        subprocess.Popen(command, env={**os.environ, "PATH": path}, stdout=sink, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(engine):
            return
        time.sleep(1)
    tail = engine.log_file.read_text(errors="replace").splitlines()[-15:]
    raise RuntimeError(f"{engine.key}: dockerd did not answer within {timeout:.0f} s:\n" + "\n".join(tail))


def stop(engine: Engine, *, timeout: float = 60) -> None:
    """Stop one second engine (by its own pid file; the primary is never touched)."""
    try:
        pid = int(engine.pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.5)


@dataclass(frozen=True)
class Description:
    server: str  # e.g. 26.1.5+dfsg1
    client: str
    driver: str  # overlay2, or overlayfs (the containerd snapshotter)
    containerd_store: bool

    @property
    def text(self) -> str:
        store = "containerd image store" if self.containerd_store else f"{self.driver} store"
        return f"Engine {self.server} ({store}), docker CLI {self.client}"


def describe(engine: Engine | None) -> Description | None:
    """What the engine itself says it is, or None when it does not answer."""
    done = docker(engine, "version", "--format", "{{.Client.Version}} {{.Server.Version}}", check=False, timeout=30)
    info = docker(engine, "info", "--format", "{{.Driver}} {{json .DriverStatus}}", check=False, timeout=30)
    if done.returncode != 0 or info.returncode != 0:
        return None
    client, server = done.stdout.split()
    driver, status = info.stdout.strip().split(" ", 1)
    containerd_store = ["driver-type", "io.containerd.snapshotter.v1"] in (json.loads(status) or [])
    return Description(server, client, driver, containerd_store)


def image_recipe(engine: Engine | None, name: str) -> str | None:
    """The stand-in recipe label of an image (tests/standins/build.py), None when it is absent."""
    done = docker(engine, "image", "inspect", "--format", '{{ index .Config.Labels "courselab.standin.recipe" }}',
                  name, check=False)  # fmt: skip
    return done.stdout.strip() if done.returncode == 0 else None


def move_images(engine: Engine, names: list[str]) -> list[str]:
    """`docker save` on the primary engine | `docker load` into `engine`, for the images it lacks
    or holds with another recipe: stand-ins move, they are never built twice. Returns the moved."""
    stale = [name for name in names if image_recipe(engine, name) != image_recipe(None, name)]
    if not stale:
        return []
    started = time.monotonic()
    save = subprocess.Popen(["docker", "save", *stale], env=docker_env(None), stdout=subprocess.PIPE)
    load = subprocess.run(["docker", "load", "--quiet"], env=docker_env(engine), stdin=save.stdout,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert save.stdout is not None
    save.stdout.close()
    if save.wait() != 0 or load.returncode != 0:
        raise RuntimeError(f"moving {' '.join(stale)} into {engine.key} failed: {load.stderr.strip()[-500:]}")
    log(f"moved {' '.join(stale)} into {engine.key} (docker save | docker load) in {time.monotonic() - started:.0f} s")
    return stale


def problem() -> str | None:
    """Why the second engines cannot run here, or None."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return "the Engine 26 tier starts its own engines in network namespaces, which needs root"
    for tool in ("nsenter", "ip", "iptables"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if installed() is None:
        return f"Engine 26 is not installed in {INSTALL_ROOT} (bash .ci/run, or: python3 tests/engines.py install)"
    return None


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "status"
    if action == "install":
        install()
    elif action == "start":
        for engine in SECOND_ENGINES:
            start(engine)
    elif action == "stop":
        for engine in SECOND_ENGINES:
            stop(engine)
    elif action != "status":
        print(__doc__, file=sys.stderr)
        return 2
    for engine in (None, *SECOND_ENGINES):
        found = describe(engine)
        name = "primary" if engine is None else engine.key
        print(f"{name}\t{found.text if found else 'not running'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
