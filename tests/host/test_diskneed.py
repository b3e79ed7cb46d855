"""How much disk `scripts/lab up` asks for: decided from what the engine already holds."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from fakehost import DOCKER, R2_18_TARGETS, FakeDocker, host
from fakeworld import make_world, out
from labhost import checks, cli, diskneed, docker, plan
from labhost.docker import Completed

GB = diskneed.GB


@pytest.mark.parametrize(
    ("flavour", "lab_image", "base", "need"),
    [
        pytest.param("rocm", False, False, 45 * GB, id="rocm-first-start-pulls-the-base"),
        pytest.param("rocm", False, True, 3 * GB, id="rocm-base-here-only-the-lab-layer"),
        pytest.param("rocm", True, True, 0, id="rocm-image-built-nothing-to-build"),
        pytest.param("nvidia", False, False, 15 * GB, id="nvidia-first-start"),
        pytest.param("nvidia", False, True, 3 * GB, id="nvidia-base-here"),
        pytest.param("cpu", False, False, 6 * GB, id="cpu-first-start"),
        pytest.param("cpu", True, False, 0, id="cpu-image-pulled-by-digest"),
    ],
)
def test_the_need_is_what_still_has_to_be_pulled_or_built(flavour, lab_image, base, need):
    assert diskneed.decide(flavour=flavour, lab_image_present=lab_image, base_present=base).bytes == need


@dataclass(frozen=True)
class Disk:
    free_gb: float
    lab_image: bool
    base: bool
    status: str
    says: str


DISK_CASES = {
    # This shared test machine: about 20 GB free, the stand-in base built, the lab image not yet.
    "20gb-free-base-here-starts": Disk(20, False, True, "ok", "20.0 GB free"),
    "20gb-free-no-base-refused-with-the-full-need": Disk(20, False, False, "fail", "needs about 45 GB"),
    "2.5gb-free-base-here-still-too-little-for-the-layer": Disk(2.5, False, True, "fail", "lab layer on the rocm"),
    "2.5gb-free-image-built-starts": Disk(2.5, True, True, "ok", "2.5 GB free"),
    "1gb-free-image-built-warns-for-caches": Disk(1, True, True, "warn", "caches need room"),
}


@pytest.mark.parametrize("case", DISK_CASES.values(), ids=DISK_CASES.keys())
def test_disk_check_of_the_rocm_lab(case: Disk):
    h = host("rx6700xt")
    ctx = checks.Context(
        host=h,
        docker=docker.DockerFacts(cli_installed=True, server_version="20.10.24", root_dir="/var/lib/docker"),
        plan=plan.make_plan(h, R2_18_TARGETS),
        supported=R2_18_TARGETS,
        disk_free=int(case.free_gb * GB),
        image_present=case.lab_image,
        base_present=case.base,
    )

    result = checks.disk(ctx)

    assert result is not None
    assert result.status == case.status
    assert case.says in result.detail


def test_build_bases_come_from_composes_merged_model():
    text = (DOCKER / "compose-config-rocm.json").read_text()

    assert docker.build_bases(text) == ("rocm/tensorflow:rocm6.4.1-py3.12-tf2.18-dev",)


@pytest.mark.parametrize(
    "text",
    ["", "courselab/lab:test-rocm\n", "[]", '{"services": []}', '{"services": {"lab": {"build": "."}}}', "{"],
    ids=["empty", "image-list", "a-list", "services-a-list", "build-a-string", "truncated"],
)
def test_build_bases_of_any_other_output_are_none(text):
    assert docker.build_bases(text) == ()


def test_doctor_asks_the_engine_for_the_base_and_lets_a_start_with_20_gb_through(tmp_path):
    config = (DOCKER / "compose-config-rocm.json").read_text()
    run = FakeDocker(
        {
            ("docker", "compose", "-f", "compose.yaml", "-f", "compose.rocm.yaml", "config", "--format", "json"): (
                Completed(0, config, "")
            ),
            (
                "docker",
                "image",
                "inspect",
                "--format",
                "{{json .Config.Labels}}",
                "rocm/tensorflow:rocm6.4.1-py3.12-tf2.18-dev",
            ): (Completed(0, "{}\n", "")),
        }
    )
    world = make_world(tmp_path, "rx6700xt", run=run, env="LAB_FLAVOUR=rocm\nLAB_RENDER_GID=110\n")
    world.disk_free = lambda path: 20 * GB

    cli.main(["doctor", "--json"], world)
    disk = {c["name"]: c for c in json.loads(out(world))["checks"]}["disk"]

    assert disk["status"] == "ok", disk
    assert [
        "docker",
        "image",
        "inspect",
        "--format",
        "{{json .Config.Labels}}",
        "rocm/tensorflow:rocm6.4.1-py3.12-tf2.18-dev",
    ] in run.calls
