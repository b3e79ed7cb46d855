"""Issue 24: `scripts/lab setup` and the GPU check never undo each other's advice.

For every card of the override table, on three real pairs of TensorFlow-ROCm lists (compiled
for, accepted at run time), a student runs setup -> check -> setup -> check and follows what
each says. The walk fails on any cycle: setup undoing what the check asked for, or the second
check asking to change the override setup wrote.

- setup is the real command (`scripts/lab setup` on a fake host tree), with Docker answering
  as a built image and its cache volume do: the image's recorded lists (image/rocm_targets.py's
  JSON), and whatever the GPU check recorded on the volume (labkit.seen_targets).
- check is the real gate (labkit.gate.check) on a simulated TensorFlow: the probe's output is
  what TensorFlow and HIP print on such a card, in their own formats (the diagnosis fixtures'
  lines, with the card, target and list put in): refused when the target it reports (the
  override's, if set) is off the run-time list, "No compatible code objects" when it has no
  kernels, a working GPU otherwise.
- Each pair runs twice: the build read the run-time list from the libraries, and it could not
  (the check then learns it from TensorFlow's refusal).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from fakehost import DOCKER, FIXTURES, REPO, FakeDocker, student
from labhost import cli, rocm_bases
from labhost.docker import Completed
from labhost.envfile import EnvFile
from labhost.world import World
from labkit import gate, gfx, seen_targets
from labkit.diagnose import Facts

sys.path.insert(0, str(REPO / "tests" / "standins"))
import xla_lists  # noqa: E402

DIAGNOSE_LOGS = REPO / "tests" / "unit" / "fixtures" / "diagnose"
TENSORFLOW_ID = "sha256:" + "5e" * 32
# TensorFlow 2.20's compiled list before ROCm/tensorflow-upstream#3181: GPU_DEVICE_TARGETS of
# AMD's manylinux_2_28 wheel build image (labhost.rocm_bases, NEWER_BASE's comment).
TF220_COMPILED = "gfx908 gfx90a gfx942 gfx950 gfx1030 gfx1100 gfx1101 gfx1102 gfx1200 gfx1201".split()
LIST_PAIRS = {
    "r2.18": (list(rocm_bases.PINNED_BASE.documented_targets), xla_lists.R218_ROCM),
    "tf2.20-without-gfx1102": (TF220_COMPILED, xla_lists.TF220_UPSTREAM),
    "tf2.20-with-3181": (list(rocm_bases.NEWER_BASE.documented_targets), xla_lists.TF220_ROCM_3181),
}
# The override table: every card the override rule knows a student or instructor may bring
# (labkit.gfx: Polaris, Vega and its APUs, CDNA, RDNA1-4, the 780M and Strix APUs).
CARDS = {
    "gfx803": "Radeon RX 580 Series",
    "gfx900": "Radeon RX Vega",
    "gfx902": "AMD Radeon(TM) Vega 8 Graphics",
    "gfx906": "AMD Radeon VII",
    "gfx908": "AMD Instinct MI100",
    "gfx909": "AMD Radeon(TM) Vega 11 Graphics",
    "gfx90a": "AMD Instinct MI210",
    "gfx90c": "AMD Radeon(TM) Graphics",
    "gfx940": "AMD Instinct MI300A",
    "gfx942": "AMD Instinct MI300X",
    "gfx1010": "AMD Radeon RX 5700 XT",
    "gfx1011": "AMD Radeon Pro 5600M",
    "gfx1012": "AMD Radeon RX 5500 XT",
    "gfx1030": "AMD Radeon RX 6800 XT",
    "gfx1031": "AMD Radeon RX 6700 XT",
    "gfx1032": "AMD Radeon RX 6600",
    "gfx1033": "AMD Custom GPU 0405",
    "gfx1034": "AMD Radeon RX 6500 XT",
    "gfx1035": "AMD Radeon 680M",
    "gfx1036": "AMD Radeon(TM) Graphics",
    "gfx1100": "Radeon RX 7900 XTX",
    "gfx1101": "AMD Radeon RX 7800 XT",
    "gfx1102": "AMD Radeon RX 7600",
    "gfx1103": "AMD Radeon 780M",
    "gfx1150": "AMD Radeon 890M",
    "gfx1151": "AMD Radeon 8060S",
    "gfx1200": "AMD Radeon RX 9060 XT",
    "gfx1201": "AMD Radeon RX 9070 XT",
}
SET = re.compile(r"(?:set|add) HSA_OVERRIDE_GFX_VERSION=(\d+\.\d+\.\d+)")
DELETE = "delete HSA_OVERRIDE_GFX_VERSION"


def log_line(name: str) -> str:
    """A diagnosis fixture's log line (its `# ` source comments dropped)."""
    lines = (DIAGNOSE_LOGS / name).read_text().splitlines()
    return next(line for line in lines if line and not line.startswith("# "))


