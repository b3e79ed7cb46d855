"""Which stack is in use: one rule for the host command and the container."""

from __future__ import annotations

from collections.abc import Mapping

FLAVOURS = ("cpu", "nvidia", "rocm")
DEFAULT = "cpu"


def in_use(*, chosen: str | None = None, configured: str | None = None, detected: str = DEFAULT) -> str:
    """The flavour that counts: chosen on the command line, else LAB_FLAVOUR, else detected."""
    for candidate in (chosen, configured):
        if candidate in FLAVOURS:
            return candidate
    return detected if detected in FLAVOURS else DEFAULT


def requires_gpu(flavour: str, environ: Mapping[str, str]) -> bool:
    """GPU stacks refuse to start without a working GPU; LAB_REQUIRE_GPU=true makes the CPU
    stack refuse too (and =false lets a GPU stack start on the CPU)."""
    setting = environ.get("LAB_REQUIRE_GPU", "")
    if setting in ("true", "false"):
        return setting == "true"
    return flavour != DEFAULT
