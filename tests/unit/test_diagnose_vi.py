"""The GPU check's fixes in Vietnamese: with LAB_LANG=vi every verdict of the diagnosis table
(tests/unit/test_diagnose.py: real log formats, the probe's JSON, the container's device
files) gives a Vietnamese fix, while the verdict itself (status, headline key, link, exit
code) is the one English gives, and every command, setting, value and path of the English fix
is still in it, as typed. English stays the default."""

from __future__ import annotations

import re

import pytest
from labkit import diagnose_nvidia, diagnose_rocm, entrypoint, gate
from labkit.diagnose import GateStatus, diagnose, gate_policy
from test_diagnose import CASES, TF220_CAPABILITIES, gpu, nvidia, rocm

FAILING = {name: case for name, case in CASES.items() if case.status != GateStatus.GPU}

# What a student must type or look for, identical in both languages: `commands`, VAR=value,
# gfx targets, device files, versions and the names of libraries.
LITERAL = re.compile(
    r"`[^`]+`|\b[A-Za-z_][A-Za-z0-9_]*=[\w.]+|\bgfx[0-9a-f]+\b|/dev/[\w/-]+|\b\d+\.\d+(?:\.\d+)*\b|lib\w+\.so\.\d+"
)
# English words that never belong in a Vietnamese sentence (technical names such as ROCm,
# driver, image, override, kernel module or build are the words the course uses in both;
# "in" is not listed: it is Vietnamese too, "in ra", prints).
ENGLISH = re.compile(
    r"\b(the|and|with|from|delete|start again|reboot|your|this|that|which|when|until|is|are|to|of|on)\b"
)


def fixes(facts, monkeypatch) -> tuple:
    monkeypatch.setenv("LAB_LANG", "en")
    english = diagnose(facts)
    monkeypatch.setenv("LAB_LANG", "vi")
    return english, diagnose(facts)


def words(fix: str) -> str:
    """The fix without what stays as typed: `commands` and 'quoted messages of other programs'
    (Docker's 'error gathering device information', NVML's 'Unknown Error')."""
    return re.sub(r"`[^`]*`|'[^']*'", " ", fix)


@pytest.mark.parametrize("case", [pytest.param(case, id=name) for name, case in FAILING.items()])
def test_vietnamese_fix_keeps_the_verdict_and_every_literal(case, monkeypatch):
    english, vietnamese = fixes(case.facts, monkeypatch)

    assert (vietnamese.status, vietnamese.headline, vietnamese.anchor) == (
        english.status,
        english.headline,
        english.anchor,
    )
    assert gate_policy(vietnamese, require_gpu=True) == gate_policy(english, require_gpu=True)
    assert vietnamese.fix != english.fix
    for literal in LITERAL.findall(english.fix):
        assert literal in vietnamese.fix, f"{literal!r} lost from {vietnamese.fix!r}"
    assert "\n" not in vietnamese.fix and not vietnamese.fix.endswith(".")


@pytest.mark.parametrize("case", [pytest.param(case, id=name) for name, case in FAILING.items()])
def test_vietnamese_fix_has_no_english_sentence_left(case, monkeypatch):
    _english, vietnamese = fixes(case.facts, monkeypatch)
    assert ENGLISH.findall(words(vietnamese.fix)) == [], vietnamese.fix


def test_the_mixed_line_of_before_is_gone(monkeypatch):
    # An RX 7900 XTX (gfx1100) with 10.3.0 set: the advice embeds gfx.decide_override's
    # reason, which was already Vietnamese, inside an English clause.
    case = CASES["rx7900xtx-gfx1100-override-10.3.0-crosses-major-even-when-it-runs"]
    monkeypatch.setenv("LAB_LANG", "vi")
    found = diagnose(case.facts)
    assert found.headline == diagnose_rocm.OVERRIDE_OTHER_MAJOR
    assert found.fix == (
        "HSA_OVERRIDE_GFX_VERSION=10.3.0 giả card gfx1100 này thành gfx1030: "
        "xóa HSA_OVERRIDE_GFX_VERSION khỏi .env (image này hỗ trợ sẵn gfx1100)"
    )


