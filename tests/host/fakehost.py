"""Fake hosts and recorded Docker outputs for the host command's tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from labhost import facts
from labhost.docker import Completed
from labhost.plan import SupportedTargets
from labkit import gfx

FIXTURES = Path(__file__).parent / "fixtures"
DOCKER = FIXTURES / "docker"
REPO = Path(__file__).resolve().parents[2]
# The targets TensorFlow r2.18's ROCm wheel was compiled for (labhost.rocm_bases.PINNED_BASE
# gives the source), pinned here so the decisions below do not move when the base is re-pinned.
R2_18 = "gfx908 gfx90a gfx940 gfx941 gfx942 gfx1030 gfx1100 gfx1101 gfx1102 gfx1200 gfx1201"
R2_18_TARGETS = SupportedTargets(tuple(gfx.parse_target_list(R2_18)), "TensorFlow r2.18 (test)", R2_18)


def student(root: Path, name: str = "student", uid: int = 1000) -> facts.User:
    """The student as logged in after joining the groups /etc/group lists them in."""
    groups = tuple(sorted({g.gid for g in facts.read_groups(root) if name in g.members} | {uid}))
    return facts.User(uid, uid, groups, name)


def host(name: str) -> facts.HostFacts:
    root = FIXTURES / name
    return facts.gather(root, user=student(root))


def recorded(name: str) -> Completed:
    """A real CLI run saved as NAME.stdout / NAME.stderr; exit code 1 when stderr is not empty."""
    stdout = (DOCKER / f"{name}.stdout").read_text() if (DOCKER / f"{name}.stdout").exists() else ""
    stderr = (DOCKER / f"{name}.stderr").read_text() if (DOCKER / f"{name}.stderr").exists() else ""
    return Completed(1 if stderr.strip() else 0, stdout, stderr)


class FakeDocker:
    """A runner answering from recorded outputs; records every command it was asked."""

    def __init__(self, answers: dict[tuple[str, ...], Completed] | None = None, *, engine: str = "ok"):
        self.calls: list[list[str]] = []
        self.answers = answers or {}
        self.engine = engine

    def __call__(self, argv: Sequence[str]) -> Completed:
        argv = list(argv)
        self.calls.append(argv)
        for prefix, answer in self.answers.items():
            if tuple(argv[: len(prefix)]) == prefix:
                return answer
        if argv[:2] == ["docker", "version"]:
            return recorded({"ok": "version", "denied": "version-denied", "stopped": "version-stopped"}[self.engine])
        if argv[:3] == ["docker", "compose", "version"]:
            return recorded("compose-version-short")
        if argv[:2] == ["docker", "info"]:
            return recorded("info")
        if argv[:2] == ["docker", "ps"]:
            return Completed(0, "", "")
        if argv[:3] == ["docker", "image", "inspect"]:
            return Completed(1, "", f"Error response from daemon: No such image: {argv[-1]}")
        if argv[:2] == ["docker", "compose"] and argv[-3:] == ["config", "--format", "json"]:
            return compose_model(argv)
        if argv[:2] == ["docker", "compose"] and "config" in argv:
            return Completed(0, "courselab/lab:test-rocm\n", "")
        return Completed(0, "", "")


def compose_model(argv: Sequence[str]) -> Completed:
    """compose's merged model of the files named in `argv`, as recorded (no .env but the ROCm
    one's group id: fixtures/README.md): project `courselab`, from compose.yaml's `name:`."""
    overlay = next((name for name in ("rocm", "nvidia") if f"compose.{name}.yaml" in argv), "cpu")
    return Completed(0, (DOCKER / f"compose-config-{overlay}.json").read_text(), "")
