"""Stack figures on this machine: time to healthy against the sum of its parts, lab layer
size, rebuild times.

    .venv/bin/python benchmarks/stack_bench.py [--runs 3]

Time to healthy is `docker compose up -d --wait` until the lab is healthy (GPU check passed,
JupyterLab answering). Its parts, measured in the same rounds on the same image: a container
start (`docker run --rm` of a no-op), TensorFlow's import and device list (`docker exec` in a
running container) and a bare JupyterLab, started with the lab's options, until /api answers.
The ratio healthy / (sum of the parts) says what the start costs beyond its parts: waiting,
polling, anything serial that could overlap (goal: at most 1.1).

Needs a Docker engine with Compose v2 and the stand-in bases (built on demand, as in the
tests). Works on a copy of the repository in a temp folder, so editing a file for the
rebuild measurement never touches your checkout. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import dockerlab  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
from labkit import entrypoint  # noqa: E402

# In this checkout's namespace (COURSELAB_TEST_NS), like the test images.
BENCH_IMAGE = dockerlab.standins.tagged("courselab-bench/lab:cpu")
TF_IMPORT = "import tensorflow as tf; tf.config.list_physical_devices()"


def copy_repo(target: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def compose_build(repo: Path, base: str) -> tuple[float, str]:
    env = {**os.environ, "LAB_IMAGE": BENCH_IMAGE, "LAB_BASE_IMAGE": base}
    started = time.perf_counter()
    result = subprocess.run(
        ["docker", "compose", "-p", "courselab-bench", "--progress", "plain", "build", "lab"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, result.stdout + result.stderr


def pip_layer_cached(build_log: str) -> bool:
    """BuildKit prints '#N CACHED' under step #N's title when it did not run it again."""
    lines = build_log.splitlines()
    steps = {line.split()[0] for line in lines if "RUN sh /opt/lab-build/install-lab-layer.sh" in line}
    return bool(steps) and all(f"{step} CACHED" in lines for step in steps)


def image_size(name: str) -> int:
    out = dockerlab.run(["docker", "image", "inspect", "--format", "{{.Size}}", name]).stdout
    return int(out.strip())


def biggest_packages(image: str, count: int = 6) -> list[str]:
    script = f"du -sm /opt/lab-venv/lib/python3*/site-packages/* | sort -rn | head -n {count}"
    out = dockerlab.run(["docker", "run", "--rm", "--entrypoint", "sh", image, "-c", script]).stdout
    return [line.replace("/opt/lab-venv/lib/", "") for line in out.strip().splitlines()]


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    dockerlab.run(command)
    return time.perf_counter() - started


def new_workdir(root: Path, name: str) -> Path:
    workdir = root / name
    workdir.mkdir()
    os.chown(workdir, dockerlab.TEST_UID, dockerlab.TEST_GID)
    return workdir


def time_healthy(workdir: Path) -> float:
    stack = dockerlab.Stack(workdir, settings={"LAB_IMAGE": BENCH_IMAGE})
    try:
        started = time.perf_counter()
        stack.up("lab")
        return time.perf_counter() - started
    finally:
        stack.down()


def time_parts(workdir: Path) -> dict[str, float]:
    """The start's parts, one after the other, in containers of the lab image."""
    parts = {"container start": timed(["docker", "run", "--rm", "--entrypoint", "true", BENCH_IMAGE])}
    name, port = f"courselab-bench-{uuid.uuid4().hex[:8]}", dockerlab.free_port()
    user = f"{dockerlab.TEST_UID}:{dockerlab.TEST_GID}"
    dockerlab.run(
        ["docker", "run", "-d", "--name", name, "--user", user, "-p", f"127.0.0.1:{port}:8888"]
        + ["-v", f"{workdir}:/home/lab/work", "-e", f"JUPYTER_TOKEN=bench-{uuid.uuid4().hex}"]
        + ["--entrypoint", "sleep", BENCH_IMAGE, "infinity"]
    )
    try:
        parts["TensorFlow import + devices"] = timed(["docker", "exec", name, "python", "-c", TF_IMPORT])
        command = entrypoint.lab_command(
            python="/opt/lab-venv/bin/python", paths=entrypoint.CONTAINER_PATHS, host_port=str(port)
        )
        started = time.perf_counter()
        dockerlab.run(["docker", "exec", "-d", name, *command])
        dockerlab.wait_for(
            lambda: dockerlab.http_get(f"http://127.0.0.1:{port}/api", timeout=2)[0] == 200,
            timeout=120,
            interval=0.05,
            what="a bare JupyterLab's /api",
        )
        parts["JupyterLab answering /api"] = time.perf_counter() - started
    finally:
        dockerlab.run(["docker", "rm", "-f", name], check=False)
    return parts


def start_rounds(runs: int, root: Path) -> list[tuple[float, dict[str, float]]]:
    """Each round: the parts, then the whole start, on the same machine state."""
    rounds = []
    for index in range(runs):
        parts = time_parts(new_workdir(root, f"parts-{index}"))
        healthy = time_healthy(new_workdir(root, f"work-{index}"))
        rounds.append((healthy, parts))
    return rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bases = dockerlab.standins.ensure()
    base = bases["cpu"]
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch) / "repo"
        copy_repo(repo)
        first, _ = compose_build(repo, base)
        noop, _ = compose_build(repo, base)
        with (repo / "scripts/labkit/entrypoint.py").open("a") as stream:
            stream.write("\n# benchmark edit\n")
        edited, log = compose_build(repo, base)
        cached = pip_layer_cached(log)
        rounds = start_rounds(args.runs, Path(scratch))
    added = image_size(BENCH_IMAGE) - image_size(base)
    print("course lab stack benchmark (CPU image on the stand-in base)")
    print(f"  first build (cache may be warm)      {first:8.1f} s")
    print(f"  no-op rebuild                        {noop:8.1f} s   goal < 5 s")
    print(f"  rebuild after editing scripts/       {edited:8.1f} s   pip layer reused: {'yes' if cached else 'NO'}")
    healthy = [whole for whole, _ in rounds]
    sums = [sum(parts.values()) for _, parts in rounds]
    ratios = [whole / total for whole, total in zip(healthy, sums, strict=True)]
    print(
        f"  up --wait to healthy, {args.runs} runs         "
        + ", ".join(f"{s:.1f}" for s in healthy)
        + f" s (median {statistics.median(healthy):.1f} s, goal < 10 s)"
    )
    for name in rounds[0][1]:
        values = [parts[name] for _, parts in rounds]
        print(
            f"    part: {name:28}"
            + ", ".join(f"{s:.1f}" for s in values)
            + f" s (median {statistics.median(values):.1f})"
        )
    print("    sum of the parts               " + ", ".join(f"{s:.1f}" for s in sums) + " s")
    print(
        "  healthy / sum of its parts         "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + f" (median {statistics.median(ratios):.2f}, goal <= 1.1)"
    )
    print(f"  lab layer over the base              {added / 1e6:8.0f} MB  goal < 300 MB")
    print("  biggest packages in the lab layer (MB):")
    for line in biggest_packages(BENCH_IMAGE):
        print(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
