"""Every engine output scripts/labhost (and the class hub) parses, taken from the engine this
session runs on and fed to its parser: `docker version` and `docker info` (the doctor's engine
facts), `docker ps` ports, `docker image inspect` labels and architecture, a file read with
`docker run`, a container's State, `docker events` and its memory cgroup (the OOM report), and
the Engine API's container list (the hub). Each parsed value is checked against what the
machine says by another way (the daemon's own binary and command line, /proc, the exit codes
of the processes the test ran), never against the same output parsed twice.

The primary session runs this on Engine 20.10; tests/enginetier.py runs it on Engine 26 with
each image store. The outputs parsed for release, export and import (`docker history`, `image
inspect`, `save`, `load`) are read by tests/image/test_release_handout.py on the same engines.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import re
import socket
import sys
import urllib.parse
import uuid
from datetime import datetime, timezone
from pathlib import Path

import engines
import pytest
from clicheckout import checkout_fixture  # noqa: F401 - the fixture `checkout`
from dockerlab import REPO, free_port, run
from labhost import docker, imagestore, memory

sys.path.insert(0, str(REPO / "deploy" / "hub"))
from courselab_hub import holders  # noqa: E402

ENGINE = engines.current()


def daemon_process() -> tuple[Path, list[str]]:
    """The running dockerd of this session's engine: its binary and its command line."""
    pidfile = ENGINE.pidfile if ENGINE else Path("/var/run/docker.pid")
    pid = pidfile.read_text().strip()
    return Path(os.readlink(f"/proc/{pid}/exe")), Path(f"/proc/{pid}/cmdline").read_text().split("\0")


