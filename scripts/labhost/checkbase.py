"""What every doctor check takes and gives: the facts (Context) in, one frozen result out.

Its own module so that every module of checks (labhost.checks, labhost.platform_checks) builds
on it and none imports another to get these types.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from labkit.hostfacts import flavour as hostflavour
from labkit.settings import effective

from labhost.docker import DockerFacts
from labhost.envfile import EnvFile
from labhost.facts import HostFacts
from labhost.plan import Plan, SupportedTargets


class Status(str, Enum):
    """A check's outcome. A str, so `--json` and the report print the plain word."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"

    def __str__(self) -> str:
        return self.value


OK, WARN, FAIL = Status.OK, Status.WARN, Status.FAIL


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def __post_init__(self) -> None:
        # A plain "fail" is accepted and becomes Status.FAIL; a typo ("failed") raises here.
        object.__setattr__(self, "status", Status(self.status))

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status.value, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class Context:
    host: HostFacts
    docker: DockerFacts
    plan: Plan
    supported: SupportedTargets
    env: EnvFile | None = None
    newer_supported: SupportedTargets | None = None
    env_path: str = ".env"
    work_dir: str = "./work"
    work_dir_exists: bool | None = None
    disk_free: int | None = None
    # Where the engine keeps images (labhost.imagestore: DockerRootDir, or containerd's root on
    # the containerd image store): the folder whose free space disk_free is.
    images_dir: str | None = None
    image_present: bool = False
    base_present: bool = False  # the flavour's base image is in the engine: only the lab layer is built
    base_image: str = ""  # the base the flavour's image is built on (compose's merged model)
    base_architecture: str | None = None  # that base's own architecture, when it is in the engine
    port_free: bool | None = None
    compose_rocm: str = ""  # compose.rocm.yaml's text: what the ROCm stack gives its container
    system: str = "Linux"  # platform.system(): "Linux", "Darwin" (macOS)
    repo_path: str = ""  # absolute paths, for the checks that care where files live
    work_path: str = ""

    @property
    def values(self) -> dict[str, str]:
        return self.env.values() if self.env is not None else {}

    @property
    def flavour(self) -> str:
        return hostflavour.in_use(configured=self.values.get("LAB_FLAVOUR"), detected=self.plan.flavour)

    @property
    def port(self) -> str:
        return effective(self.values, "LAB_PORT") or ""
