"""A student on an arm64 Docker engine (Apple silicon Mac, arm64 Linux): the CPU lab must be
built on an arm64 TensorFlow base (labhost.arm64). `setup` names it in .env and prints the one
command that builds it, the doctor says whether the configured base runs on this engine, and
`up` refuses, in one line, to build on a base that would abort under emulation.

The engine's answers are the recorded `docker info` of this machine with the machine field
Docker reports on Apple silicon (`"Architecture": "aarch64"`; Docker Desktop's VM is an aarch64
Linux), and `docker image inspect --format {{.Architecture}}` answers in Go's names (amd64,
arm64), as the real CLI does. tests/image/test_arm64.py builds both images for arm64.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fakehost import REPO, FakeDocker, recorded
from fakeworld import err, make_world, out
from labhost import arm64, cli
from labhost.docker import Completed
from labhost.envfile import EnvFile
from labkit.settings import effective

DEFAULT_BASE = effective({}, "LAB_BASE_IMAGE")
VERSION = DEFAULT_BASE.split(":", 1)[1]
OUR_ARM64_BASE = f"courselab.invalid/tensorflow:{VERSION}-arm64"


class EngineOn(FakeDocker):
    """An engine on `machine` holding `images` ({name: architecture}); compose builds the CPU
    lab on .env's LAB_BASE_IMAGE, or the default, as the real `compose config` would say."""

    def __init__(self, machine: str, images: dict[str, str], repo: Path):
        super().__init__()
        self.machine, self.images, self.repo = machine, images, repo

    def base(self) -> str:
        env = self.repo / ".env"
        values = EnvFile.parse(env.read_text()).values() if env.is_file() else {}
        return effective(values, "LAB_BASE_IMAGE")

    def __call__(self, argv):
        argv = list(argv)
        if argv[:2] == ["docker", "info"]:
            self.calls.append(argv)
            info = json.loads(recorded("info").stdout)
            info["Architecture"] = self.machine
            return Completed(0, json.dumps(info), "")
        if argv[:3] == ["docker", "image", "inspect"]:
            self.calls.append(argv)
            image = argv[-1]
            if image not in self.images:
                return Completed(1, "", f"Error response from daemon: No such image: {image}")
            return Completed(0, self.images[image] + "\n" if ".Architecture" in argv[-2] else "{}\n", "")
        if argv[:2] == ["docker", "compose"] and argv[-3:] == ["config", "--format", "json"]:
            self.calls.append(argv)
            model = {"services": {"lab": {"build": {"args": {"BASE_IMAGE": self.base()}}}}}
            return Completed(0, json.dumps(model), "")
        return super().__call__(argv)


def world_on(tmp_path, machine: str, images: dict[str, str] | None = None, env: str | None = None):
    world = make_world(tmp_path, "no-gpu", env=env)
    world.run = EngineOn(machine, images or {}, world.repo)
    return world


def doctor(world) -> dict[str, dict]:
    cli.main(["doctor", "--json"], world)
    return {check["name"]: check for check in json.loads(out(world))["checks"]}


# ---- the decision -------------------------------------------------------------------------


@pytest.mark.parametrize("machine", ["x86_64", None, ""])
def test_nothing_to_say_off_arm64(machine):
    assert arm64.judge_cpu_base(engine_architecture=machine, base_image=DEFAULT_BASE, base_architecture="amd64") is None


@pytest.mark.parametrize(
    "base,architecture,problem,fix_image",
    [
        (DEFAULT_BASE, None, "vendor-amd64-only", OUR_ARM64_BASE),
        (DEFAULT_BASE, "amd64", "built-for-other", OUR_ARM64_BASE),
        ("tensorflow/tensorflow:2.19.0", None, "vendor-amd64-only", "courselab.invalid/tensorflow:2.19.0-arm64"),
        (OUR_ARM64_BASE, None, "not-built", OUR_ARM64_BASE),
        ("school.example/tf:arm", None, "not-built", None),
        ("school.example/tf:arm", "amd64", "built-for-other", None),
        ("tensorflow/tensorflow:2.20.0-gpu", None, "not-built", None),  # no CPU release tag: no guess
    ],
)
def test_an_amd64_or_missing_base_is_refused_on_arm64(base, architecture, problem, fix_image):
    verdict = arm64.judge_cpu_base(engine_architecture="aarch64", base_image=base, base_architecture=architecture)
    assert verdict is not None and not verdict.ok
    assert verdict.problem is arm64.BaseProblem(problem)
    assert verdict.arm64_base == fix_image
    if fix_image:
        version = fix_image.split(":")[1].removesuffix("-arm64")
        assert verdict.command == (
            f"docker build --platform linux/arm64 --build-arg TF_VERSION={version} "
            f"-f image/Dockerfile.arm64-base -t {fix_image} image"
        )
    else:
        assert verdict.command is None


@pytest.mark.parametrize("machine", ["aarch64", "arm64"])
def test_an_arm64_base_runs_natively(machine):
    verdict = arm64.judge_cpu_base(engine_architecture=machine, base_image="anything:tag", base_architecture="arm64")
    assert verdict is not None and verdict.ok


