"""Container overhead: the course workload's steps/s inside the lab image vs the same
TensorFlow version in the host venv, side by side in one run.

    .venv/bin/python benchmarks/container_overhead.py [--rounds 3] [--steps 30]

Host and container runs take turns, so drift on a busy machine hits both sides alike. Each
run is the lab benchmark (labtrain.bench) on synthetic data on the CPU (the data path is not what is measured
here). Prints figures; asserts nothing. The goal is container/host >= 0.97.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import dockerlab  # noqa: E402


def bench_args(steps: int, report: str) -> list[str]:
    return ["--steps", str(steps), "--repeats", "2", "--data", "synthetic", "--devices", "cpu", "--json", report]


def steps_per_second(report: Path) -> float:
    return json.loads(report.read_text())["rows"][0]["steps_per_second"]


def tensorflow_version(command: list[str]) -> str:
    out = subprocess.run(
        [*command, "-c", "import tensorflow as tf; print(tf.__version__)"], capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    image = dockerlab.CPU_LAB_IMAGE
    dockerlab.build_image("Dockerfile", dockerlab.standins.ensure()["cpu"], image)
    host_python = [sys.executable]
    container = ["docker", "run", "--rm", "--user", f"{dockerlab.TEST_UID}:{dockerlab.TEST_GID}"]
    host_tf = tensorflow_version(host_python)
    image_tf = tensorflow_version([*container, "--entrypoint", "python", image])
    print(f"TensorFlow: host venv {host_tf}, lab image {image_tf}")
    host, inside = [], []
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        os.chown(out, dockerlab.TEST_UID, dockerlab.TEST_GID)
        for round_number in range(1, args.rounds + 1):
            subprocess.run(
                [*host_python, "-m", "labtrain.bench", *bench_args(args.steps, str(out / "host.json"))],
                cwd=out,
                env={**os.environ, "PYTHONPATH": str(REPO / "scripts")},
                capture_output=True,
                check=True,
            )
            host.append(steps_per_second(out / "host.json"))
            subprocess.run(
                [
                    *container,
                    "-v",
                    f"{out}:/out",
                    "-w",
                    "/out",
                    "--entrypoint",
                    "python",
                    image,
                    "-m",
                    "labtrain.bench",
                    *bench_args(args.steps, "/out/container.json"),
                ],
                capture_output=True,
                check=True,
            )
            inside.append(steps_per_second(out / "container.json"))
            print(f"round {round_number}: host {host[-1]:.2f} steps/s, container {inside[-1]:.2f} steps/s", flush=True)
    ratio = statistics.median(inside) / statistics.median(host)
    print(f"median: host {statistics.median(host):.2f} steps/s, container {statistics.median(inside):.2f} steps/s")
    print(f"container/host = {ratio:.3f}   goal >= 0.97")
    return 0


if __name__ == "__main__":
    sys.exit(main())
