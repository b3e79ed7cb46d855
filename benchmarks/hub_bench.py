"""Class hub figures on this machine (deploy/compose.yaml, CPU lab image in hub mode):

- login to a usable server for one student alone, then for N students logging in together;
- memory and CPU time each student's server takes (its GPU gate included), then idle;
- the hub's own memory, the host's available memory before and after, and the load
  average at the start (how busy the machine was).

    .venv/bin/python benchmarks/hub_bench.py [--students 10]

"Login" is what a browser does: the login form, whose redirect starts the server
(JupyterHub's redirect_to_server); "usable" is the server's file API answering. Needs the
Docker engine; builds the stand-in images as the tests do. Prints figures; asserts nothing.
Removes every container, volume and network it made.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import dockerlab  # noqa: E402
import hubdeploy  # noqa: E402
from hubclient import HubUser  # noqa: E402

PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway test account


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def available_memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024**2
    return float("nan")


def cpu_seconds(container: str) -> float:
    """CPU time the container used so far (cgroup v1 cpuacct or v2 cpu.stat, from the host)."""
    full_id = dockerlab.run(["docker", "inspect", "--format", "{{.Id}}", container]).stdout.strip()
    for path, scale in (
        (Path(f"/sys/fs/cgroup/cpuacct/docker/{full_id}/cpuacct.usage"), 1e-9),
        (Path(f"/sys/fs/cgroup/system.slice/docker-{full_id}.scope/cpu.stat"), 1e-6),
    ):
        if path.exists():
            text = path.read_text()
            value = int(text.split()[1]) if text.startswith("usage_usec") else int(text.split()[0])
            return value * scale
    return float("nan")


def memory_mib(containers: list[str]) -> dict[str, float]:
    """`docker stats` memory use, as an administrator would read it."""
    out = dockerlab.run(["docker", "stats", "--no-stream", "--format", "{{json .}}", *containers]).stdout
    units = {"B": 1 / 1024**2, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024}
    found = {}
    for line in out.splitlines():
        record = json.loads(line)
        used = record["MemUsage"].split("/")[0].strip()
        number = used.rstrip("KMGiB")
        unit = used[len(number) :]
        found[record["Name"]] = float(number) * units[unit]
    return found


def log_in_and_wait(user: HubUser) -> float:
    started = time.monotonic()
    user.log_in()  # the redirect starts the server
    user.create_token()
    user.wait_usable(timeout=900)
    return time.monotonic() - started


def figures(seconds: list[float]) -> str:
    return f"min {min(seconds):.1f} s, median {statistics.median(seconds):.1f} s, max {max(seconds):.1f} s"


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    # Ctrl-C or kill: still remove the hub, the students' containers and volumes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--idle-seconds", type=int, default=60, help="wait before measuring idle memory")
    args = parser.parse_args()

    print(f"load average at start: {load_average()} ({os.cpu_count()} CPUs)")
    print(f"available memory at start: {available_memory_gib():.1f} GiB")
    standins = dockerlab.standins.ensure()
    dockerlab.build_image("Dockerfile", standins["cpu"], dockerlab.CPU_LAB_IMAGE)
    hubdeploy.build_hub_image()

    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch) / "work"
        workdir.mkdir()
        stack = hubdeploy.HubStack(workdir)
        try:
            stack.up("hub")
            base = stack.url
            teacher = HubUser(base, hubdeploy.ADMIN, PASSWORD)
            teacher.sign_up()
            teacher.log_in(start_server=False)
            names = ["solo"] + [f"student{n:02d}" for n in range(args.students)]
            for name in names:
                HubUser(base, name, PASSWORD).sign_up()
                teacher.toggle_approval(name)
            before = available_memory_gib()

            solo = HubUser(base, "solo", PASSWORD)
            solo_seconds = log_in_and_wait(solo)
            print(f"\none student, login to usable server: {solo_seconds:.1f} s")
            print(
                f"  CPU time of that server's start (GPU gate included): {cpu_seconds(stack.container('solo')):.1f} s"
            )
            solo.stop_server()

            students = [HubUser(base, name, PASSWORD) for name in names[1:]]
            started = time.monotonic()
            pool = ThreadPoolExecutor(len(students))
            try:
                seconds = list(pool.map(log_in_and_wait, students))
            finally:
                pool.shutdown(wait=False, cancel_futures=True)
            wall = time.monotonic() - started
            print(f"\n{len(students)} students logging in together: {figures(seconds)}; all usable after {wall:.1f} s")
            cpu = [cpu_seconds(stack.container(s.name)) for s in students]
            print(f"  CPU time per server start: {figures(cpu)}; {sum(cpu):.0f} CPU-s in all on {os.cpu_count()} CPUs")

            deadline = time.monotonic() + args.idle_seconds
            while time.monotonic() < deadline:
                time.sleep(1)  # a benchmark measuring idleness: waiting is the measurement
            containers = [stack.container(s.name) for s in students]
            memory = memory_mib(containers)
            hub_container = stack.compose("ps", "-q", "hub").stdout.strip()
            hub_memory = memory_mib([hub_container])
            values = list(memory.values())
            print(
                f"\nidle for {args.idle_seconds} s, memory per student server: {figures(values).replace(' s', ' MiB')}"
            )
            print(
                f"  all {len(values)} servers: {sum(values):.0f} MiB; "
                f"the hub (with its proxy): {sum(hub_memory.values()):.0f} MiB"
            )
            after = available_memory_gib()
            print(f"  host available memory: {before:.1f} GiB before the servers, {after:.1f} GiB with them idle")
            idle_cpu_start = [cpu_seconds(c) for c in containers]
            time.sleep(10)
            idle_cpu = [cpu_seconds(c) - s for c, s in zip(containers, idle_cpu_start, strict=True)]
            print(f"  idle CPU over 10 s: {sum(idle_cpu):.2f} CPU-s for all servers")
            print(f"\nload average at end: {load_average()}")
        finally:
            stack.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