def tensorflow_on(card: str, override: str | None, compiled: list[str], runtime: list[str]) -> tuple:
    """What the probe gets from TensorFlow on this card: (data, log, timed out, exit code)."""
    name = CARDS[card]
    seen = gfx.from_override(override).llvm_name if override else card  # ROCm reports the override's
    if seen not in runtime:
        line = re.sub(r"name: [^,]+,", f"name: {name},", log_line("tf220-gfx1102-ignored.log"))
        line = line.replace("version : gfx1102.", f"version : {seen}.")
        line = re.sub(r"are .*\.$", f"are {', '.join(runtime)}.", line)
        return probe(), line + "\n", False, 0
    if seen not in compiled:
        text = (DIAGNOSE_LOGS / "hip-no-compatible-code-objects-gfx900.log").read_text()
        text = "".join(line for line in text.splitlines(True) if not line.startswith("# "))
        return {}, text.replace("for: gfx900,", f"for: {seen},"), False, -6
    line = log_line("tf218-gpu-created.log").replace("AMD Radeon RX 6700 XT", name)
    gpu = {"name": "/physical_device:GPU:0", "device_name": name, "matmul_ok": True, "conv_ok": True}
    return probe(gpu), line + "\n", False, 0


def probe(*gpus: dict) -> dict:
    return {"python": "3.12.3", "tensorflow": "2.20.0", "build": {"is_rocm_build": "True"}, "gpus": list(gpus)}


class BuiltImage(FakeDocker):
    """Docker with the ROCm lab image built and the compose project's cache volume, which
    holds the lab's state folder (`state`) at /cache/lab."""

    def __init__(self, recorded: str, state: Path):
        super().__init__()
        self.recorded, self.state = recorded, state

    def __call__(self, argv):
        argv = list(argv)
        if argv[:3] == ["docker", "image", "inspect"] and "{{json .Config.Labels}}" in argv:
            self.calls.append(argv)
            return Completed(0, json.dumps({rocm_bases.TARGETS_FILE_LABEL: rocm_bases.TARGETS_FILE}) + "\n")
        if argv[:2] == ["docker", "compose"] and argv[-3:] == ["config", "--format", "json"]:
            self.calls.append(argv)
            return Completed(0, (DOCKER / "compose-config-rocm.json").read_text())  # volume courselab_cache
        if argv[:3] == ["docker", "volume", "inspect"] and argv[-1] == "courselab_cache":
            self.calls.append(argv)
            return Completed(0, "courselab_cache\n")
        if argv[:2] == ["docker", "run"] and argv[-1] == rocm_bases.TARGETS_FILE:
            self.calls.append(argv)
            return Completed(0, self.recorded)
        if argv[:2] == ["docker", "run"] and "courselab_cache:/cache:ro" in argv:
            self.calls.append(argv)
            path = self.state / Path(argv[-1]).relative_to(seen_targets.STATE_DIR)
            return Completed(0, path.read_text()) if path.is_file() else Completed(1, "", "cat: No such file")
        return super().__call__(argv)


def host_with(card: str, root: Path) -> Path:
    """The rx7600 host tree with another card in its place (KFD's gfx_target_version)."""
    shutil.copytree(FIXTURES / "rx7600", root)
    target = gfx.from_llvm_name(card)
    properties = root / "sys/class/kfd/kfd/topology/nodes/1/properties"
    version = target.major * 10000 + target.minor * 100 + target.stepping
    properties.write_text(re.sub(r"^gfx_target_version \d+$", f"gfx_target_version {version}", properties.read_text(),
                                 flags=re.MULTILINE))  # fmt: skip
    return root


class Student:
    """One student's computer: the course folder, the host, the built image and its volume."""

    def __init__(self, tmp_path: Path, card: str, compiled: list[str], runtime: list[str], *, read: bool):
        self.card, self.compiled, self.runtime = card, compiled, runtime
        self.state = tmp_path / "cache-volume" / "lab"
        recorded = {"targets": compiled, "rocm_build": True, "tensorflow_id": TENSORFLOW_ID}
        if read:
            recorded |= {"runtime_targets": runtime, "runtime_source": f"{xla_lists.SYMBOL} in libtensorflow_cc.so.2"}
        else:
            recorded |= {"runtime_targets": None, "runtime_problem": "no library of this TensorFlow defines it"}
        self.images = BuiltImage(json.dumps(recorded), self.state)
        self.targets_file = tmp_path / "rocm-tf-targets.json"
        self.targets_file.write_text(json.dumps(recorded))
        root = host_with(card, tmp_path / "host")
        repo = tmp_path / "repo"
        repo.mkdir()
        for name in (".env.example", "compose.yaml", "compose.rocm.yaml"):
            shutil.copy(REPO / name, repo / name)
        (repo / "work").mkdir()
        self.world = World(repo=repo, root=root, environ={}, run=self.images, user=student(root),
                           port_free=lambda address, port: True, disk_free=lambda path: 100 * 1024**3)  # fmt: skip

    def setup(self) -> tuple[str, str | None]:
        assert cli.main(["setup"], self.world) == 0
        values = EnvFile.parse((self.world.repo / ".env").read_text()).values()
        return values["LAB_FLAVOUR"], values.get("HSA_OVERRIDE_GFX_VERSION")

    def edit_override(self, value: str | None) -> None:
        """What the student does with the check's fix: set or delete the line in .env."""
        path = self.world.repo / ".env"
        lines = [line for line in path.read_text().splitlines() if not line.startswith("HSA_OVERRIDE_GFX_VERSION=")]
        path.write_text("\n".join(lines + ([f"HSA_OVERRIDE_GFX_VERSION={value}"] if value else [])) + "\n")

    def check(self, override: str | None, monkeypatch) -> tuple[str, str]:
        env = {"LAB_FLAVOUR": "rocm", **({"HSA_OVERRIDE_GFX_VERSION": override} if override else {})}
        monkeypatch.setattr(gate, "device_access", lambda: {"/dev/kfd": "ok", "/dev/dri/renderD128": "ok"})
        monkeypatch.setattr(gate, "kfd_targets", lambda environ: (self.card,))
        monkeypatch.setattr(
            gate, "run_probe", lambda timeout, env: tensorflow_on(self.card, override, self.compiled, self.runtime)
        )
        facts, found = gate.check(flavour="rocm", timeout=10, env=env, targets_file=str(self.targets_file),
                                  state_dir=self.state)  # fmt: skip
        assert isinstance(facts, Facts)
        return found.headline, found.fix


