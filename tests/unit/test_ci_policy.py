"""tests/ci_policy.py: with CI=true only the hardware-only list may skip."""

from __future__ import annotations

import ci_policy

ALLOWED = {
    "tests/stack/test_real_gpu.py": "an AMD GPU with /dev/kfd",
    "tests/unit/test_x.py::test_cuda_kernel[sm_89]": "an NVIDIA RTX 40xx card",
}


def test_outside_ci_a_skip_stays_a_skip() -> None:
    assert ci_policy.skip_is_a_failure("tests/unit/test_x.py::test_a", "no tool", ci=False, allowed=ALLOWED) is None


def test_in_ci_an_unlisted_skip_is_a_failure_naming_the_reason() -> None:
    failure = ci_policy.skip_is_a_failure("tests/unit/test_x.py::test_a", "hadolint missing", ci=True, allowed=ALLOWED)

    assert failure is not None
    assert "hadolint missing" in failure
    assert "HARDWARE_ONLY" in failure


def test_in_ci_a_listed_module_or_test_may_skip() -> None:
    module_test = "tests/stack/test_real_gpu.py::test_rocm_runs[gfx1031]"
    one_test = "tests/unit/test_x.py::test_cuda_kernel[sm_89]"

    assert ci_policy.skip_is_a_failure(module_test, "no GPU", ci=True, allowed=ALLOWED) is None
    assert ci_policy.skip_is_a_failure(one_test, "no GPU", ci=True, allowed=ALLOWED) is None
    assert ci_policy.skip_is_a_failure(one_test.replace("sm_89", "sm_90"), "no GPU", ci=True, allowed=ALLOWED)


def test_a_module_prefix_does_not_cover_a_module_with_a_longer_name() -> None:
    other = "tests/stack/test_real_gpu.py_extra::test_a"

    assert ci_policy.skip_is_a_failure(other, "no GPU", ci=True, allowed=ALLOWED) is not None


def test_the_suite_itself_lists_nothing_today() -> None:
    # Every test of this suite runs on the CI machine; add entries only with a reason.
    assert ci_policy.HARDWARE_ONLY == {}