def test_the_recipe_and_the_readmes_build_the_base_the_code_names():
    recipe = (REPO / arm64.RECIPE).read_text()
    assert re.search(rf"^ARG TF_VERSION={re.escape(VERSION)}$", recipe, re.MULTILINE)
    for readme in ("README.md", "README.vi.md"):
        text = (REPO / readme).read_text()
        assert arm64.build_command(VERSION) in text, readme
        assert f"LAB_BASE_IMAGE={OUR_ARM64_BASE}" in text, readme
    assert f"sets this to {OUR_ARM64_BASE} and prints" in (REPO / ".env.example").read_text()


# ---- setup, doctor and up on an arm64 engine ------------------------------------------------


def test_setup_names_the_arm64_base_and_says_how_to_build_it(tmp_path):
    world = world_on(tmp_path, "aarch64")
    assert cli.main(["setup"], world) == 0
    values = EnvFile.parse((world.repo / ".env").read_text()).values()
    assert values["LAB_BASE_IMAGE"] == OUR_ARM64_BASE
    assert f"Build the arm64 TensorFlow base once, before the first start: {arm64.build_command(VERSION)}" in out(world)


def test_setup_is_quiet_once_the_arm64_base_is_built(tmp_path):
    world = world_on(tmp_path, "aarch64", {OUR_ARM64_BASE: "arm64"})
    assert cli.main(["setup"], world) == 0
    assert EnvFile.parse((world.repo / ".env").read_text()).values()["LAB_BASE_IMAGE"] == OUR_ARM64_BASE
    assert "Build the arm64" not in out(world)


def test_setup_keeps_an_instructors_own_arm64_base(tmp_path):
    env = "LAB_BASE_IMAGE=school.example/tf:2.20-arm\n"
    world = world_on(tmp_path, "aarch64", {"school.example/tf:2.20-arm": "arm64"}, env=env)
    assert cli.main(["setup"], world) == 0
    assert EnvFile.parse((world.repo / ".env").read_text()).values()["LAB_BASE_IMAGE"] == "school.example/tf:2.20-arm"


def test_setup_on_amd64_writes_no_base(tmp_path):
    world = world_on(tmp_path, "x86_64")
    assert cli.main(["setup"], world) == 0
    assert "LAB_BASE_IMAGE" not in EnvFile.parse((world.repo / ".env").read_text()).values()
    assert "arm64" not in out(world)


@pytest.mark.parametrize(
    "images,env,status,words",
    [
        ({}, None, "fail", f"{DEFAULT_BASE} exists for amd64 only"),
        ({DEFAULT_BASE: "amd64"}, None, "fail", f"the base {DEFAULT_BASE} is built for amd64"),
        ({}, f"LAB_BASE_IMAGE={OUR_ARM64_BASE}\n", "fail", f"the arm64 base {OUR_ARM64_BASE} is not built yet"),
        ({OUR_ARM64_BASE: "arm64"}, f"LAB_BASE_IMAGE={OUR_ARM64_BASE}\n", "ok", "builds natively for arm64"),
    ],
    ids=["vendor-base", "amd64-base-here", "ours-not-built", "ours-built"],
)
def test_doctor_judges_the_cpu_base_on_arm64(tmp_path, images, env, status, words):
    check = doctor(world_on(tmp_path, "aarch64", images, env=env))["arm64"]
    assert check["status"] == status, check
    assert words in check["detail"]
    if status == "fail":
        assert arm64.build_command(VERSION) in check["fix"]


def test_no_arm64_item_on_amd64(tmp_path):
    world = world_on(tmp_path, "x86_64")
    assert "arm64" not in doctor(world)
    # Nor a docker call for it: the base's architecture is read on arm64 engines only.
    assert not [call for call in world.run.calls if "{{.Architecture}}" in call]


def test_up_refuses_an_amd64_base_on_arm64_in_one_line(tmp_path):
    world = world_on(tmp_path, "aarch64", env="JUPYTER_TOKEN=" + "ab" * 24 + "\n")
    assert cli.main(["up"], world) == 1
    lines = err(world).strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith("Nothing was started.")
    assert f"{DEFAULT_BASE} exists for amd64 only" in lines[0] and arm64.build_command(VERSION) in lines[0]
    assert world.ran == []  # type: ignore[attr-defined]


def test_up_starts_on_arm64_once_the_base_is_built(tmp_path):
    env = f"LAB_BASE_IMAGE={OUR_ARM64_BASE}\nJUPYTER_TOKEN=" + "ab" * 24 + "\n"
    world = world_on(tmp_path, "aarch64", {OUR_ARM64_BASE: "arm64"}, env=env)
    assert cli.main(["up"], world) == 0, err(world)
    assert world.ran and world.ran[0][-3:] == ["up", "-d", "--wait"]  # type: ignore[attr-defined]


def test_the_arm64_refusal_in_vietnamese(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    world = world_on(tmp_path, "aarch64", env="JUPYTER_TOKEN=" + "ab" * 24 + "\n")
    assert cli.main(["up"], world) == 1
    assert f"Docker này chạy arm64, nhưng {DEFAULT_BASE} chỉ có cho amd64" in err(world)
    assert arm64.build_command(VERSION) in err(world)
