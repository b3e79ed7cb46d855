"""Stack figures on this machine: time to healthy, lab layer size, rebuild times.

    .venv/bin/python benchmarks/stack_bench.py [--runs 3]

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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import dockerlab  # noqa: E402

BENCH_IMAGE = "courselab-bench/lab:cpu"


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


def time_to_healthy(runs: int, workdir_root: Path) -> list[float]:
    seconds = []
    for index in range(runs):
        workdir = workdir_root / f"work-{index}"
        workdir.mkdir()
        os.chown(workdir, dockerlab.TEST_UID, dockerlab.TEST_GID)
        stack = dockerlab.Stack(workdir, settings={"LAB_IMAGE": BENCH_IMAGE})
        try:
            started = time.perf_counter()
            stack.up("lab")
            seconds.append(time.perf_counter() - started)
        finally:
            stack.down()
    return seconds


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
        healthy = time_to_healthy(args.runs, Path(scratch))
    added = image_size(BENCH_IMAGE) - image_size(base)
    print("course lab stack benchmark (CPU image on the stand-in base)")
    print(f"  first build (cache may be warm)      {first:8.1f} s")
    print(f"  no-op rebuild                        {noop:8.1f} s   goal < 5 s")
    print(f"  rebuild after editing scripts/       {edited:8.1f} s   pip layer reused: {'yes' if cached else 'NO'}")
    print(
        f"  up --wait to healthy, {args.runs} runs         "
        + ", ".join(f"{s:.1f}" for s in healthy)
        + f" s (median {statistics.median(healthy):.1f} s, goal < 10 s)"
    )
    print(f"  lab layer over the base              {added / 1e6:8.0f} MB  goal < 300 MB")
    print("  biggest packages in the lab layer (MB):")
    for line in biggest_packages(BENCH_IMAGE):
        print(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
