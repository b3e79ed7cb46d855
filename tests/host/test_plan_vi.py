"""The plan in the student's language: with LAB_LANG=vi the reasons and warnings `setup` and
the doctor print (the GPU's name, the override decision, the skipped card, the display-only
iGPU, the GPU chosen among several, the broken image) are Vietnamese, while every decision
and the .env setup writes are the same as in English."""

from __future__ import annotations

import re

import pytest
from fakehost import FIXTURES, R2_18_TARGETS, REPO, host, student
from labhost import envsetup, plan

# Letters only Vietnamese text has (ASCII English has none of them).
VIETNAMESE = re.compile(r"[àáãèéìíòóõùúýăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)
FIXTURE_NAMES = sorted(p.name for p in FIXTURES.iterdir() if (p / "sys").is_dir())


def plan_in(lang: str | None, monkeypatch, fixture: str, supported=R2_18_TARGETS) -> plan.Plan:
    if lang is None:
        monkeypatch.delenv("LAB_LANG", raising=False)
    else:
        monkeypatch.setenv("LAB_LANG", lang)
    return plan.make_plan(host(fixture), supported)


def written_env(p: plan.Plan, fixture: str) -> str:
    example = (REPO / ".env.example").read_text()
    return envsetup.update_env(None, example, p, student(FIXTURES / fixture), token=lambda: "t" * 32).after


def test_the_fixtures_cover_every_kind_of_plan():
    assert {"780m-kernel-6.1", "igpu-780m-first-plus-rx6600", "ryzen7000-igpu", "rx580"} <= set(FIXTURE_NAMES)


@pytest.mark.parametrize("fixture", FIXTURE_NAMES)
def test_same_decisions_and_env_in_vietnamese(monkeypatch, fixture: str) -> None:
    english = plan_in("en", monkeypatch, fixture)
    english_env = written_env(english, fixture)
    vietnamese = plan_in("vi", monkeypatch, fixture)

    assert VIETNAMESE.search(vietnamese.reason), vietnamese.reason
    assert not VIETNAMESE.search(english.reason)
    assert all(VIETNAMESE.search(w.text) for w in vietnamese.warnings), vietnamese.warnings
    assert [w.kind for w in vietnamese.warnings] == [w.kind for w in english.warnings]
    assert (vietnamese.flavour, vietnamese.visible_devices, vietnamese.env) == (
        english.flavour,
        english.visible_devices,
        english.env,
    )
    assert (vietnamese.decision and vietnamese.decision.override) == (english.decision and english.decision.override)
    assert written_env(vietnamese, fixture) == english_env


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        pytest.param(
            "igpu-780m-first-plus-rx6600",
            [
                "gfx1032 không có trong danh sách của image này; nó chạy dưới dạng gfx1030 với "
                "HSA_OVERRIDE_GFX_VERSION=10.3.0",
                "; chỉ dùng GPU 1 gfx1032 (rời, ",
                "(ROCR_VISIBLE_DEVICES=1), không dùng gfx1103 (tích hợp, 12 compute unit, /dev/dri/renderD128)",
            ],
            id="two-gpus-the-discrete-one-chosen",
        ),
        pytest.param(
            "ryzen7000-igpu",
            ["GPU duy nhất, gfx1036 (tích hợp, 2 compute unit, ", "lab CPU nhanh hơn); lab CPU sẽ chạy"],
            id="display-only-igpu",
        ),
        pytest.param(
            "780m-kernel-6.1",
            [
                "kernel Linux thấy GPU AMD card0 (PCI 0000:c4:00.0",
                "`sudo dmesg | grep kfd` cho biết lý do",
                "; lab CPU sẽ chạy",
            ],
            id="card-the-driver-skipped",
        ),
        pytest.param(
            "rx580",
            ["gfx803 (rời, ", "ROCm đã bỏ hỗ trợ Polaris (RX 470/480/570/580); hãy dùng lab CPU"],
            id="unusable-polaris",
        ),
    ],
)
def test_reasons_in_vietnamese(monkeypatch, fixture: str, expected: list[str]) -> None:
    reason = plan_in("vi", monkeypatch, fixture).reason

    for part in expected:
        assert part in reason


def test_the_780m_warning_and_shared_memory_in_vietnamese(monkeypatch) -> None:
    warnings = [w.text for w in plan_in("vi", monkeypatch, "780m-igpu").warnings]

    assert warnings == [
        "Radeon 780M với HSA_OVERRIDE_GFX_VERSION=11.0.0 hay bị lỗi page fault khi chạy nặng; "
        "hãy lưu bài thường xuyên, hoặc dùng lab CPU cho các lần chạy dài",
        "GPU tích hợp dùng chung bộ nhớ với máy tính; mô hình lớn và batch lớn có thể không vừa",
    ]


def test_the_broken_image_warning_in_vietnamese(monkeypatch) -> None:
    glued = plan.SupportedTargets((), "label", "gfx1030gfx1100")
    (warning,) = plan_in("vi", monkeypatch, "rx7900xtx", glued).warnings

    assert warning.kind is plan.WarningKind.IMAGE
    assert warning.text.startswith(
        "TensorFlow trong image ROCm in các mã kiến trúc GPU (target) dính liền nhau ('gfx1030gfx1100')"
    )


def test_a_card_without_a_target_in_vietnamese(monkeypatch) -> None:
    monkeypatch.setenv("LAB_LANG", "vi")
    gpu = plan.AmdGpu(0, 1, None, 40, 128, integrated=False)

    assert gpu.name == "không rõ mã kiến trúc GPU (target) (rời, 40 SIMD, /dev/dri/renderD128)"
    assert plan.decide(gpu, R2_18_TARGETS).reason.startswith(
        "kernel Linux không cho biết mã kiến trúc GPU (target) của GPU này"
    )


@pytest.mark.parametrize("fixture", ["igpu-780m-first-plus-rx6600", "ryzen7000-igpu", "780m-kernel-6.1", "rx580"])
def test_english_is_the_default_and_unchanged(monkeypatch, fixture: str) -> None:
    unset = plan_in(None, monkeypatch, fixture)
    english = plan_in("en", monkeypatch, fixture)

    assert unset == english
    assert not VIETNAMESE.search(english.reason)
