"""The diagnosis's vocabulary: the facts the gate gathers and the verdict it returns.

A module of its own so that the generic rules (labkit.diagnose) and the vendor rules
(labkit.diagnose_rocm, labkit.diagnose_nvidia) can all build verdicts without importing
each other in a circle. labkit.diagnose re-exports everything here: import from there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from labkit import i18n

TROUBLESHOOTING = "docs/troubleshooting.md"
# Each language's page: its headings are the lines students see in that language.
TROUBLESHOOTING_PAGES = {"en": TROUBLESHOOTING, "vi": "docs/troubleshooting.vi.md"}


@dataclass(frozen=True)
class Facts:
    """Everything the gate learnt: the probe's JSON, its log, and the container's view."""

    probe: Mapping  # the probe's JSON object ({} when it produced none)
    log: str = ""  # TensorFlow's and the runtime's own stderr lines
    timed_out: bool = False
    exit_code: int | None = 0
    flavour: str = "cpu"  # cpu, nvidia or rocm: which compose overlay started us
    env: Mapping[str, str] = field(default_factory=dict)
    # Device files seen in the container: path -> "ok" (openable) or "denied".
    devices: Mapping[str, str] = field(default_factory=dict)
    # LLVM names (gfx1031, ...) of the GPUs in KFD's topology (/sys/class/kfd/.../properties,
    # see gfx.from_kfd_properties). KFD reports the silicon, not what HSA_OVERRIDE_GFX_VERSION
    # pretends, so this is the only fact that tells an override apart from the real card.
    # Empty when unknown: the rules that need it then stay silent.
    kfd_targets: tuple[str, ...] = ()
    # Copies of the image's modules that come first on the student's path (on the cache
    # volume, or in a folder a .pth file there adds): {"name", "where", "command"}, the
    # command being the one that removes that copy (labkit.gate.shadowing_copies).
    shadowing: tuple[Mapping[str, str], ...] = ()

    @property
    def gpus(self) -> list[Mapping]:
        return list(self.probe.get("gpus") or [])

    @property
    def working_gpus(self) -> list[Mapping]:
        return [g for g in self.gpus if g.get("matmul_ok") and g.get("conv_ok")]

    @property
    def build(self) -> Mapping:
        return self.probe.get("build") or {}


class GateStatus(str, Enum):
    """What the gate found. A str, so `check --json` prints the plain word."""

    GPU = "gpu"  # a GPU works
    CPU = "cpu"  # no GPU, by design (the CPU lab) or not
    FAIL = "fail"  # something is broken; the verdict says what

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Verdict:
    status: GateStatus
    headline: str
    fix: str
    anchor: str = ""  # heading slug in docs/troubleshooting.md

    def __post_init__(self) -> None:
        # Rules may pass the plain word ("fail"); a typo raises here instead of reading as
        # "not a GPU" further on.
        object.__setattr__(self, "status", GateStatus(self.status))

    @property
    def doc_link(self) -> str:
        return f"{TROUBLESHOOTING}#{self.anchor}" if self.anchor else TROUBLESHOOTING


def slug(headline: str) -> str:
    """GitHub's heading anchor for a headline, so verdicts link to their section."""
    kept = "".join(c for c in headline.lower() if c.isalnum() or c in " -_")
    return kept.strip().replace(" ", "-")


def section_link(heading: str) -> str:
    """The troubleshooting section headed by `heading` (an English catalogue key), on the page
    in the student's language: its heading there is the translated line they just read."""
    lang = i18n.language()
    page = TROUBLESHOOTING_PAGES.get(lang, TROUBLESHOOTING)
    return f"{page}#{slug(heading if page == TROUBLESHOOTING else i18n._(heading))}"


def verdict(status: GateStatus | str, headline: str, fix: str) -> Verdict:
    status = GateStatus(status)
    return Verdict(status, headline, fix, slug(headline) if status is not GateStatus.GPU else "")


Rule = Callable[[Facts], "Verdict | None"]
