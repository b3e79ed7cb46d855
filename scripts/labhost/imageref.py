"""What compose would build for a flavour (image name, base, Dockerfile, lock), and what the
engine knows about an image (present, ID, registry digest). Used by lock, release, export.

Compose's merged model is the truth: it already applies .env (LAB_BASE_IMAGE and the
per-flavour variants), so these commands build exactly what `docker compose up` would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from labhost import compose, docker

# The ROCm overlay refuses to render without this (`${VAR:?}`); it does not affect what is
# built, so a placeholder is enough to read the build section.
RENDER_PLACEHOLDERS = {"LAB_RENDER_GID": "110"}


@dataclass(frozen=True)
class BuildTarget:
    flavour: str
    image: str  # what compose tags the build as (LAB_IMAGE and its per-flavour variants)
    base: str  # BASE_IMAGE build argument
    dockerfile: str
    lock: str  # image/locks/<lock>.txt

    @property
    def lock_path(self) -> str:
        return f"image/locks/{self.lock}.txt"


def target_from_model(flavour: str, model: Mapping) -> BuildTarget:
    lab = model["services"]["lab"]
    build = lab.get("build") or {}
    args = build.get("args") or {}
    dockerfile = Path(build.get("dockerfile", "Dockerfile")).name
    default_lock = "rocm" if dockerfile.endswith(".rocm") else "cpu"
    return BuildTarget(
        flavour=flavour,
        image=lab["image"],
        base=args.get("BASE_IMAGE", ""),
        dockerfile=dockerfile,
        lock=args.get("LAB_LOCK") or default_lock,
    )


def render_command(flavour: str, environ: Mapping[str, str]) -> list[str]:
    placeholders = [f"{key}={value}" for key, value in RENDER_PLACEHOLDERS.items() if not environ.get(key)]
    prefix = ["env", *placeholders] if placeholders else []
    return prefix + compose.command(flavour, "config", "--format", "json")


def build_target(run: docker.Runner, flavour: str, environ: Mapping[str, str]) -> BuildTarget | str:
    """The flavour's build target, or the one line compose printed when it could not render."""
    done = run(render_command(flavour, environ))
    if done.returncode != 0:
        return docker.last_line(done.stderr) or f"docker compose config failed for the {flavour} lab"
    return target_from_model(flavour, json.loads(done.stdout))


@dataclass(frozen=True)
class ImageFacts:
    id: str  # sha256:... of the image config: the same on every machine that has this image
    repo_digests: tuple[str, ...]
    labels: Mapping[str, str]
    layers: tuple[str, ...]
    size: int


def inspect(run: docker.Runner, ref: str) -> ImageFacts | None:
    done = run(["docker", "image", "inspect", "--format", "{{json .}}", ref])
    if done.returncode != 0:
        return None
    data = json.loads(done.stdout.strip().splitlines()[0])
    return ImageFacts(
        id=data["Id"],
        repo_digests=tuple(data.get("RepoDigests") or ()),
        labels=(data.get("Config") or {}).get("Labels") or {},
        layers=tuple((data.get("RootFS") or {}).get("Layers") or ()),
        size=int(data.get("Size") or 0),
    )


def pinned_reference(ref: str, facts: ImageFacts) -> str:
    """`name@sha256:...` when a registry digest is known for this name, else the name and the
    image ID (a locally built or imported image has no registry digest)."""
    repository = ref.split("@", 1)[0]
    name = repository.rsplit(":", 1)[0] if ":" in repository.rsplit("/", 1)[-1] else repository
    for digest in facts.repo_digests:
        if digest.split("@", 1)[0] == name:
            return digest
    return f"{ref} (no registry digest; image {facts.id})"
