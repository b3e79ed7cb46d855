"""labkit.seen_targets and the gate around it: the run-time GPU list TensorFlow printed when it
refused a card, recorded on the cache volume per TensorFlow build and used from then on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from labkit import gate, seen_targets
from labkit.diagnose import Facts
from labkit.diagnose_rocm import RUNTIME_TARGETS_ENV, TARGETS_ENV

FIXTURES = Path(__file__).parent / "fixtures" / "diagnose"
TF_ID = "sha256:" + "0f" * 32
PRINTED = "gfx900, gfx906, gfx908, gfx90a, gfx942, gfx950, gfx1030, gfx1100, gfx1101, gfx1200, gfx1201"


def log(name: str) -> str:
    return "".join(line for line in (FIXTURES / name).read_text().splitlines(True) if not line.startswith("# "))


def test_a_record_round_trips_and_keeps_the_printed_words() -> None:
    text = seen_targets.record_text(PRINTED, seen_at="2026-12-07T10:00:00+00:00")
    seen = seen_targets.parse(text)
    assert seen.printed == PRINTED
    assert [t.llvm_name for t in seen.targets] == PRINTED.split(", ")
    assert json.loads(text)["targets"][-1] == "gfx1201"


@pytest.mark.parametrize("key", ["", "sha256:abc", "md5:" + "0" * 32, "sha256:" + "G" * 64, "../../etc"])
def test_only_a_tensorflow_build_id_is_a_key(key: str) -> None:
    assert seen_targets.relative_path(key) is None
    assert seen_targets.remember(Path("/nonexistent"), key, PRINTED, seen_at="x") is None


@pytest.mark.parametrize(
    "text", ["", "{", "[]", '{"printed": 1, "seen_at": "x"}', '{"printed": "no names", "seen_at": "x"}']
)
def test_a_damaged_record_is_no_record(text: str) -> None:
    assert seen_targets.parse(text) is None


def test_the_glued_list_of_the_broken_build_is_not_recorded(tmp_path) -> None:
    glued = "gfx1030gfx1100, gfx900, gfx906, gfx908, gfx90a, gfx940, gfx941, gfx942"
    assert seen_targets.remember(tmp_path, TF_ID, glued, seen_at="x") is None
    assert not any(tmp_path.rglob("*.json"))


def test_a_cache_volume_it_cannot_write_to_is_no_failure(tmp_path) -> None:
    # A file where the state folder should be: the write fails (for root too) and is skipped.
    blocked = tmp_path / "lab"
    blocked.write_text("not a folder")
    assert seen_targets.remember(blocked, TF_ID, PRINTED, seen_at="x") is None


def image_record(tmp_path: Path, runtime: list[str] | None) -> Path:
    path = tmp_path / "rocm-tf-targets.json"
    compiled = "gfx908 gfx90a gfx942 gfx950 gfx1030 gfx1100 gfx1101 gfx1102 gfx1200 gfx1201".split()
    path.write_text(json.dumps({"targets": compiled, "runtime_targets": runtime, "tensorflow_id": TF_ID}))
    return path


def refused(env: dict) -> Facts:
    return Facts(probe={"gpus": []}, log=log("tf220-gfx1102-ignored.log"), flavour="rocm", env=env)


def test_the_first_refusal_of_an_unreadable_list_is_recorded(tmp_path) -> None:
    record = gate.image_record(str(image_record(tmp_path, None)))
    state = tmp_path / "state"
    path = gate.learn_runtime_targets(record, refused({}), state)
    assert path == state / "rocm-runtime-targets" / f"{'0f' * 32}.json"
    assert seen_targets.read(state, TF_ID).printed == PRINTED
    assert gate.runtime_targets(record, state) == PRINTED


def test_a_refusal_that_prints_the_list_the_build_read_records_nothing(tmp_path) -> None:
    record = gate.image_record(str(image_record(tmp_path, PRINTED.split(", "))))
    assert gate.learn_runtime_targets(record, refused({}), tmp_path / "state") is None


def test_a_printed_list_unlike_the_one_the_build_read_is_recorded_and_wins(tmp_path) -> None:
    # What TensorFlow printed is what it did: should the build ever read another list, the
    # lab follows TensorFlow from then on.
    record = gate.image_record(str(image_record(tmp_path, [*PRINTED.split(", "), "gfx1102"])))
    state = tmp_path / "state"
    assert gate.learn_runtime_targets(record, refused({}), state) is not None
    assert gate.runtime_targets(record, state) == PRINTED


def test_the_gate_hands_the_diagnosis_both_lists(tmp_path, monkeypatch) -> None:
    record_file = image_record(tmp_path, PRINTED.split(", "))
    seen = {}

    def probe(*, timeout, env):
        seen.update(env)
        return {"gpus": []}, "", False, 0

    monkeypatch.setattr(gate, "run_probe", probe)
    monkeypatch.setattr(gate, "kfd_targets", lambda environ: ("gfx1102",))
    facts, _ = gate.check(flavour="rocm", timeout=5, env={RUNTIME_TARGETS_ENV: "gfx1102"},
                          targets_file=str(record_file), state_dir=tmp_path / "state")  # fmt: skip
    assert facts.env[TARGETS_ENV].split()[-3:] == ["gfx1102", "gfx1200", "gfx1201"]
    assert facts.env[RUNTIME_TARGETS_ENV] == " ".join(PRINTED.split(", "))  # never a setting's
    assert seen[RUNTIME_TARGETS_ENV] == facts.env[RUNTIME_TARGETS_ENV]
