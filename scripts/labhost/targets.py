"""The GPU targets an image supports, and where the lab read them. Pure.

Its own module so that plan (which picks the GPU), rocm_bases (which knows the bases) and
wsl (which says what a base can do on WSL2) can all use it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from labkit import gfx


@dataclass(frozen=True)
class SupportedTargets:
    """An image's two lists (labkit.gfx.ImageTargets) with where each came from."""

    targets: tuple[gfx.GfxTarget, ...]  # compiled for: the kernels
    source: str
    text: str = ""
    runtime: tuple[gfx.GfxTarget, ...] | None = None  # accepted at run time; None: not known
    runtime_source: str = ""  # where the run-time list came from, or why it is not known
    runtime_text: str = ""
    tensorflow_id: str = ""  # the image's TensorFlow build (labkit.seen_targets' key)

    @property
    def image(self) -> gfx.ImageTargets:
        return gfx.ImageTargets(self.targets, self.runtime)

    @property
    def broken(self) -> bool:
        return gfx.has_glued_targets(self.text) or gfx.has_glued_targets(self.runtime_text)