def flag(command: list[str], name: str) -> str | None:
    for index, word in enumerate(command):
        if word == name and index + 1 < len(command):
            return command[index + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


def daemon_config(command: list[str]) -> dict:
    path = Path(flag(command, "--config-file") or "/etc/docker/daemon.json")
    return json.loads(path.read_text()) if path.is_file() else {}


def version_of(binary: str | Path) -> str:
    """`Docker version 26.1.5+dfsg1, build 411e817` -> 26.1.5+dfsg1."""
    printed = run([str(binary), "--version"]).stdout
    return re.match(r"Docker version ([^,\s]+)", printed).group(1)


def mem_total() -> int:
    line = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:"))
    return int(line.split()[1]) * 1024


@pytest.fixture(scope="module")
def engine_facts(docker_engine) -> docker.DockerFacts:
    return docker.gather(docker.subprocess_runner)


def test_the_engines_version_is_the_daemons_own(engine_facts):
    binary, _command = daemon_process()
    assert engine_facts.server_version == version_of(binary)
    assert engine_facts.client_version == version_of("docker")
    if ENGINE:
        assert engine_facts.server_version.startswith("26.")
    compose = json.loads(run(["docker", "compose", "version", "--format", "json"]).stdout)
    assert engine_facts.compose_version == compose["version"].lstrip("v")


def test_the_engines_facts_are_the_machines(engine_facts):
    _binary, command = daemon_process()
    config = daemon_config(command)
    assert engine_facts.root_dir == (flag(command, "--data-root") or config.get("data-root") or "/var/lib/docker")
    assert engine_facts.architecture == platform.machine()
    assert engine_facts.mem_total == mem_total()
    assert "runc" in engine_facts.runtimes
    assert engine_facts.rootless is False  # this engine runs as root
    assert engine_facts.cdi_spec_dirs == ()


def test_the_image_store_and_where_it_keeps_images(standin_images):
    _binary, command = daemon_process()
    containerd_store = bool(daemon_config(command).get("features", {}).get("containerd-snapshotter"))
    if ENGINE:
        assert containerd_store == (ENGINE.store == "containerd")
    store = imagestore.gather(docker.subprocess_runner, Path("/"))
    assert store.containerd == containerd_store
    # The folder really holds this engine's images: the stand-in's own record (.Id: its
    # configuration on the default store, its manifest or index on the containerd store) is a
    # file in containerd's content store or in the graph driver's image database there.
    image_id = run(["docker", "image", "inspect", "--format", "{{.Id}}", standin_images["cpu"]]).stdout.strip()
    driver = run(["docker", "info", "--format", "{{.Driver}}"]).stdout.strip()
    database = "io.containerd.content.v1.content/blobs" if containerd_store else f"image/{driver}/imagedb/content"
    record = Path(store.image_dir, database, *image_id.split(":"))
    assert record.is_file(), f"{store.image_dir} does not hold this engine's images ({record} is missing)"


def test_a_published_port_of_the_lab_is_read_from_docker_ps(standin_images):
    project, port = f"cltest-ports-{uuid.uuid4().hex[:8]}", free_port()
    name = f"{project}-lab"
    run(["docker", "run", "-d", "--name", name, "--label", f"com.docker.compose.project={project}",
         "-p", f"127.0.0.1:{port}:8888", standin_images["cpu"], "sleep", "300"])  # fmt: skip
    try:
        ports = docker.published_ports(docker.subprocess_runner, project)
        assert f"127.0.0.1:{port}->8888/tcp" in ports
        assert f":{port}->" in ports  # what the doctor's port check looks for
        assert f":{port}->" not in docker.published_ports(docker.subprocess_runner, f"{project}-other")
    finally:
        run(["docker", "rm", "-f", name], check=False)


def test_an_images_labels_architecture_and_files_are_read(standin_images):
    image = standin_images["cpu"]
    labels = docker.image_labels(docker.subprocess_runner, image)
    assert labels["courselab.standin"] == "true"
    assert re.fullmatch(r"[0-9a-f]{12}", labels["courselab.standin.recipe"])
    go_names = {"x86_64": "amd64", "aarch64": "arm64"}
    assert docker.image_architecture(docker.subprocess_runner, image) == go_names[platform.machine()]
    assert "VERSION_CODENAME=bookworm" in docker.image_file(docker.subprocess_runner, image, "/etc/os-release")
    absent = f"courselab.invalid/absent:{uuid.uuid4().hex[:8]}"
    assert docker.image_labels(docker.subprocess_runner, absent) is None
    assert docker.image_architecture(docker.subprocess_runner, absent) is None
    assert docker.image_file(docker.subprocess_runner, image, "/no/such/file") is None


# One process whose eight threads allocate at once (the engines emit many `oom` events for its
# one kill), then two that allocate alone: three processes ended by the OOM killer.
THREADED_HOG = """
import threading
def hog():
    blocks = []
    for _ in range(100):
        blocks.append(bytearray(10 * 1024**2))
threads = [threading.Thread(target=hog) for _ in range(8)]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
"""
SINGLE_HOG = "b = bytearray(1024**3)"


@pytest.fixture
def limited_container(standin_images):
    """A container with 256 MB of memory whose PID 1 exits cleanly on SIGTERM (like the lab)."""
    name = f"cltest-oom-{uuid.uuid4().hex[:8]}"
    run(["docker", "run", "-d", "--name", name, "--memory", "256m", "--memory-swap", "256m", standin_images["cpu"],
         "sh", "-c", 'trap "exit 0" TERM; sleep 600 & wait'])  # fmt: skip
    yield name
    run(["docker", "rm", "-f", name], check=False)


def until_now() -> str:
    return str(int(datetime.now(timezone.utc).timestamp()) + 1)


def test_each_process_killed_for_memory_is_counted_once(limited_container):
    ended = []
    for code in (THREADED_HOG, SINGLE_HOG, SINGLE_HOG):
        done = run(["docker", "exec", limited_container, "python3", "-c", code], check=False)
        ended.append(done.returncode)
    assert ended == [137, 137, 137]  # each one ended by SIGKILL: the OOM killer's

    kills = memory.container_kills(docker.subprocess_runner, limited_container, until=until_now())

    assert kills == memory.Kills(3)
    events = run(list(memory.oom_events(limited_container, since="0", until=until_now()))).stdout.split()
    assert events and set(events) == {"oom"}  # the engine saw them: events say "some", the kernel how many
    line = memory.message(kills.processes, kills.container, "256m")
    assert line.startswith("Out of memory: 3 process(es) in the lab were stopped")


def test_a_stopped_container_says_what_its_state_can(limited_container, standin_images):
    run(["docker", "exec", limited_container, "python3", "-c", SINGLE_HOG], check=False)
    run(["docker", "stop", "-t", "10", limited_container])
    assert memory.container_kills(docker.subprocess_runner, limited_container, until=until_now()) == memory.Kills(None)

    killed = f"{limited_container}-main"
    done = run(["docker", "run", "--name", killed, "--memory", "256m", "--memory-swap", "256m", standin_images["cpu"],
                "python3", "-c", SINGLE_HOG], check=False)  # fmt: skip
    try:
        assert done.returncode == 137
        found = memory.container_kills(docker.subprocess_runner, killed, until=until_now())
        assert found == memory.Kills(0, container=True)
    finally:
        run(["docker", "rm", "-f", killed], check=False)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def engine_api(path: str):
    """GET on the Engine API, as the hub's docker-py client does, over this engine's socket."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    connection = UnixHTTPConnection(host.removeprefix("unix://"))
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.status == 200, response.read()
    return json.loads(response.read())


def test_the_hub_reads_its_servers_from_the_engine_api(standin_images):
    user = f"student-{uuid.uuid4().hex[:6]}"
    labels = {"courselab.hub.user": user, "courselab.hub.flavour": "nvidia", "courselab.hub.gpu": "1"}
    name = f"cltest-hub-{user}"
    argv = ["docker", "create", "--name", name]
    for key, value in labels.items():
        argv += ["--label", f"{key}={value}"]
    run([*argv, standin_images["cpu"], "sleep", "300"])
    try:
        filters = urllib.parse.quote(json.dumps({"label": [f"courselab.hub.user={user}"]}))
        containers = engine_api(f"/containers/json?all=1&filters={filters}")
        (row,) = holders.rows(containers)
        assert (row.user, row.flavour, row.gpu, row.container) == (user, "nvidia", "1", name)
        assert row.state == "created"
        assert holders.holders(containers) == {user: "1"}  # a server being started holds its GPU
    finally:
        run(["docker", "rm", "-f", name], check=False)


def test_the_doctor_reads_this_engine(checkout):
    student = checkout()
    result = student.lab("doctor", "--json")
    details = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    engine = details["docker engine"]
    binary, _command = daemon_process()
    assert engine["status"] == "ok"
    assert engine["detail"] == f"Docker Engine {version_of(binary)} runs as root (rootful) and answers this user"
    where = imagestore.gather(docker.subprocess_runner, Path("/")).image_dir
    assert f" GB free in {where}; " in details["disk"]["detail"]
