"""What a class downloads: the CPU hand-out's compressed size, and the lab layer's alone, for
zstd levels and gzip, with the time to pack and unpack each on this machine.

    COURSELAB_TEST_NS=... .venv/bin/python benchmarks/handout_sizes.py [--zstd 1,3,6,9,12] [--gzip 1,6]

Builds the CPU lab image on the stand-in base (as the tests do), saves it once, then writes the
hand-out with `scripts/lab export`'s own code (labhost.framing: one frame per layer, so the
lab layer's compressed size is read off the same file). Needs about 3 GB of free disk for the
saved image and one hand-out at a time. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "scripts"))

import dockerlab  # noqa: E402
from labhost import archivescan, dockerload, framing  # noqa: E402

BENCH_IMAGE = dockerlab.standins.tagged("courselab-bench/lab:handout")
INSTALL_STEP = "install-lab-layer.sh"


def unpack_seconds(path: Path, compression: str) -> float:
    started = time.perf_counter()
    if compression == "zstd":
        subprocess.run(["zstd", "-q", "-T0", "-dc", str(path)], stdout=subprocess.DEVNULL, check=True)
    else:
        with gzip.open(path, "rb") as stream:
            while stream.read(framing.CHUNK):
                pass
    return time.perf_counter() - started


def measure(saved: Path, scratch: Path, compression: str, level: int) -> dict:
    output = scratch / f"handout.{compression}{level}"
    scanner = archivescan.Scanner()
    started = time.perf_counter()
    with saved.open("rb") as source, output.open("wb") as sink:
        tar_size, compressed = framing.write_framed(
            source.read, sink, compression=compression, level=level, on_piece=scanner.feed
        )
    packed = time.perf_counter() - started
    plan = dockerload.plan(scanner.finish(), BENCH_IMAGE)
    lab = dockerload.layer_made_by(plan, INSTALL_STEP)
    figures = {
        "codec": f"{compression} -{level}",
        "size": output.stat().st_size,
        "unpacked": tar_size,
        "lab": compressed[lab.member] if lab else None,
        "lab_unpacked": lab.unpacked if lab else None,
        "pack_s": packed,
        "unpack_s": unpack_seconds(output, compression),
    }
    output.unlink()
    return figures


def levels(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zstd", type=levels, default=levels("1,3,6,9,12"))
    parser.add_argument("--gzip", type=levels, default=levels("1,6"))
    args = parser.parse_args()
    base = dockerlab.standins.ensure()["cpu"]
    dockerlab.build_image("Dockerfile", base, BENCH_IMAGE)
    rows = []
    try:
        with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as folder:
            scratch = Path(folder)
            saved = scratch / "image.tar"
            started = time.perf_counter()
            with saved.open("wb") as sink:
                subprocess.run(["docker", "save", BENCH_IMAGE], stdout=sink, check=True)
            save_s = time.perf_counter() - started
            for compression, chosen in (("zstd", args.zstd), ("gzip", args.gzip)):
                for level in chosen:
                    rows.append(measure(saved, scratch, compression, level))
                    print(f"  measured {rows[-1]['codec']}", file=sys.stderr, flush=True)
    finally:
        dockerlab.run(["docker", "image", "rm", BENCH_IMAGE], check=False)
    cores = os.cpu_count()
    print(f"CPU hand-out sizes (stand-in base; {cores} cores; docker save {save_s:.0f} s, unpacked in MB below)")
    first = rows[0]
    print(f"  image tar {first['unpacked'] / 1e6:.0f} MB, lab layer tar {(first['lab_unpacked'] or 0) / 1e6:.0f} MB")
    print(f"  {'codec':10} {'hand-out MB':>11} {'lab layer MB':>12} {'pack s':>7} {'unpack s':>8}")
    for row in rows:
        lab = f"{row['lab'] / 1e6:12.0f}" if row["lab"] else f"{'?':>12}"
        print(f"  {row['codec']:10} {row['size'] / 1e6:11.0f} {lab} {row['pack_s']:7.0f} {row['unpack_s']:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
