"""Where the engine keeps images (labhost.imagestore), decided from real `docker info` outputs of
Engine 20.10 and 26.1.5 on both image stores (tests/host/fixtures/docker/), and the registry's
digest read from real `docker push` outputs of the three worlds (each equal to the
Docker-Content-Digest the registry served for the tag when it was recorded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from labhost import imageref, imagestore
from labhost.docker import Completed

FIXTURES = Path(__file__).parent / "fixtures" / "docker"
INFO = {
    "engine20-default": "info.stdout",
    "engine26-default": "info-engine26-default.json",
    "engine26-containerd": "info-engine26-containerd.json",
}


def info(world: str) -> dict:
    return json.loads((FIXTURES / INFO[world]).read_text())


@pytest.mark.parametrize("world", ["engine20-default", "engine26-default"])
def test_the_default_store_keeps_images_under_docker_root_dir(world):
    store = imagestore.decide(info(world), system_socket_exists=True, containerd_config=None)
    assert store == imagestore.Store(False, info(world)["DockerRootDir"])


def test_engine_26_with_its_own_containerd_keeps_images_in_that_containerds_root():
    """Recorded from the Engine 26 here, which started its own containerd (root
    <DockerRootDir>/containerd/daemon; docker info of 26.1 does not say which containerd)."""
    data = info("engine26-containerd")
    store = imagestore.decide(data, system_socket_exists=False, containerd_config=None)
    assert store == imagestore.Store(True, f"{data['DockerRootDir']}/containerd/daemon")


def test_with_a_system_containerd_running_the_images_are_in_its_root():
    data = info("engine26-containerd")
    assert imagestore.decide(data, system_socket_exists=True, containerd_config=None).image_dir == "/var/lib/containerd"
    config = 'version = 2\nroot = "/srv/containerd"\n[plugins]\n  root = "/elsewhere"\n'
    assert imagestore.decide(data, system_socket_exists=True, containerd_config=config).image_dir == "/srv/containerd"


@pytest.mark.parametrize(
    ("address", "image_dir"),
    [
        pytest.param("/run/containerd/containerd.sock", "/var/lib/containerd", id="system"),
        pytest.param("/var/run/docker/containerd/containerd.sock", "/var/lib/cle26c/containerd/daemon", id="managed"),
    ],
)
def test_engine_27_and_later_say_which_containerd(address, image_dir):
    """Engine 27+ adds .Containerd.Address (API 1.46): the fixture of 26 with that field added."""
    data = {**info("engine26-containerd"), "Containerd": {"Address": address, "Namespaces": {"Containers": "moby"}}}
    # The address decides, whatever this host has at the default socket.
    assert imagestore.decide(data, system_socket_exists=not address.startswith("/run"), containerd_config=None) == (
        imagestore.Store(True, image_dir)
    )


def test_gather_reads_docker_info_and_the_host(tmp_path):
    (tmp_path / "run/containerd").mkdir(parents=True)
    (tmp_path / "run/containerd/containerd.sock").write_text("")
    text = (FIXTURES / INFO["engine26-containerd"]).read_text()
    store = imagestore.gather(lambda argv: Completed(0, text), tmp_path)
    assert store == imagestore.Store(True, "/var/lib/containerd")
    assert imagestore.gather(lambda argv: Completed(1, "", "Cannot connect"), tmp_path) is None


def test_a_load_needs_room_for_the_archive_and_the_unpacked_layers():
    assert imagestore.load_need(tar_size=2 * 10**9, unpacked=2 * 10**9) == int(4.4 * 10**9)


# Docker-Content-Digest of /v2/course/lab/manifests/t1-cpu, asked of the registry right after.
SERVED = {
    "engine20-default": "sha256:4d89a92e55d18567852e1503d97906e72cc10e95db5723845a73acff04de3846",
    "engine26-default": "sha256:4b68556ece16863e69618143db1f8e324c6d1571f0984860771df1139f5c8f09",
    "engine26-containerd": "sha256:83a6bcabc2c7ccd379ea4857830d20cc8107a365fb8b671c42275fcbc1fcbfba",
}


@pytest.mark.parametrize("world", list(SERVED))
def test_the_pushed_digest_is_read_from_the_engines_own_report(world):
    output = (FIXTURES / f"push-{world}.stdout").read_text()
    assert imageref.pushed_digest(output, "t1-cpu") == SERVED[world]
    assert imageref.pushed_digest(output, "other-tag") is None
    assert imageref.pushed_digest(output.replace(" digest: ", " "), "t1-cpu") is None
