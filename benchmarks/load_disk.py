"""How much disk `docker load` really uses while it loads an image, on the engine DOCKER_HOST
names, against what `scripts/lab import` requires (labhost.imagestore.load_need: the archive's
tar plus the unpacked layers, plus 10 %).

    DOCKER_HOST=... .venv/bin/python benchmarks/load_disk.py --image REF [--watch DIR]

It saves REF to a temporary tar, REMOVES REF from the engine and loads the tar back, sampling
the bytes under the folder that holds the images (labhost.imagestore: DockerRootDir, or the
containerd root; --watch to name another) with `du` as it goes. Run it on an engine of your own
with an image nothing else uses. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

from labhost import archivescan, docker, dockerload, imagestore  # noqa: E402


def used(folder: str) -> int:
    done = subprocess.run(["du", "-sb", folder], capture_output=True, text=True, check=False)
    return int(done.stdout.split()[0]) if done.stdout else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True)
    parser.add_argument("--watch", help="the folder to measure (default: where the engine keeps images)")
    args = parser.parse_args()
    store = imagestore.gather(docker.subprocess_runner, Path("/"))
    watch = args.watch or (store.image_dir if store else None)
    if not watch:
        print("docker info did not answer", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as folder:
        tar = Path(folder) / "image.tar"
        with tar.open("wb") as sink:
            subprocess.run(["docker", "save", args.image], stdout=sink, check=True)
        with tar.open("rb") as source:
            plan = dockerload.plan(archivescan.scan_stream(source.read), args.image)
        tar_size = tar.stat().st_size
        need = imagestore.load_need(tar_size=tar_size, unpacked=plan.unpacked)
        subprocess.run(["docker", "image", "rm", args.image], check=True, capture_output=True)
        before = used(watch)
        peak = before
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, used(watch))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        with tar.open("rb") as source:
            subprocess.run(["docker", "load"], stdin=source, check=True, capture_output=True)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        after = used(watch)
    kind = "containerd" if store and store.containerd else "default"
    print(f"{args.image} on the {kind} image store ({watch}), docker load {seconds:.0f} s")
    print(f"  archive tar {tar_size / 1e6:.0f} MB, layers unpacked {plan.unpacked / 1e6:.0f} MB")
    print(f"  used during the load (peak) {(peak - before) / 1e6:.0f} MB, kept after {(after - before) / 1e6:.0f} MB")
    print(f"  import requires {need / 1e6:.0f} MB free")
    return 0


if __name__ == "__main__":
    sys.exit(main())
