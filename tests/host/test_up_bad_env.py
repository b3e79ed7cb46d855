"""`scripts/lab up` with a bad .env: one line naming the variable (and its line in .env), the
fix, "Nothing was started", exit 1, no docker command run at all, and .env byte-identical.

The host tier runs the real command (cli.main) on a fake computer; one case of this table also
runs through the real engine in tests/stack/test_host_cli.py.
"""

from __future__ import annotations

import pytest
from fakehost import FakeDocker
from fakeworld import err, make_world
from labhost import cli

NOTHING_STARTED = "Nothing was started. Fix the line above, or run `scripts/lab setup`."

# id -> (.env text, the variable the one line names, text that line must have)
BAD_ENV = {
    "override-malformed": ("HSA_OVERRIDE_GFX_VERSION=10.3\n", "HSA_OVERRIDE_GFX_VERSION", "three numbers like 10.3.0"),
    "override-empty": ("HSA_OVERRIDE_GFX_VERSION=\n", "HSA_OVERRIDE_GFX_VERSION", "is set but empty"),
    "override-gfx-name": ("HSA_OVERRIDE_GFX_VERSION=gfx1031\n", "HSA_OVERRIDE_GFX_VERSION", "three numbers"),
    "allow-growth-yes": ("TF_FORCE_GPU_ALLOW_GROWTH=yes\n", "TF_FORCE_GPU_ALLOW_GROWTH", "only 'true' or 'false'"),
    "uid-name": ("LAB_UID=student\n", "LAB_UID", "not a number"),
    "uid-root": ("LAB_UID=0\n", "LAB_UID", "never runs as root"),
    "gid-negative": ("LAB_GID=-1\n", "LAB_GID", "not a number"),
    "render-gid-name": ("LAB_RENDER_GID=render\n", "LAB_RENDER_GID", "stat -c %g /dev/dri/renderD128"),
    "kfd-gid-name": ("LAB_KFD_GID=video\n", "LAB_KFD_GID", "stat -c %g /dev/kfd"),
    "port-out-of-range": ("LAB_PORT=70000\n", "LAB_PORT", "between 1 and 65535"),
    "token-too-short": ("JUPYTER_TOKEN=abc123\n", "JUPYTER_TOKEN", "at least 16 are required"),
    "flavour-unknown": ("LAB_FLAVOUR=intel\n", "LAB_FLAVOUR", "not one of cpu, nvidia, rocm"),
    "image-malformed": ("LAB_IMAGE=Course Lab:latest\n", "LAB_IMAGE", "not a valid image reference"),
    "rocm-image-uppercase": ("LAB_ROCM_IMAGE=Course/Lab:1\n", "LAB_ROCM_IMAGE", "names are lowercase"),
    "base-image-bad-digest": ("LAB_BASE_IMAGE=tensorflow/tensorflow@sha256:abc\n", "LAB_BASE_IMAGE", "sha256"),
    "bind-hostname": ("LAB_BIND_ADDRESS=my-laptop\n", "LAB_BIND_ADDRESS", "not an IP address"),
    "memory-word": ("LAB_MEMORY_LIMIT=lots\n", "LAB_MEMORY_LIMIT", "not a size like 8g"),
    "memory-without-unit": ("LAB_MEMORY_LIMIT=8\n", "LAB_MEMORY_LIMIT", "LAB_MEMORY_LIMIT=8g"),
    "shm-word": ("LAB_SHM_SIZE=1 gigabyte\n", "LAB_SHM_SIZE", "not a size"),
    "cpus-comma": ("LAB_CPUS=1,5\n", "LAB_CPUS", "not a number of CPUs"),
    "pids-too-few": ("LAB_PIDS_LIMIT=5\n", "LAB_PIDS_LIMIT", "at least 64 processes"),
    "gpu-count-word": ("LAB_NVIDIA_GPU_COUNT=two\n", "LAB_NVIDIA_GPU_COUNT", "'all' or a number"),
    "log-level-word": ("TF_CPP_MIN_LOG_LEVEL=quiet\n", "TF_CPP_MIN_LOG_LEVEL", "0, 1, 2 or 3"),
    "timeout-zero": ("LAB_GATE_TIMEOUT=0\n", "LAB_GATE_TIMEOUT", "above 0"),
    "windows-work-folder": ("LAB_WORK_DIR=C:\\Users\\lan\\work\n", "LAB_WORK_DIR", "a Windows path"),
    "compose-file-commas": ("COMPOSE_FILE=compose.yaml,compose.rocm.yaml\n", "COMPOSE_FILE", "list of compose files"),
    "both-visible-device-filters": (
        "ROCR_VISIBLE_DEVICES=0\nHIP_VISIBLE_DEVICES=0\n",
        "HIP_VISIBLE_DEVICES",
        "the two filters stack",
    ),
    "kfd-equals-render": ("LAB_KFD_GID=110\nLAB_RENDER_GID=110\n", "LAB_KFD_GID", "same group twice"),
    "old-name-equals-render": ("LAB_VIDEO_GID=110\nLAB_RENDER_GID=110\n", "LAB_VIDEO_GID", "same group twice"),
    "unterminated-quote": ('JUPYTER_TOKEN="my-long-token-123456\n', "", "unterminated quoted value"),
    "space-in-key": ("LAB PORT=8888\n", "", "key cannot contain a space"),
}


@pytest.mark.parametrize("name", list(BAD_ENV))
def test_bad_env_stops_up_before_docker_is_asked_anything(tmp_path, name: str) -> None:
    text, key, why = BAD_ENV[name]
    env = "# my settings\n" + text
    run = FakeDocker()
    world = make_world(tmp_path, "no-gpu", run=run, env=env)

    assert cli.main(["up"], world) == 1

    lines = err(world).strip().splitlines()
    assert len(lines) == 2, lines
    named = [number for number, line in enumerate(env.splitlines(), 1) if key and line.startswith(f"{key}=")]
    assert lines[0].startswith(f".env line {named[-1] if named else 2}: ")
    assert f": {key}: " in lines[0] if key else "compose cannot read this line" in lines[0]
    assert why in lines[0]
    assert ". Fix: " in lines[0]
    assert lines[1] == NOTHING_STARTED
    assert run.calls == []
    assert world.ran == []
    assert (world.repo / ".env").read_text() == env


def test_every_problem_in_the_file_is_named_at_once(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu", env="LAB_PORT=eighty\nLAB_UID=0\n")

    assert cli.main(["up"], world) == 1

    assert err(world).splitlines() == [
        ".env line 1: LAB_PORT: is 'eighty', not a port between 1 and 65535. "
        "Fix: set LAB_PORT=8888 or another free port.",
        ".env line 2: LAB_UID: is 0 (root); the lab never runs as root. Fix: set it to your own user id from `id -u`.",
        NOTHING_STARTED,
    ]


def test_an_old_name_starts_the_lab_with_a_one_line_notice(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu", env="LAB_VIDEO_GID=44\n")

    assert cli.main(["up"], world) == 0

    assert err(world).splitlines() == [
        "Note: LAB_VIDEO_GID is the old name of LAB_KFD_GID: rename it in .env (the old name still works)."
    ]
    assert len(world.ran) == 1


def test_a_missing_work_folder_stops_up_with_the_fix(tmp_path) -> None:
    world = make_world(tmp_path, "no-gpu", env="LAB_WORK_DIR=./my-notebooks\n")

    assert cli.main(["up"], world) == 1

    assert err(world).splitlines() == [
        "./my-notebooks does not exist (Docker would create it owned by root). "
        "Fix: run `mkdir -p ./my-notebooks`. Nothing was started."
    ]
    assert world.ran == []
