"""Which GPU a student's server gets: a pure decision, so it can be tested as data.

Policy: a student who already holds a GPU keeps it (a restart does not move their work to
another card); otherwise the least-loaded GPU with room, the lowest position in HUB_GPUS
breaking ties. Students arriving one after another therefore go round-robin over the cards,
and a card freed by a student who left is filled first. When every GPU has
`students_per_gpu` servers on it, or the student asked for the CPU profile, or the hub has
no GPUs, the server runs on the CPU, and the reason says which. Sharing a card is what
TF_FORCE_GPU_ALLOW_GROWTH=true (set for every GPU server) makes possible: each TensorFlow
takes memory as it needs it instead of all of it at start.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PROFILES = ("gpu", "cpu")


@dataclass(frozen=True)
class Assignment:
    user: str
    flavour: str  # "cpu", "nvidia" or "rocm": the lab image's LAB_FLAVOUR
    gpu: str | None  # a device id from HUB_GPUS, None on the CPU
    reason: str  # one line for the hub's log

    @property
    def on_gpu(self) -> bool:
        return self.gpu is not None


def assign(
    *,
    user: str,
    vendor: str,
    gpus: Sequence[str],
    holders: Mapping[str, str],
    students_per_gpu: int,
    profile: str = "gpu",
) -> Assignment:
    """`holders` maps each other student with a live server to the GPU they hold."""
    if vendor == "none" or not gpus:
        return Assignment(user, "cpu", None, "this hub has no GPUs: CPU")
    if profile == "cpu":
        return Assignment(user, "cpu", None, "the CPU profile was chosen: CPU")
    held = holders.get(user)
    if held in gpus:
        return Assignment(user, vendor, held, f"keeps GPU {held}, which their server already holds")
    load = Counter(gpu for holder, gpu in holders.items() if holder != user and gpu in gpus)
    with_room = [gpu for gpu in gpus if load[gpu] < students_per_gpu]
    if not with_room:
        return Assignment(
            user, "cpu", None, f"all {len(gpus)} GPU(s) have {students_per_gpu} student(s) each: CPU until one leaves"
        )
    chosen = min(with_room, key=lambda gpu: (load[gpu], gpus.index(gpu)))
    return Assignment(user, vendor, chosen, f"GPU {chosen}, shared with {load[chosen]} other student(s)")
