"""Never a stranger's image, on the real engine: a fresh `up` with no lab image builds it and
asks no registry for it; an image pinned by digest is pulled exactly. The registry is a local
one whose access log is the observation (any pull starts with a manifest request)."""

from __future__ import annotations

import json
import uuid

import pytest
from dockerlab import Stack, make_workdir, run

REPOSITORY = "courselab/lab"


def image_id(ref: str) -> str | None:
    done = run(["docker", "image", "inspect", "--format", "{{.Id}}", ref], check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def container_image(stack: Stack) -> str:
    container = stack.compose("ps", "-q", "lab").stdout.strip()
    return run(["docker", "inspect", "--format", "{{.Image}}", container]).stdout.strip()


@pytest.fixture
def registry_named_image(local_registry, cpu_lab_image):
    """A lab image name in the local registry that is not on the engine yet."""
    name = f"{local_registry.host}/{REPOSITORY}:nopull-{uuid.uuid4().hex[:8]}"
    yield name
    run(["docker", "image", "rm", "--force", name], check=False)


def test_fresh_up_builds_the_lab_image_and_asks_no_registry(local_registry, registry_named_image, tmp_path_factory):
    assert image_id(registry_named_image) is None
    stack = Stack(make_workdir(tmp_path_factory), settings={"LAB_IMAGE": registry_named_image})
    try:
        stack.up("lab")
        assert container_image(stack) == image_id(registry_named_image)
    finally:
        stack.down()
    assert local_registry.requests_for(REPOSITORY) == []


def test_digest_pinned_image_is_pulled_exactly(local_registry, released_cpu, tmp_path_factory):
    """The instructor's published image (scripts/lab release --registry, shared with the release
    tests), pinned by digest as the printed .env lines say."""
    manifest = released_cpu["first"]
    pinned = manifest["image"]["published"]
    repository = pinned.split("/", 1)[1].split("@", 1)[0]
    # The engine keeps the image under the release's local tag; only the published reference
    # goes, so compose has to ask the registry for it (and finds every layer already here).
    run(["docker", "image", "rm", f"{released_cpu['registry']}/lab:{released_cpu['term']}-cpu"], check=False)
    run(["docker", "image", "rm", pinned], check=False)
    assert image_id(pinned) is None
    before = len(local_registry.requests_for(repository))
    settings = {"LAB_IMAGE": pinned, "LAB_PULL_POLICY": "missing"}
    stack = Stack(make_workdir(tmp_path_factory), settings=settings)
    try:
        stack.up("lab")
        # The released image (its diff IDs: `.Id` differs between the two image stores).
        layers = run(["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", container_image(stack)])
        assert json.loads(layers.stdout) == manifest["image"]["diff_ids"]
    finally:
        stack.down()
        run(["docker", "image", "rm", pinned], check=False)
    digest = pinned.split("@", 1)[1]
    pulls = local_registry.requests_for(repository)[before:]
    assert any(f"/manifests/{digest}" in line for line in pulls), pulls
    assert not [line for line in pulls if f"/manifests/{released_cpu['term']}" in line]
