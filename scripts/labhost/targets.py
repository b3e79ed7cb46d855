"""The GPU targets an image supports, and where the lab read them. Pure.

Its own module so that plan (which picks the GPU), rocm_bases (which knows the bases) and
wsl (which says what a base can do on WSL2) can all use it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from labkit import gfx


@dataclass(frozen=True)
class SupportedTargets:
    targets: tuple[gfx.GfxTarget, ...]
    source: str
    text: str = ""

    @property
    def broken(self) -> bool:
        return gfx.has_glued_targets(self.text)