def follow(fix: str, current: str | None) -> str | None:
    """The override after doing what a fix says."""
    wanted = SET.search(fix)
    if wanted:
        return wanted.group(1)
    return None if DELETE in fix else current


def walks():
    for pair, (compiled, runtime) in LIST_PAIRS.items():
        for read in (True, False):
            for card in CARDS:
                mode = "read" if read else "learnt"
                yield pytest.param(card, compiled, runtime, read, id=f"{card}-{pair}-{mode}")


@pytest.mark.parametrize(("card", "compiled", "runtime", "read"), list(walks()))
def test_setup_check_setup_check_never_cycles(card, compiled, runtime, read, tmp_path, monkeypatch) -> None:
    lab = Student(tmp_path, card, compiled, runtime, read=read)
    steps = []

    flavour, written = lab.setup()
    steps.append(f"setup: {flavour} {written}")
    if flavour != "rocm":
        # The CPU lab: were the student to start the ROCm stack anyway, the check must not
        # name an override that setup refused to write, and nothing may have worked.
        headline, fix = lab.check(None, monkeypatch)
        assert not SET.search(fix), f"{steps}, check: {headline}: {fix}"
        assert runs_as(card, compiled, runtime) is False, steps
        return

    headline, fix = lab.check(written, monkeypatch)
    advised = follow(fix, written)
    steps.append(f"check: {headline} -> {advised}")
    lab.edit_override(advised)

    flavour, rewritten = lab.setup()
    steps.append(f"setup: {flavour} {rewritten}")
    assert (flavour, rewritten) == ("rocm", advised), f"setup undid the check's advice: {steps}"

    headline, fix = lab.check(rewritten, monkeypatch)
    steps.append(f"check: {headline} -> {follow(fix, rewritten)}")
    assert follow(fix, rewritten) == rewritten, f"the check contradicts setup: {steps}"
    # And the walk ends where it should: on the GPU whenever the card or its family's base chip
    # is on both of TensorFlow's real lists.
    assert headline.startswith("TensorFlow works on the GPU") == (runs_as(card, compiled, runtime) is not False), steps
    if headline.startswith("TensorFlow works on the GPU"):
        assert rewritten == runs_as(card, compiled, runtime), steps


def runs_as(card: str, compiled: list[str], runtime: list[str]) -> str | None | bool:
    """The override this card works with on these lists: None natively, the donor's value, or
    False when nothing works (the donor table is labkit.gfx's; the lists are the truth here)."""
    if card in compiled and card in runtime and card not in gfx.UNUSABLE_TARGETS:
        return None
    donor = gfx.donor_for(gfx.from_llvm_name(card))
    if donor is not None and donor.llvm_name in compiled and donor.llvm_name in runtime:
        return donor.override_value
    return False


def test_the_issue_loop_ends_with_the_rx7600_borrowing_gfx1100(tmp_path, monkeypatch) -> None:
    # TensorFlow 2.20 before #3181, its run-time list not readable: setup first trusts the
    # kernels, TensorFlow refuses the card, the check asks for 11.0.0 and records the list,
    # setup keeps 11.0.0, and the next check passes on the GPU.
    compiled, runtime = LIST_PAIRS["tf2.20-without-gfx1102"]
    lab = Student(tmp_path, "gfx1102", compiled, runtime, read=False)

    assert lab.setup() == ("rocm", None)
    headline, fix = lab.check(None, monkeypatch)
    assert headline == "TensorFlow skipped this GPU: it needs HSA_OVERRIDE_GFX_VERSION"
    assert follow(fix, None) == "11.0.0"
    record = seen_targets.read(lab.state, TENSORFLOW_ID)
    assert record is not None and record.printed == ", ".join(runtime)

    lab.edit_override("11.0.0")
    assert lab.setup() == ("rocm", "11.0.0")
    assert lab.check("11.0.0", monkeypatch)[0] == "TensorFlow works on the GPU: AMD Radeon RX 7600"
