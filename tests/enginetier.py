"""The current-engine tier: the tests that touch what the engine writes or stores, run again
on each second engine (tests/engines.py), each in a pytest session of its own.

That session runs inside the engine's network namespace, with DOCKER_HOST on the engine's
socket and Engine 26's own docker CLI first on PATH: the lab's ports, the local registry and
the engine all meet on that namespace's 127.0.0.1, as on a student's machine. The primary
session (tests/stack/test_current_engines.py) starts it, streams its lines, and reports its
counts and time in the test summary.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import dockerlab
import engines

REPO = Path(__file__).resolve().parent.parent

# What runs on every engine, and why: each touches something the engine writes or stores.
TIER = (
    # Every engine output scripts/labhost parses, fed to its parser on this engine; the doctor.
    "tests/stack/test_engine_outputs.py",
    # Build of the CPU lab image, `up --wait`, nothing asked of a registry; a digest pin pulled.
    "tests/stack/test_no_pull.py",
    # Release (inspect, history sizes, push), export (save), import (load), and the lab started
    # from the imported image with no build or pull possible.
    "tests/image/test_release_handout.py",
    # Hand-outs of every engine world imported here, crafted archives refused before a load.
    "tests/image/test_handout_worlds.py",
    # The OOM report, from the engine's State and events.
    "tests/stack/test_host_cli.py::test_a_process_killed_for_memory_is_reported_by_ps",
)


@dataclass
class TierRun:
    engine: engines.Engine
    description: str = ""
    returncode: int | None = None
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    log: Path | None = None
    junit: Path | None = None
    warm: bool = False  # the engine held the CPU lab image before the run
    started: float = 0.0
    process: subprocess.Popen | None = None
    pump: threading.Thread | None = None

    @property
    def line(self) -> str:
        counts = ", ".join(f"{n} {what}" for what, n in self.counts.items() if n) or "nothing ran"
        start = "warm" if self.warm else "cold (no lab image in the engine at the start)"
        return f"{self.description}: {counts} in {self.seconds / 60:.1f} min, {start}; log {self.log}"

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and bool(self.counts.get("passed"))

    def report(self, lines: int = 60) -> str:
        """What a failed run says: its line, each failed test, and the end of its log."""
        tail = self.log.read_text(errors="replace").splitlines()[-lines:] if self.log and self.log.exists() else []
        return "\n".join([self.line, *self.failures, f"--- last {len(tail)} lines of {self.log}", *tail])


# Filled by the runs of this session, printed by the terminal summary (tests/conftest.py).
RUNS: list[TierRun] = []
# One line at a time on the terminal, whichever session it comes from.
OUTPUT = threading.Lock()


def command(engine: engines.Engine, junit: Path, *selection: str) -> list[str]:
    return engines.in_netns(
        engine, sys.executable, "-m", "pytest", *(selection or TIER), "-p", "no:cacheprovider",
        "-o", "console_output_style=classic", "-rfE", "--durations=10", f"--junitxml={junit}",
    )  # fmt: skip


def environment(engine: engines.Engine) -> dict[str, str]:
    env = engines.docker_env(engine)
    env[engines.CURRENT_VARIABLE] = engine.key
    # The primary engine, for the stand-ins the tier moves in (docker save | docker load).
    env["COURSELAB_PRIMARY_DOCKER_HOST"] = engines.PRIMARY_HOST or "unix:///var/run/docker.sock"
    return env


def counts_from(junit: Path) -> tuple[dict[str, int], list[str]]:
    """(passed/failed/errors/skipped counts, the failing tests with their first line)."""
    if not junit.is_file():
        return {}, []
    suite = ElementTree.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failures = []
    for case in suite.iter("testcase") if suite is not None else ():
        outcome = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
        if outcome is None:
            counts["passed"] += 1
            continue
        counts[{"failure": "failed", "error": "errors", "skipped": "skipped"}[outcome.tag]] += 1
        if outcome.tag != "skipped":
            message = (outcome.get("message") or "").strip().splitlines()
            failures.append(f"{case.get('classname')}::{case.get('name')}: {message[0] if message else outcome.tag}")
    return counts, failures


def slowest(junit: Path, count: int) -> list[tuple[str, float]]:
    """The `count` slowest tests of a run (their setup included: the first test of a module
    pays for its fixtures, e.g. the lab image build)."""
    if not junit.is_file():
        return []
    cases = [(case.get("name", "?"), float(case.get("time", 0))) for case in ElementTree.parse(junit).iter("testcase")]
    return sorted(cases, key=lambda case: -case[1])[:count]


def forget_builds(engine: engines.Engine) -> None:
    """On the containerd image store, the lab image a previous session built and BuildKit's
    cache go before each session: rebuilding that image on an engine restarted over the kept
    data root failed here while unpacking the result ("failed to prepare extraction snapshot
    ... parent snapshot sha256:... does not exist: not found"; Engine 26.1.5, containerd
    1.7.24) in a warm run here, while the cold runs passed. The stand-ins stay (they
    move in with docker load); the session then builds the lab as a fresh machine does."""
    lab_images = engines.docker(engine, "image", "ls", "--quiet", "--filter", "reference=courselab-test/*", check=False)
    names = lab_images.stdout.split()
    if names:
        engines.docker(engine, "image", "rm", "--force", *sorted(set(names)), check=False)
    engines.docker(engine, "builder", "prune", "--all", "--force", check=False)


def launch(engine: engines.Engine, folder: Path, out, *selection: str) -> TierRun:
    """Start the tier's session on `engine` (the engine first, if needed); its lines go to its
    log and, prefixed with the engine's key, to `out`, as they come."""
    engines.start(engine)
    if engine.store == "containerd":
        forget_builds(engine)
    found = engines.describe(engine)
    result = TierRun(engine, description=f"{engine.key}: {found.text if found else engine.label}")
    result.warm = engines.docker(engine, "image", "inspect", dockerlab.CPU_LAB_IMAGE, check=False).returncode == 0
    result.log = folder / f"{engine.key}.log"
    result.junit = folder / f"{engine.key}.xml"
    # Its own base temp folder: two sessions at once never share pytest's numbered folders.
    argv = [*command(engine, result.junit, *selection), f"--basetemp={folder / f'{engine.key}-tmp'}"]
    result.started = time.monotonic()
    result.process = subprocess.Popen(argv, cwd=REPO, env=environment(engine), stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True)  # fmt: skip

    def pump() -> None:
        with result.log.open("w") as log:
            for line in result.process.stdout:
                log.write(line)
                with OUTPUT:
                    out.write(f"[{engine.key}] {line}")
                    out.flush()

    result.pump = threading.Thread(target=pump, name=f"tier-{engine.key}", daemon=True)
    result.pump.start()
    return result


def finish(result: TierRun) -> TierRun:
    """Wait for a launched session; read its counts."""
    result.returncode = result.process.wait()
    result.pump.join()
    result.seconds = time.monotonic() - result.started
    result.counts, result.failures = counts_from(result.junit)
    RUNS.append(result)
    return result


def run(engine: engines.Engine, folder: Path, out, *selection: str) -> TierRun:
    """The tier on one engine, to the end."""
    return finish(launch(engine, folder, out, *selection))


def run_all(folder: Path, out, *selection: str) -> list[TierRun]:
    """The tier on every second engine at once: each session mostly waits on its engine (builds,
    pushes, saves, loads, a container starting), and the primary session waits on them, so two
    at a time keep the machine's cores busy instead of taking turns (tests/enginetier.py's cold
    and warm figures: benchmarks/engine_tier.py)."""
    launched = [launch(engine, folder, out, *selection) for engine in engines.SECOND_ENGINES]
    return [finish(result) for result in launched]
