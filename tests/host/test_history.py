"""labhost.history on real `docker history` outputs of the lab image (tests/host/fixtures/docker):
the lab layer is found for both builders, and a history that does not match the layers
claims nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from labhost import history

FIXTURES = Path(__file__).parent / "fixtures" / "docker"
# The legacy builder's answer was read from its intermediate image (the old way, which only
# that builder allows); BuildKit's is the RUN after the base's 3 layers and two COPY layers.
LAB_LAYER = {
    "legacy": "sha256:ab6e7c7fe032c668f583d98630e9c04533177eeaf8ff3cb359a8ff55371ab940",
    "buildkit": "sha256:0c45b37857da59dd8a4065a4b4fc6a69dda7366b3bbd952032d197ba62974ee3",
}


def recorded(builder: str) -> tuple[list[history.Step], list[str]]:
    lines = (FIXTURES / f"history-{builder}.jsonl").read_text().splitlines()
    steps = [history.Step(e["CreatedBy"], history.parse_size(e["Size"])) for e in map(json.loads, lines)]
    return steps, json.loads((FIXTURES / f"history-{builder}.layers.json").read_text())


@pytest.mark.parametrize("builder", ["legacy", "buildkit"])
def test_lab_layer_is_found_for_both_builders(builder):
    steps, layers = recorded(builder)
    found = history.layer_of(steps, layers, "install-lab-layer.sh")
    assert found is not None
    diff_id, step = found
    assert diff_id == LAB_LAYER[builder]
    assert step.size == 285 * 10**6
    assert "RUN" in step.created_by or "/bin/sh -c sh /opt/lab-build/install-lab-layer.sh" in step.created_by


def test_a_history_that_does_not_match_the_layers_claims_nothing():
    steps, layers = recorded("buildkit")
    assert history.layer_of(steps, layers[1:], "install-lab-layer.sh") is None


@pytest.mark.parametrize(
    ("created_by", "layer"),
    [
        pytest.param("/bin/sh -c #(nop)  ENV A=1", False, id="legacy-env"),
        pytest.param("/bin/sh -c #(nop) COPY dir:abc in /opt ", True, id="legacy-copy"),
        pytest.param("/bin/sh -c #(nop) WORKDIR /home/lab/work", False, id="legacy-workdir"),
        pytest.param("|2 A=1 B=2 /bin/sh -c make", True, id="legacy-run-with-args"),
        pytest.param("ENV A=1", False, id="buildkit-env"),
        pytest.param("WORKDIR /home/lab/work", True, id="buildkit-workdir"),
        pytest.param("COPY lab /opt/lab/course # buildkit", True, id="buildkit-copy"),
        pytest.param("", True, id="docker-import"),
    ],
)
def test_which_steps_make_a_layer(created_by, layer):
    assert history.makes_layer(created_by) is layer


@pytest.mark.parametrize(
    ("text", "size"), [("0B", 0), ("285MB", 285 * 10**6), ("1.49GB", 149 * 10**7), ("65.8kB", 65800)]
)
def test_sizes_as_docker_prints_them(text, size):
    assert history.parse_size(text) == size
