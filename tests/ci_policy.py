"""With CI=true a skipped test is a failed test, unless it is listed here as hardware-only.

CI installs every tool the suite needs (.ci/run), so a skip there means a tier silently did
not run. Only what the CI machine cannot have may skip, and the list says why for each.
"""

from __future__ import annotations

import os

import pytest

# Node id (exactly as pytest prints it, or a prefix of it, e.g. a whole module) -> the
# hardware it needs. Empty: no test of this suite needs more than the CI machine has today.
HARDWARE_ONLY: dict[str, str] = {}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(problem: str | None, what: str) -> None:
    """Skip on a developer machine, fail in CI: there a missing tool is never a skip."""
    if problem:
        if in_ci():
            pytest.fail(f"CI requires the {what}, but {problem}")
        pytest.skip(problem)


def hardware_reason(nodeid: str, allowed: dict[str, str] = HARDWARE_ONLY) -> str | None:
    for prefix, why in allowed.items():
        if nodeid == prefix or nodeid.startswith(prefix.rstrip(":") + ("::" if prefix.endswith(".py") else "")):
            return why
    return None


def skip_is_a_failure(nodeid: str, reason: str, *, ci: bool, allowed: dict[str, str] = HARDWARE_ONLY) -> str | None:
    """The failure message for a skip that CI must not accept, or None where it may skip."""
    if not ci or hardware_reason(nodeid, allowed) is not None:
        return None
    return (
        f"CI=true, and this test skipped: {reason}. Install what it needs in .ci/run, or, if only "
        "hardware CI lacks can run it, list it in HARDWARE_ONLY (tests/ci_policy.py) with the reason"
    )
