"""A missing tool: skipped on a developer's machine, a failure in CI (CI=true), as
tests/conftest.py's `require` does (importable from any folder: `conftest` resolves to the
nearest folder's conftest when tiers run together)."""

from __future__ import annotations

import os

import pytest


def require(problem: str | None, what: str) -> None:
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI requires the {what}, but {problem}")
        pytest.skip(problem)
