"""The CPU lab on an arm64 Docker engine (Apple silicon Macs, arm64 Linux). Pure.

The official tensorflow/tensorflow images are published for linux/amd64 only; on an arm64
engine Docker runs them emulated, and TensorFlow aborts there on its AVX instructions
(tensorflow/tensorflow#52972). TensorFlow publishes aarch64 Linux wheels, so the lab's arm64
base is built from image/Dockerfile.arm64-base and named in LAB_BASE_IMAGE; the lab's own
Dockerfile and lock are the same on both (tests/image/test_arm64.py builds both for arm64).

What is decided from facts: the engine's architecture (`docker info`), the base image's own
architecture when it is in the engine (`docker image inspect`). The one thing known without
the image is the vendor's: tensorflow/tensorflow has no arm64 image.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

# `docker info` says the kernel's name (aarch64 on Linux and in Docker Desktop's VM);
# `docker image inspect` says Go's (arm64).
ARM64_NAMES = frozenset({"aarch64", "arm64"})
VENDOR_AMD64_ONLY = "tensorflow/tensorflow:"
RECIPE = "image/Dockerfile.arm64-base"
# A name no registry answers (.invalid is reserved, RFC 2606): a missing base fails the build
# instead of pulling a stranger's image of the same name.
ARM64_REPOSITORY = "courselab.invalid/tensorflow"


def is_arm64(architecture: str | None) -> bool:
    return (architecture or "").lower() in ARM64_NAMES


def tensorflow_version(base_image: str) -> str | None:
    """The TensorFlow release of an official base's tag: tensorflow/tensorflow:2.20.0 -> 2.20.0."""
    if not base_image.startswith(VENDOR_AMD64_ONLY):
        return None
    tag = base_image[len(VENDOR_AMD64_ONLY) :].split("@")[0]
    return tag if tag and tag[0].isdigit() and "-" not in tag else None


def arm64_base_for(version: str) -> str:
    return f"{ARM64_REPOSITORY}:{version}-arm64"


def build_command(version: str) -> str:
    return (
        f"docker build --platform linux/arm64 --build-arg TF_VERSION={version} "
        f"-f {RECIPE} -t {arm64_base_for(version)} image"
    )


class BaseProblem(Enum):
    VENDOR_AMD64_ONLY = "vendor-amd64-only"  # an official tensorflow/tensorflow tag, not here
    BUILT_FOR_OTHER = "built-for-other"  # the base is here, built for another architecture
    NOT_BUILT = "not-built"  # not here and not an official tag (ours not built yet, or an instructor's)


@dataclass(frozen=True)
class BaseVerdict:
    """What the CPU base means on this engine. `ok`: it runs natively; else `problem` says why
    not and `command` builds the arm64 base (None when the version is unknown)."""

    ok: bool
    problem: BaseProblem | None = None
    arm64_base: str | None = None
    command: str | None = None


def judge_cpu_base(
    *, engine_architecture: str | None, base_image: str, base_architecture: str | None
) -> BaseVerdict | None:
    """None when there is nothing to say (an amd64 engine, or an engine that did not answer).

    base_architecture is the image's own when it is in the engine, else None."""
    if not is_arm64(engine_architecture):
        return None
    if is_arm64(base_architecture):
        return BaseVerdict(True)
    version = tensorflow_version(base_image)
    fix = (arm64_base_for(version), build_command(version)) if version else (None, None)
    if base_architecture is not None:
        return BaseVerdict(False, BaseProblem.BUILT_FOR_OTHER, *fix)
    if version is not None:
        return BaseVerdict(False, BaseProblem.VENDOR_AMD64_ONLY, *fix)
    return BaseVerdict(False, BaseProblem.NOT_BUILT, *_own_base_fix(base_image))


def _own_base_fix(base_image: str) -> tuple[str | None, str | None]:
    """A base named like ours (courselab.invalid/tensorflow:2.20.0-arm64) that is not built yet."""
    repository, _, tag = base_image.partition(":")
    if repository == ARM64_REPOSITORY and tag.endswith("-arm64"):
        version = tag[: -len("-arm64")]
        return base_image, build_command(version)
    return None, None