def test_rocm_override_advice_in_vietnamese(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    found = diagnose(CASES["rx6700xt-gfx1031-unsupported-recommends-10.3.0"].facts)
    assert found.headline == diagnose_rocm.SKIPPED_NEEDS_OVERRIDE
    assert found.fix.startswith("thêm HSA_OVERRIDE_GFX_VERSION=10.3.0 vào .env rồi chạy lại (gfx1031 không có trong")


def test_nvidia_fix_in_vietnamese(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    found = diagnose(CASES["nvidia-kernel-module-and-library-differ-reboot"].facts)
    assert found.headline == diagnose_nvidia.DRIVER_LIBRARY_MISMATCH
    assert found.fix.startswith("khởi động lại máy tính: kernel module NVIDIA")
    assert "(kernel module 550.120.0, thư viện 560.35.5)" in found.fix


def test_common_out_of_memory_fix_in_vietnamese(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    found = diagnose(CASES["gpu-oom-during-probe"].facts)
    assert found.fix.startswith("tắt những gì khác đang dùng GPU")
    assert "TF_FORCE_GPU_ALLOW_GROWTH=true" in found.fix


def test_english_stays_the_default(monkeypatch):
    monkeypatch.delenv("LAB_LANG", raising=False)
    for variable in ("LAB_HOST_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(variable, raising=False)
    found = diagnose(CASES["rx6700xt-gfx1031-unsupported-recommends-10.3.0"].facts)
    assert found.fix.startswith("add HSA_OVERRIDE_GFX_VERSION=10.3.0 to .env and start again (gfx1031 is not in")


def test_ptx_only_report_line_in_vietnamese(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    facts = nvidia(gpus=(gpu("NVIDIA H100", capability="(9, 0)"),), capabilities=TF220_CAPABILITIES)
    (note,) = [line for line in gate.report_lines(facts) if "PTX" in line]
    assert note.startswith("GPU /physical_device:GPU:0: compute capability 9.0 chưa có kernel build sẵn ở đây")
    assert "(sm_60, sm_70, sm_80, sm_89)" in note and "(compute_90)" in note and "CUDA_CACHE_PATH" in note


def test_the_gate_prints_a_vietnamese_fix_and_links_the_vietnamese_heading(monkeypatch, capsys):
    # The entrypoint's printing, with the real diagnosis of a real log in place of the probe.
    facts = rocm(CASES["rx6700xt-gfx1031-unsupported-recommends-10.3.0"].facts.log)
    monkeypatch.setenv("LAB_LANG", "vi")
    monkeypatch.setattr(entrypoint.gate, "check", lambda **_: (facts, diagnose(facts)))
    monkeypatch.setattr(entrypoint.gate, "report_lines", lambda facts: [])
    monkeypatch.setattr(entrypoint.sitepaths, "read", lambda: entrypoint.sitepaths.SitePaths((), "/u"))
    monkeypatch.setattr(entrypoint.shadow, "check", lambda **_: [])
    monkeypatch.setattr(entrypoint.namesakes, "check_work", lambda *_: [])

    stop, _data = entrypoint.run_gate({"LAB_FLAVOUR": "rocm"})

    out = capsys.readouterr().out
    assert stop == 3
    assert "[lab] LỖI: TensorFlow bỏ qua GPU này: cần đặt HSA_OVERRIDE_GFX_VERSION." in out
    assert "[lab]   Cách sửa: thêm HSA_OVERRIDE_GFX_VERSION=10.3.0 vào .env rồi chạy lại (" in out
    assert "docs/troubleshooting.vi.md#" in out
    assert not re.search(r"\b(add|start again|is not in)\b", out)
