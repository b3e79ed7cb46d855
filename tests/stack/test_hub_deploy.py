"""The class hub on a real engine: JupyterHub + configurable-http-proxy in the hub image
(deploy/hub/Dockerfile on the JupyterHub stand-in), NativeAuthenticator accounts, and
DockerSpawner starting students' servers from the CPU lab image in hub mode."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor

import dockerlab
import hubdeploy
import pytest
import websocket
from hubclient import HubUser

PASSWORD = "correct horse battery staple"  # NativeAuthenticator refuses common and short ones
TEST_MEM_LIMIT = "1G"


@pytest.fixture(scope="module")
def class_hub(cpu_lab_image, tmp_path_factory):
    """A running hub; `people` and `servers` below add an instructor and two students."""
    with hubdeploy.running_hub(tmp_path_factory, "hub", {"HUB_MEM_LIMIT": TEST_MEM_LIMIT}) as stack:
        yield stack


@pytest.fixture(scope="module")
def people(class_hub):
    base = class_hub.url
    teacher = HubUser(base, hubdeploy.ADMIN, PASSWORD)
    students = {name: HubUser(base, name, PASSWORD) for name in ("alice", "bob")}
    assert teacher.sign_up().status == 200
    # The instructor only administers here; their own server would slow the students' starts.
    assert teacher.log_in(start_server=False).status == 200
    assert teacher.logged_in, "the admin could not log in after signing up"
    for student in students.values():
        assert student.sign_up().status == 200
    return teacher, students


def test_a_student_cannot_log_in_before_the_instructor_authorizes_them(people):
    _, students = people
    page = students["alice"].log_in()
    assert not students["alice"].logged_in
    assert "has not been authorized by an administrator yet" in page.body


@pytest.fixture(scope="module")
def servers(class_hub, people):
    """The instructor authorizes both students; they log in and start their servers together."""
    teacher, students = people
    with class_hub.explained():
        for name in students:
            assert teacher.toggle_approval(name).status == 200
        for student in students.values():
            student.log_in()
            assert student.logged_in, f"{student.name} could not log in after authorization"
            student.create_token()
        with ThreadPoolExecutor(len(students)) as pool:
            list(pool.map(lambda student: student.start_server(), students.values()))
    return students


def inspect(name: str) -> dict:
    return json.loads(dockerlab.run(["docker", "inspect", name]).stdout)[0]


def test_each_student_gets_their_own_container_from_the_lab_image(class_hub, servers):
    for name in servers:
        container = inspect(class_hub.container(name))
        assert container["State"]["Running"]
        assert container["Config"]["Image"] == dockerlab.CPU_LAB_IMAGE
        assert container["Config"]["Labels"]["courselab.hub.user"] == name
        assert container["Config"]["Cmd"] == ["hub"]


def test_each_server_mounts_only_its_students_work_volume(class_hub, servers):
    for name in servers:
        mounts = inspect(class_hub.container(name))["Mounts"]
        assert [(m["Type"], m.get("Name"), m["Destination"]) for m in mounts] == [
            ("volume", class_hub.volume(name), "/home/lab/work")
        ]


def test_servers_run_as_the_images_user_with_the_labs_least_privilege_and_limits(class_hub, servers):
    host_config = inspect(class_hub.container("alice"))["HostConfig"]
    assert host_config["CapDrop"] == ["ALL"]
    assert host_config["SecurityOpt"] == ["no-new-privileges:true"]
    assert host_config["Memory"] == 1024**3
    assert host_config["CpuQuota"] == 100_000  # HUB_CPU_LIMIT=1 of a 100 ms period
    assert host_config["PidsLimit"] == 2048
    ids = dockerlab.run(["docker", "exec", class_hub.container("alice"), "id", "-u"]).stdout.strip()
    assert ids == "1000"


def test_the_gate_report_is_in_the_spawned_servers_log(class_hub, servers):
    log = dockerlab.run(["docker", "logs", class_hub.container("alice")]).stdout
    assert "[lab] Checking TensorFlow and the GPU (cpu lab" in log
    assert "NOTICE: No GPU in the CPU lab: TensorFlow runs on the CPU." in log
    assert "jupyterhub-singleuser" in log


def test_a_malformed_terminal_message_leaves_no_token_in_the_servers_log(class_hub, servers):
    # Hub mode execs jupyterhub-singleuser (no pipe of the entrypoint's in between): the
    # server's own log handler hides the student's token and the server's hub token. JupyterHub
    # 5 wants the token in a header; tornado logs the URL, and whatever token it carries.
    # Bob's server answers on his own origin (bob.hub.localhost): the socket goes to loopback
    # with that name in its Host header, as a browser resolving *.localhost sends it.
    bob = servers["bob"]
    origin = bob.server_base("bob")
    name = bob.api("POST", f"{origin}/user/bob/api/terminals").json()["name"]
    url = f"ws://127.0.0.1:{class_hub.port}/user/bob/terminals/websocket/{name}?token={bob.token}"
    host = urllib.parse.urlsplit(origin).netloc
    ws = websocket.create_connection(
        url, timeout=30, host=host, origin=origin, header=[f"Authorization: token {bob.token}"]
    )
    try:
        ws.send("not a terminado message")
        log = dockerlab.wait_for(
            lambda: (done := docker_logs(class_hub.container("bob"))) and "Uncaught exception GET" in done and done,
            timeout=30,
            what="tornado's uncaught exception line",
        )
    finally:
        ws.close()
    server_token = dict(v.split("=", 1) for v in inspect(class_hub.container("bob"))["Config"]["Env"])[
        "JUPYTERHUB_API_TOKEN"
    ]
    assert f"Uncaught exception GET /user/bob/terminals/websocket/{name}?token=[secret]" in log
    assert bob.token not in log
    assert server_token not in log


def docker_logs(container: str) -> str:
    done = dockerlab.run(["docker", "logs", container])
    return done.stdout + done.stderr


def test_course_material_is_in_each_students_work_folder(servers):
    listing = servers["bob"].get_file("bob", "course").json()
    names = {entry["name"] for entry in listing["content"]}
    assert "01-check-gpu.ipynb" in names


def test_a_student_saves_work_the_other_cannot_see_or_read(class_hub, servers):
    alice, bob = servers["alice"], servers["bob"]
    assert alice.put_file("alice-notes.txt", "alice's homework").status == 201
    assert alice.get_file("alice", "alice-notes.txt").json()["content"] == "alice's homework"
    assert bob.get_file("bob", "alice-notes.txt").status == 404
    listing = dockerlab.run(["docker", "exec", class_hub.container("bob"), "ls", "-A", "/home/lab/work"]).stdout
    assert "alice-notes.txt" not in listing


def test_the_hubs_login_cookie_is_host_only_https_only_and_same_site_lax(servers):
    """__Host-: only the hub's own host sets or reads it (a student's subdomain cannot plant
    one); SameSite=Lax: another site's POST carries no login."""
    cookie = next(c for c in servers["alice"].jar if c.name.endswith("jupyterhub-hub-login"))
    assert cookie.name == "__Host-jupyterhub-hub-login"
    assert cookie.secure
    assert cookie.path == "/"
    assert not cookie.domain_specified
    assert (cookie.get_nonstandard_attr("SameSite") or cookie.get_nonstandard_attr("samesite")) == "Lax"


