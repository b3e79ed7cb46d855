"""The current-engine tier (tests/enginetier.py) on Debian 13's Engine 26, once with the
default image store and once with the containerd image store (Engine 29's default): the
build, `up --wait` with the no-pull proof, release, export, import, the size reads, the
doctor's engine facts and every parsed engine output, each engine in a pytest session of its
own inside its network namespace, both at once. Their lines stream here with the engine's key;
their counts, time and engine are in the test summary."""

from __future__ import annotations

import sys

import engines
import enginetier
from ci_policy import require


def test_the_tier_passes_on_engine_26_with_both_image_stores(docker_engine, tmp_path, capsys):
    require(engines.problem(), "second engines (Engine 26)")
    with capsys.disabled():
        runs = enginetier.run_all(tmp_path, sys.stdout)
    failed = [run for run in runs if not run.passed]
    assert not failed, "\n\n".join(run.report() for run in failed)
