"""`scripts/lab verify`'s record: built from the steps' real output formats, and redacted."""

from __future__ import annotations

import json
from datetime import date

from fakehost import R2_18_TARGETS, host
from labhost import plan, verify

TOKEN = "s3cret-token-abcdefghijklmnop"
# What `python -m labkit check --json` prints (labkit.entrypoint.cmd_check): the gate's
# report lines, then one JSON object.
GATE_OUT = "[lab] Checking TensorFlow and the GPU (rocm lab, at most 120 s)...\n" + json.dumps(
    {
        "verdict": {"status": "gpu", "headline": "TensorFlow works on the GPU: AMD Radeon RX 6600", "fix": "nothing"},
        "probe": {
            "tensorflow": "2.18.1",
            "python": "3.12.3",
            "build": {"is_rocm_build": "True", "is_cuda_build": "False", "cuda_version": "x"},
            "gpus": [{"device_name": "AMD Radeon RX 6600", "matmul_ok": True, "conv_ok": True, "name": "GPU:0"}],
        },
        "devices": {"/dev/kfd": "ok"},
        "log": f"JUPYTER_TOKEN={TOKEN} in /home/student/course-lab/work",
    },
    indent=1,
)
BENCH_OUT = json.dumps(
    {
        "schema": "courselab.bench/1",
        "host": "students-laptop",
        "settings": {"steps": 20, "batch_size": 128},
        "rows": [
            {
                "device": "/CPU:0",
                "kind": "CPU",
                "data": "synthetic",
                "steps_per_second": 2.0,
                "images_per_second": 256.0,
            },
            {
                "device": "/GPU:0",
                "kind": "GPU",
                "data": "synthetic",
                "steps_per_second": 40.0,
                "images_per_second": 5120.0,
            },
        ],
        "notes": [],
    }
)
NOTEBOOK_OUT = json.dumps(
    {
        "cells": [
            {"cell_type": "markdown", "source": "# 1"},
            {
                "cell_type": "code",
                "execution_count": 1,
                "outputs": [{"output_type": "stream", "text": ["TensorFlow 2.18.1\n"]}],
            },
            {
                "cell_type": "code",
                "execution_count": 2,
                "outputs": [{"output_type": "error", "ename": "ValueError", "evalue": "bad"}],
            },
        ]
    }
)


def outcome(**steps: verify.Step) -> verify.Outcome:
    return verify.Outcome("rocm", verify.Step(0, seconds=12.0), **steps)


def make_record(result: verify.Outcome) -> dict:
    h = host("igpu-780m-first-plus-rx6600")
    return verify.record(
        outcome=result,
        host=h,
        the_plan=plan.make_plan(h, R2_18_TARGETS),
        settings={"JUPYTER_TOKEN": TOKEN, "HSA_OVERRIDE_GFX_VERSION": "10.3.0", "ROCR_VISIBLE_DEVICES": "1"},
        versions={"docker_engine": "27.3.1"},
        images=["courselab/lab:2.18-rocm6.4.1"],
        today=date(2026, 11, 28),
    )


def test_record_takes_each_step_from_its_real_output_format():
    rec = make_record(
        outcome(gate=verify.Step(0, GATE_OUT), bench=verify.Step(0, BENCH_OUT), notebook=verify.Step(1, NOTEBOOK_OUT))
    )
    steps = rec["steps"]

    assert rec["result"] == "fail"  # the notebook raised
    assert steps["gate"]["status"] == "gpu"
    assert steps["gate"]["gpus"] == [
        {"device_name": "AMD Radeon RX 6600", "matmul_ok": True, "conv_ok": True, "error": None}
    ]
    assert steps["gate"]["build"] == {"is_rocm_build": "True", "is_cuda_build": "False"}
    assert [r["kind"] for r in steps["benchmark"]["rows"]] == ["CPU", "GPU"]
    assert steps["notebook"]["code_cells"] == 2
    assert steps["notebook"]["errors"] == ["ValueError: bad"]
    assert rec["settings"] == {"HSA_OVERRIDE_GFX_VERSION": "10.3.0", "ROCR_VISIBLE_DEVICES": "1"}
    assert [g["target"] for g in rec["hardware"]["amd_gpus"]] == ["gfx1103", "gfx1032"]
    assert rec["hardware"]["amd_gpus"][1]["pci_id"] == "1002:73ff"


def test_record_credits_the_gpu_the_lab_used_not_the_hidden_igpu_listed_first():
    rec = make_record(outcome(gate=verify.Step(0, GATE_OUT), bench=verify.Step(0, BENCH_OUT)))

    assert [g["used_by_lab"] for g in rec["hardware"]["amd_gpus"]] == [False, True]
    assert verify.used_amd_targets(rec) == ["gfx1032"]
    assert verify.file_name(rec) == "courselab-verify-rocm-gfx1032-2026-11-28.json"


def test_a_cpu_lab_record_credits_no_gpu():
    h = host("igpu-780m-first-plus-rx6600")
    rec = verify.record(
        outcome=verify.Outcome("cpu", verify.Step(0, seconds=3.0)),
        host=h,
        the_plan=plan.make_plan(h, R2_18_TARGETS),
        settings={"LAB_FLAVOUR": "cpu"},
        versions={},
        images=[],
        today=date(2026, 11, 28),
    )

    assert not any(g["used_by_lab"] for g in rec["hardware"]["amd_gpus"])
    assert verify.file_name(rec) == "courselab-verify-cpu-cpu-2026-11-28.json"


def test_redaction_removes_tokens_user_paths_and_host_name():
    rec = make_record(outcome(gate=verify.Step(0, GATE_OUT), bench=verify.Step(0, BENCH_OUT)))
    rec["steps"]["gate"]["fix"] = f"see /home/student/course-lab/.env, token {TOKEN}"

    clean = verify.redact(
        rec,
        verify.identifying(
            secrets=[TOKEN], user="student", home="/home/student", paths=["/home/student/course-lab"], hostname="laptop"
        ),
    )
    text = json.dumps(clean)

    assert TOKEN not in text
    assert "student" not in text
    assert "/home/" not in text
    assert "<redacted>" in text and "<path>" in text


def test_a_token_not_named_anywhere_is_still_removed_by_its_shape():
    assert verify.redact({"log": "open http://127.0.0.1:8888/lab?token=abc123abc123abc123"}, {}) == {
        "log": "open http://127.0.0.1:8888/lab?token=<redacted>"
    }


def test_kernel_release_drops_the_builders_user_and_host():
    line = "Linux version 6.8.0-49-generic (buildd@lcy02-amd64-103) (x86_64-linux-gnu-gcc-13) #49-Ubuntu SMP"

    assert verify.kernel_release(line) == "6.8.0-49-generic"


def test_the_benchmark_is_started_through_one_function():
    command = verify.benchmark_command(steps=3)

    assert "--steps" in command and command[command.index("--steps") + 1] == "3"
    assert "--json" in command