def test_a_student_cannot_reach_the_others_server_through_the_hub(servers):
    alice, bob = servers["alice"], servers["bob"]
    assert bob.get_file("alice", "alice-notes.txt").status == 403
    assert bob.get_file("alice", "").status == 403
    assert bob.api("GET", "/hub/api/users/alice").status in (403, 404)
    # ... nor with the browser's login cookie: the hub refuses bob's OAuth to alice's server.
    page = bob.request("GET", f"{bob.server_base('alice')}/user/alice/lab")
    assert page.status == 403, (page.status, page.url)
    assert bob.request("GET", "/user/alice/lab").status == 404  # the hub's own link: not bob's
    assert alice.request("GET", "/user/alice/lab").status == 200


def test_each_student_has_their_own_origin(servers):
    """The hub sends a student to their server on their own subdomain (JupyterHub's
    subdomain_host): alice's pages are not the hub's origin, nor bob's."""
    alice = servers["alice"]
    page = alice.request("GET", "/user/alice/lab")
    assert page.status == 200
    assert page.url.startswith(alice.server_base("alice") + "/user/alice/lab"), page.url
    assert alice.server()["url"].startswith(alice.server_base("alice")), alice.server()


def test_admin_command_shows_who_holds_which_gpu(class_hub, servers):
    result = class_hub.compose("exec", "-T", "hub", "python3", "-m", "courselab_hub", "gpus", "--json")
    rows = {row["user"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"]["flavour"] == "cpu"
    assert rows["alice"]["gpu"] == ""
    assert rows["alice"]["container"] == class_hub.container("alice")
    table = class_hub.compose("exec", "-T", "hub", "python3", "-m", "courselab_hub", "gpus").stdout
    assert table.splitlines()[0].split() == ["GPU", "USER", "FLAVOUR", "STATE", "CONTAINER"]


def test_stopping_and_restarting_a_server_keeps_the_work(class_hub, servers):
    alice = servers["alice"]
    text = f"kept {uuid.uuid4().hex}"
    assert alice.put_file("kept.txt", text).status == 201
    alice.stop_server()
    # The hub reports the server stopped when Docker has stopped it; Docker then removes the
    # container (auto_remove) a moment later, longer on a busy machine.
    dockerlab.wait_for(
        lambda: (
            class_hub.container("alice") not in dockerlab.run(["docker", "ps", "-a", "--format", "{{.Names}}"]).stdout
        ),
        timeout=120,
        what="Docker to remove alice's stopped container",
    )
    assert class_hub.volume("alice") in class_hub.students_volumes()
    alice.start_server()
    assert alice.get_file("alice", "kept.txt").json()["content"] == text


def test_a_hub_upgrade_keeps_accounts_running_servers_and_work(class_hub, servers):
    """A new hub container (as after pulling a new hub image): servers keep running."""
    alice = servers["alice"]
    before = inspect(class_hub.container("alice"))["Id"]
    class_hub.compose("up", "-d", "--force-recreate", "--wait", "--wait-timeout", "180", "hub")
    alice.wait_usable(timeout=120)
    assert inspect(class_hub.container("alice"))["Id"] == before
    assert alice.get_file("alice", "alice-notes.txt").json()["content"] == "alice's homework"
    relogin = HubUser(class_hub.url, "bob", PASSWORD)
    relogin.log_in()
    assert relogin.logged_in
