"""Nobody let in, nothing lost: the running lab's access rules, privileges and the safety of
the student's files, on a real engine. Traffic goes to 127.0.0.1 only; which addresses the
port listens on is read from the host's socket table instead of probing other addresses."""

from __future__ import annotations

import json
import os
import socket
import threading
import urllib.error
import urllib.request
import uuid

import dockerlab
import pytest
from dockerlab import Stack, make_workdir, run
from jupyter_kernel import run_notebook_in_kernel


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def raw_request(url: str, *, method: str = "GET", headers: dict | None = None, body: bytes | None = None):
    """Status and body without following redirects, so a login redirect is seen as one."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)  # noqa: S310
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port`, from /proc/net/tcp{,6}."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with open(table) as stream:
            next(stream)
            for line in stream:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                    if width == 8:
                        found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
                    else:
                        words = bytes.fromhex(address)
                        raw = b"".join(words[i : i + 4][::-1] for i in range(0, 16, 4))
                        found.add(socket.inet_ntop(socket.AF_INET6, raw))
    return found


# --- Access -------------------------------------------------------------------------------


def test_lab_listens_on_loopback_only(lab_stack):
    assert listening_addresses(lab_stack.port) == {"127.0.0.1"}


UNAUTHENTICATED = [
    ("GET", "/api/contents"),
    ("GET", "/api/kernels"),
    ("POST", "/api/kernels"),
    ("GET", "/api/sessions"),
    ("GET", "/api/terminals"),
    ("POST", "/api/terminals"),
    ("GET", "/lab/api/settings"),
]


@pytest.mark.parametrize(("method", "path"), UNAUTHENTICATED, ids=[f"{m} {p}" for m, p in UNAUTHENTICATED])
def test_api_refuses_requests_without_a_token(lab_stack, method, path):
    body = b"{}" if method == "POST" else None
    status, _, _ = raw_request(f"{lab_stack.url}{path}", method=method, body=body)
    assert status == 403


def test_file_download_without_a_token_goes_to_the_login_page(lab_stack):
    notes = lab_stack.workdir / "secret-notes.txt"
    notes.write_text("do not leak")
    os.chown(notes, dockerlab.TEST_UID, dockerlab.TEST_GID)  # the student's file, not the test's
    status, body, headers = raw_request(f"{lab_stack.url}/files/secret-notes.txt")
    assert status in (302, 403)
    assert b"do not leak" not in body
    if status == 302:
        assert "/login" in headers["Location"]


def test_kernel_websocket_refuses_a_missing_token(lab_stack):
    import websocket

    status, kernel = lab_stack.api("/api/kernels", method="POST", body={"name": "python3"})
    assert status in (200, 201)
    try:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(
                f"ws://127.0.0.1:{lab_stack.port}/api/kernels/{kernel['id']}/channels", timeout=30
            )
        assert refused.value.status_code == 403
    finally:
        lab_stack.api(f"/api/kernels/{kernel['id']}", method="DELETE")


def test_cross_site_requests_are_refused_for_a_logged_in_browser(lab_stack):
    # A browser that logged in has the auth cookie; a forged form from another site has the
    # cookie too, but not the _xsrf token: the server must refuse it.
    status, _, headers = raw_request(f"{lab_stack.url}/lab?token={lab_stack.token}")
    cookies = "; ".join(c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or [])
    assert "_xsrf" in cookies
    forged = {"Cookie": cookies, "Content-Type": "application/json"}
    status, body, _ = raw_request(
        f"{lab_stack.url}/api/contents", method="POST", headers=forged, body=b'{"type": "file"}'
    )
    assert status == 403
    assert b"XSRF" in body or b"xsrf" in body


def test_an_empty_token_setting_never_turns_auth_off(fresh_stack):
    fresh_stack.settings["JUPYTER_TOKEN"] = ""
    fresh_stack.write_env()
    fresh_stack.up("lab")
    status, _, _ = raw_request(f"{fresh_stack.url}/api/contents")
    assert status == 403
    token = fresh_stack.compose("exec", "-T", "lab", "cat", "/cache/lab/jupyter-token").stdout.strip()
    assert len(token) >= 16
    assert f"/lab?token={token}" in fresh_stack.logs()


# --- Privileges ---------------------------------------------------------------------------


def test_kernel_runs_without_capabilities_and_cannot_gain_privileges(lab_stack):
    output = run_notebook_in_kernel(
        lab_stack,
        source="import os\nprint('uid', os.getuid())\nprint(open('/proc/self/status').read())",
    )
    status = dict(line.split(":\t", 1) for line in output.splitlines() if ":\t" in line)
    assert f"uid {dockerlab.TEST_UID}" in output
    assert status["CapEff"].strip() == "0000000000000000"
    assert status["CapPrm"].strip() == "0000000000000000"
    assert status["NoNewPrivs"].strip() == "1"


def test_container_is_not_privileged_and_has_a_process_limit(lab_stack):
    container = lab_stack.compose("ps", "-q", "lab").stdout.strip()
    config = json.loads(run(["docker", "inspect", container]).stdout)[0]["HostConfig"]
    assert config["Privileged"] is False
    assert config["CapDrop"] == ["ALL"]
    assert "no-new-privileges:true" in config["SecurityOpt"]
    assert config["PidsLimit"] == 2048


def test_token_is_in_no_image_layer_or_image_metadata(lab_stack):
    image = dockerlab.CPU_LAB_IMAGE
    history = run(["docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", image]).stdout
    metadata = run(["docker", "image", "inspect", image]).stdout
    assert lab_stack.token not in history
    assert lab_stack.token not in metadata
    build = lab_stack.compose("--progress", "plain", "build", "lab")
    assert lab_stack.token not in build.stdout + build.stderr


# --- Work and data ------------------------------------------------------------------------


def save(stack, name: str, text: str) -> int:
    status, _ = stack.api(
        f"/api/contents/{name}", method="PUT", body={"type": "file", "format": "text", "content": text}
    )
    return status


def test_work_survives_kill_9_of_the_container(fresh_stack):
    fresh_stack.up("lab")
    assert save(fresh_stack, "before-crash.txt", "saved") in (200, 201)
    container = fresh_stack.compose("ps", "-q", "lab").stdout.strip()
    run(["docker", "kill", "--signal", "KILL", container])
    assert (fresh_stack.workdir / "before-crash.txt").read_text() == "saved"
    fresh_stack.up("lab")
    status, body = fresh_stack.api("/api/contents/before-crash.txt")
    assert status == 200
    assert body["content"] == "saved"


def test_work_survives_a_rebuild_and_an_image_upgrade(fresh_stack):
    fresh_stack.up("lab")
    assert save(fresh_stack, "homework.txt", "week 1") in (200, 201)
    fresh_stack.compose("build", "lab")
    upgraded = f"courselab-test/lab:upgrade-{uuid.uuid4().hex[:6]}"
    run(["docker", "tag", dockerlab.CPU_LAB_IMAGE, upgraded])
    try:
        fresh_stack.settings["LAB_IMAGE"] = upgraded
        fresh_stack.write_env()
        fresh_stack.compose("up", "-d", "--wait", "--force-recreate", "lab")
        status, body = fresh_stack.api("/api/contents/homework.txt")
        assert status == 200
        assert body["content"] == "week 1"
    finally:
        fresh_stack.down()
        run(["docker", "rmi", upgraded], check=False)


def test_notebook_saved_while_the_container_is_killed_is_old_or_new_never_truncated(fresh_stack):
    fresh_stack.up("lab")
    old = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    new = {
        **old,
        "cells": [{"cell_type": "markdown", "id": f"c{i}", "metadata": {}, "source": "x" * 2000} for i in range(400)],
    }
    status, _ = fresh_stack.api("/api/contents/essay.ipynb", method="PUT", body={"type": "notebook", "content": old})
    assert status in (200, 201)
    container = fresh_stack.compose("ps", "-q", "lab").stdout.strip()

    first_save_done = threading.Event()

    def keep_saving():
        for _ in range(200):
            try:
                fresh_stack.api("/api/contents/essay.ipynb", method="PUT", body={"type": "notebook", "content": new})
            except OSError:
                return
            first_save_done.set()

    saver = threading.Thread(target=keep_saving)
    saver.start()
    # Kill while saves of the 800 kB notebook follow each other back to back.
    assert first_save_done.wait(timeout=60)
    run(["docker", "kill", "--signal", "KILL", container])
    saver.join(timeout=60)
    saved = json.loads((fresh_stack.workdir / "essay.ipynb").read_text())
    assert len(saved["cells"]) in (0, 400)


def test_work_folder_never_gets_root_owned_files(lab_stack):
    run_notebook_in_kernel(
        lab_stack, source="import os\nos.makedirs('deep/er', exist_ok=True)\nopen('deep/er/f.txt','w').write('x')"
    )
    owners = {path.stat().st_uid for path in [lab_stack.workdir, *lab_stack.workdir.rglob("*")]}
    assert owners == {dockerlab.TEST_UID}


# --- Bad host state -----------------------------------------------------------------------


def test_port_in_use_stops_the_start_with_dockers_message(cpu_lab_image, tmp_path_factory):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = Stack(make_workdir(tmp_path_factory), settings={"LAB_PORT": str(port)})
        try:
            result = stack.compose("up", "-d", "lab", check=False)
            assert result.returncode != 0
            assert "address already in use" in result.stderr or "port is already allocated" in result.stderr
            running = stack.compose("ps", "-q", "--status", "running", "lab").stdout.strip()
            assert running == ""
        finally:
            stack.down()


def test_training_killed_in_the_container_resumes_from_its_last_epoch(fresh_stack):
    args = ["--synthetic", "--epochs", "4", "--max-steps", "20", "--batch-size", "32", "--run-name", "interrupted"]
    started = fresh_stack.compose("--profile", "train", "run", "-d", "train", *args)
    container = started.stdout.strip().splitlines()[-1]
    results = fresh_stack.workdir / "runs" / "interrupted" / "results.json"

    metadata = results.with_name("backup") / "training_metadata.json"

    def backed_up_epochs() -> int:
        try:
            return int(json.loads(metadata.read_text())["epoch"])
        except (OSError, ValueError, KeyError):
            return 0

    # "[train] epoch 1/..." is printed once the epoch's results and backup are on disk. Killed
    # earlier, the run may lose its first epoch (a torn backup; tests/workload/test_resume.py).
    dockerlab.wait_for(
        lambda: "[train] epoch 1/" in run(["docker", "logs", container], check=False).stdout,
        timeout=300,
        what="the first epoch",
    )
    run(["docker", "kill", "--signal", "KILL", container])
    killed_at = backed_up_epochs()
    assert 1 <= killed_at < 4, "the run finished before it could be killed; give it more epochs"
    fresh_stack.compose("--profile", "train", "run", "--rm", "train", *args)
    data = json.loads(results.read_text())
    assert data["status"] == "complete"
    assert [epoch["epoch"] for epoch in data["epochs"]] == [1, 2, 3, 4]
    assert data["sessions"][-1]["first_epoch"] == killed_at + 1
    assert results.stat().st_uid == dockerlab.TEST_UID
