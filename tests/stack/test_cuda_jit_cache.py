"""CUDA's kernel JIT cache lives on the cache volume: what the driver compiled from PTX on
the first start is still there after the container is recreated (`down` without -v, `up`).

No GPU here, so the test writes the file the driver would write, as the lab's user, at the
path the image gives CUDA (CUDA_CACHE_PATH). The CPU stack uses the same Dockerfile and the
same cache volume as the NVIDIA overlay (compose.nvidia.yaml changes neither)."""

from __future__ import annotations

import json

from dockerlab import run

WRITE = 'mkdir -p "$CUDA_CACHE_PATH" && printf compiled > "$CUDA_CACHE_PATH/kernel.bin" && echo "$CUDA_CACHE_PATH"'
READ = 'cat "$CUDA_CACHE_PATH/kernel.bin"'


def container_id(stack) -> str:
    return stack.compose("ps", "-q", "lab").stdout.strip()


def mount_points(container: str) -> dict[str, str]:
    mounts = json.loads(run(["docker", "inspect", "--format", "{{ json .Mounts }}", container]).stdout)
    return {mount["Destination"]: mount["Type"] for mount in mounts}


def test_cuda_jit_cache_survives_a_recreated_container(fresh_stack):
    fresh_stack.up("lab")
    first = container_id(fresh_stack)
    cache_path = fresh_stack.compose("exec", "-T", "lab", "sh", "-c", WRITE).stdout.strip()
    assert cache_path.startswith("/cache/")
    assert mount_points(first)["/cache"] == "volume"

    fresh_stack.compose("down", "--timeout", "5")  # no -v: the volumes stay
    fresh_stack.up("lab")
    second = container_id(fresh_stack)

    assert second != first
    assert fresh_stack.compose("exec", "-T", "lab", "sh", "-c", READ).stdout == "compiled"
