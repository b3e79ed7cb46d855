"""What the current-engine tier (tests/enginetier.py) adds to a CI run: installing Engine 26,
starting its two engines, and the tier on each, cold and warm.

    .venv/bin/python benchmarks/engine_tier.py            warm: the engines as they are
    .venv/bin/python benchmarks/engine_tier.py --cold     first stop the second engines and
                                                          delete Engine 26's install, its apt
                                                          state and both engines' data roots
    .venv/bin/python benchmarks/engine_tier.py --serial   one engine after the other (the tier
                                                          runs both at once)

Cold is a fresh CI machine for this tier: nothing installed, empty data roots (no stand-in, no
lab image, no BuildKit cache in them). The primary engine is not touched, so the CPU stand-in
it already holds is moved in, as on CI, where the image tier built it earlier in the run.
Prints the figures with the machine's load average (the machine may be shared); asserts
nothing. Run as root (network namespaces), with COURSELAB_TEST_NS set on a shared engine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "scripts"), str(REPO / "image")]

import engines  # noqa: E402
import enginetier  # noqa: E402


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def forget_everything() -> None:
    """A fresh machine for this tier: no Engine 26, no apt state, empty data roots."""
    for engine in engines.SECOND_ENGINES:
        engines.stop(engine)
        if engine.data_root.exists():
            shutil.rmtree(engine.data_root)
    shutil.rmtree(engines.INSTALL_ROOT, ignore_errors=True)
    shutil.rmtree(engines.cache_dir() / f"apt-{engines.SUITE}", ignore_errors=True)


def timed(what: str, action) -> float:
    started = time.monotonic()
    action()
    seconds = time.monotonic() - started
    print(f"[bench] {what}: {seconds:.0f} s", flush=True)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="start from nothing (see above)")
    parser.add_argument("--serial", action="store_true", help="one engine after the other")
    args = parser.parse_args()
    if engines.problem() and not args.cold:
        print(f"[bench] {engines.problem()}", file=sys.stderr)
        return 1
    print(f"[bench] load average at the start: {load()}", flush=True)
    if args.cold:
        timed("removing Engine 26 and the data roots", forget_everything)
    figures = {"install": timed("install (apt-get download, dpkg-deb -x)", engines.install)}
    for engine in engines.SECOND_ENGINES:
        figures[f"start {engine.key}"] = timed(f"start {engine.key}", lambda engine=engine: engines.start(engine))
    with tempfile.TemporaryDirectory() as folder:
        started = time.monotonic()
        if args.serial:
            runs = [enginetier.run(engine, Path(folder), sys.stdout) for engine in engines.SECOND_ENGINES]
        else:
            runs = enginetier.run_all(Path(folder), sys.stdout)
        figures["tier, both engines" + (" in turn" if args.serial else " at once")] = time.monotonic() - started
        for run in runs:
            slowest = enginetier.slowest(run.junit, 6)
            print(f"[bench] {run.engine.key} slowest: " + "; ".join(f"{name} {s:.0f} s" for name, s in slowest))
    print(f"[bench] load average at the end: {load()}")
    print(f"[bench] {'cold' if args.cold else 'warm'} figures:")
    for run in runs:
        print(f"[bench]   {run.line}")
    for what, seconds in figures.items():
        print(f"[bench]   {what:30} {seconds / 60:6.1f} min")
    print(f"[bench]   {'total':30} {sum(figures.values()) / 60:6.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
