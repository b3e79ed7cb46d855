"""The settings' checks against their real consumers: every value format compose (or the
engine) accepts, the lab accepts too, and what it refuses, the lab refuses first with its own
one line. The only exceptions are values compose takes that would break the lab; each says why.

Compose's verdict comes from `docker compose config` on a small file that puts each value
where compose.yaml puts the setting (mem_limit, shm_size, cpus, pids_limit, the GPU count, the
published port); image references go to the engine (`docker image inspect`, which parses a
reference like build, pull and tag do).
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from labkit import values
from labkit.settings import BY_NAME_OF

PASSED_THROUGH = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "XDG_RUNTIME_DIR")
BOTH = "both accept"
NEITHER = "both refuse"


def field(setting: str, variable: str) -> dict:
    """Where compose.yaml (or compose.nvidia.yaml) puts `setting`, with `variable` in it."""
    value = f"${{{variable}}}"
    return {
        "LAB_MEMORY_LIMIT": {"mem_limit": value},
        "LAB_SHM_SIZE": {"shm_size": value},
        "LAB_CPUS": {"cpus": value},
        "LAB_PIDS_LIMIT": {"pids_limit": value},
        "LAB_PORT": {"ports": [f"127.0.0.1:{value}:8888"]},
        "LAB_BIND_ADDRESS": {"ports": [f"{value}:8888:8888"]},
        "LAB_NVIDIA_GPU_COUNT": {
            "deploy": {
                "resources": {
                    "reservations": {"devices": [{"driver": "nvidia", "count": value, "capabilities": ["gpu"]}]}
                }
            }
        },
    }[setting]


# (setting, value, expected): BOTH, NEITHER, or why the lab refuses what compose takes.
CASES = [
    ("LAB_MEMORY_LIMIT", "8g", BOTH),
    ("LAB_MEMORY_LIMIT", "8gb", BOTH),
    ("LAB_MEMORY_LIMIT", "8GB", BOTH),
    ("LAB_MEMORY_LIMIT", "8GiB", BOTH),
    ("LAB_MEMORY_LIMIT", "8 g", BOTH),
    ("LAB_MEMORY_LIMIT", "1.5g", BOTH),
    ("LAB_MEMORY_LIMIT", ".5g", BOTH),
    ("LAB_MEMORY_LIMIT", "512m", BOTH),
    ("LAB_MEMORY_LIMIT", "524288k", BOTH),
    ("LAB_MEMORY_LIMIT", "8589934592", BOTH),
    ("LAB_MEMORY_LIMIT", "1e10", BOTH),
    ("LAB_MEMORY_LIMIT", "0x1p3g", BOTH),
    ("LAB_MEMORY_LIMIT", "1_000m", BOTH),
    ("LAB_MEMORY_LIMIT", "+8g", BOTH),
    ("LAB_MEMORY_LIMIT", "0", BOTH),
    ("LAB_MEMORY_LIMIT", "8", "8 bytes: Docker's engine refuses less than 6 MiB when the container starts"),
    ("LAB_MEMORY_LIMIT", "1e30", "beyond int64: compose passes a negative number on"),
    ("LAB_MEMORY_LIMIT", "lots", NEITHER),
    ("LAB_MEMORY_LIMIT", "8x", NEITHER),
    ("LAB_MEMORY_LIMIT", "8bb", NEITHER),
    ("LAB_MEMORY_LIMIT", "-1", NEITHER),
    ("LAB_MEMORY_LIMIT", "1.5.2g", NEITHER),
    ("LAB_MEMORY_LIMIT", "0x10", NEITHER),
    ("LAB_SHM_SIZE", "1gb", BOTH),
    ("LAB_SHM_SIZE", "64m", BOTH),
    ("LAB_SHM_SIZE", "2GiB", BOTH),
    ("LAB_SHM_SIZE", "1 gigabyte", NEITHER),
    ("LAB_CPUS", "4", BOTH),
    ("LAB_CPUS", "1.5", BOTH),
    ("LAB_CPUS", ".5", BOTH),
    ("LAB_CPUS", "1e0", BOTH),
    ("LAB_CPUS", "0x1p0", BOTH),
    ("LAB_CPUS", "1_0", BOTH),
    ("LAB_CPUS", "+2", BOTH),
    ("LAB_CPUS", "0", BOTH),
    ("LAB_CPUS", "-1", "negative: the engine refuses it when the container starts"),
    ("LAB_CPUS", "0.001", "below the engine's smallest limit, 0.01"),
    ("LAB_CPUS", "four", NEITHER),
    ("LAB_CPUS", "1,5", NEITHER),
    ("LAB_CPUS", "1e400", NEITHER),
    ("LAB_PIDS_LIMIT", "2048", BOTH),
    ("LAB_PIDS_LIMIT", "+4096", BOTH),
    ("LAB_PIDS_LIMIT", "0", BOTH),
    ("LAB_PIDS_LIMIT", "-1", BOTH),
    ("LAB_PIDS_LIMIT", "10", "JupyterLab and a kernel need at least 64 processes"),
    ("LAB_PIDS_LIMIT", "1e3", NEITHER),
    ("LAB_PIDS_LIMIT", "2048.0", NEITHER),
    ("LAB_PIDS_LIMIT", "1_000", NEITHER),
    ("LAB_PIDS_LIMIT", "many", NEITHER),
    ("LAB_NVIDIA_GPU_COUNT", "all", BOTH),
    ("LAB_NVIDIA_GPU_COUNT", "ALL", BOTH),
    ("LAB_NVIDIA_GPU_COUNT", "1", BOTH),
    ("LAB_NVIDIA_GPU_COUNT", "+2", BOTH),
    ("LAB_NVIDIA_GPU_COUNT", "-1", BOTH),
    ("LAB_NVIDIA_GPU_COUNT", "-2", "a negative count other than -1 (Docker's 'all') means nothing"),
    ("LAB_NVIDIA_GPU_COUNT", "1.5", NEITHER),
    ("LAB_NVIDIA_GPU_COUNT", "two", NEITHER),
    ("LAB_PORT", "8888", BOTH),
    ("LAB_PORT", "08888", BOTH),
    ("LAB_PORT", "65535", BOTH),
    ("LAB_PORT", "0", "any free port: the lab could not print its URL"),
    ("LAB_PORT", "8888-8890", "a range: the lab needs one port for its URL"),
    ("LAB_PORT", "65536", NEITHER),
    ("LAB_PORT", "+80", NEITHER),
    ("LAB_PORT", "1e3", NEITHER),
    ("LAB_BIND_ADDRESS", "127.0.0.1", BOTH),
    ("LAB_BIND_ADDRESS", "0.0.0.0", BOTH),
    ("LAB_BIND_ADDRESS", "::1", BOTH),
    ("LAB_BIND_ADDRESS", "[::1]", BOTH),
    ("LAB_BIND_ADDRESS", "::", BOTH),
    ("LAB_BIND_ADDRESS", "localhost", NEITHER),
    ("LAB_BIND_ADDRESS", "127.1", NEITHER),
    ("LAB_BIND_ADDRESS", "256.1.1.1", NEITHER),
    ("LAB_BIND_ADDRESS", "127.0.0.01", NEITHER),
]
IDS = [f"{setting}={value}" for setting, value, _ in CASES]


def render(cases: list[tuple[str, str, str]], folder: Path) -> subprocess.CompletedProcess:
    name = uuid.uuid4().hex[:8]
    services, env_lines = {}, []
    for index, (setting, value, _) in enumerate(cases):
        services[f"s{index}"] = {"image": "x", **field(setting, f"V{index}")}
        env_lines.append(f"V{index}={value}")
    (folder / f"{name}.yaml").write_text(json.dumps({"services": services}))
    (folder / f"{name}.env").write_text("\n".join(env_lines) + "\n")
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    command = ["docker", "compose", "-p", f"valtest-{name}", "-f", str(folder / f"{name}.yaml")]
    command += ["--env-file", str(folder / f"{name}.env"), "config", "--format", "json"]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)


@pytest.fixture(scope="module")
def compose_accepts(compose_cli, tmp_path_factory) -> dict[str, bool]:
    """Case id -> whether compose renders it. The lab-accepted cases go in one file (they must
    all render); every other case gets a file of its own, since one error stops compose."""
    folder = tmp_path_factory.mktemp("values")
    verdicts = {}
    together = [case for case in CASES if case[2] == BOTH]
    done = render(together, folder)
    assert done.returncode == 0, done.stderr
    verdicts.update({f"{s}={v}": True for s, v, _ in together})
    alone = [case for case in CASES if case[2] != BOTH]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = pool.map(lambda case: render([case], folder).returncode == 0, alone)
    verdicts.update({f"{s}={v}": ok for (s, v, _), ok in zip(alone, results, strict=True)})
    return verdicts


@pytest.mark.parametrize(("setting", "value", "expected"), CASES, ids=IDS)
def test_the_lab_accepts_what_compose_accepts(compose_accepts, setting: str, value: str, expected: str) -> None:
    lab_accepts = BY_NAME_OF[setting].check(setting, value) is None
    compose_ok = compose_accepts[f"{setting}={value}"]

    if expected == BOTH:
        assert (lab_accepts, compose_ok) == (True, True)
    elif expected == NEITHER:
        assert (lab_accepts, compose_ok) == (False, False)
    else:  # refused by the lab on purpose: the reason is in the table
        assert (lab_accepts, compose_ok) == (False, True)


def test_sizes_are_the_bytes_compose_computes(compose_cli, tmp_path) -> None:
    sizes = [case for case in CASES if case[0] in ("LAB_MEMORY_LIMIT", "LAB_SHM_SIZE") and case[2] == BOTH]
    done = render(sizes, tmp_path)
    services = json.loads(done.stdout)["services"]

    for index, (setting, value, _) in enumerate(sizes):
        key = "mem_limit" if setting == "LAB_MEMORY_LIMIT" else "shm_size"
        rendered = services[f"s{index}"].get(key)  # compose leaves 0 out
        assert int(rendered or 0) == values.size_in_bytes(value), value


# distribution/reference's grammar, against the engine's own parser. A newer engine than
# Debian's 20.10 also takes an IPv6 registry ([::1]:5000/x), which the check accepts too.
IMAGE_CASES = [
    ("courselab/lab:2.20.0-cpu", True),
    ("rocm/tensorflow:rocm6.4.1-py3.12-tf2.18-dev", True),
    ("localhost:5000/course/lab:1", True),
    ("registry.Example.com/lab:1", True),
    ("a__b:1", True),
    ("lab@sha256:" + "a" * 64, True),
    ("lab:1@sha256:" + "b" * 64, True),
    ("CourseLab/lab:1", False),
    ("Upper:1", False),
    ("Course Lab:latest", False),
    ("a..b:1", False),
    ("a___b:1", False),
    ("x:-tag", False),
    ("lab@sha256:abc", False),
    ("lab:1@sha256:abc", False),
]


@pytest.fixture(scope="module")
def engine_accepts(docker_engine) -> dict[str, bool]:
    references = [reference for reference, _ in IMAGE_CASES]
    done = subprocess.run(["docker", "image", "inspect", *references], capture_output=True, text=True, timeout=60)
    refused = {line.split(": ")[2] for line in done.stderr.splitlines() if "invalid reference format" in line}
    return {reference: reference not in refused for reference in references}


@pytest.mark.parametrize(("reference", "valid"), IMAGE_CASES, ids=[r for r, _ in IMAGE_CASES])
def test_image_references_are_checked_like_the_engine_parses_them(engine_accepts, reference: str, valid: bool):
    assert engine_accepts[reference] is valid
    assert (values.image("LAB_IMAGE", reference) is None) is valid
