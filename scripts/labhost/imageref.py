"""What compose would build for a flavour (image name, base, Dockerfile, lock), and what the
engine knows about an image (present, layers, registry digest, its identity as `docker save`
writes it). Used by lock, release, export and import.

Compose's merged model is the truth: it already applies .env (LAB_BASE_IMAGE and the
per-flavour variants), so these commands build exactly what `docker compose up` would.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from labhost import archivescan, compose, docker, dockerload

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
    # The default store's `.Id` is the configuration's digest; the containerd store's is the
    # digest of the manifest or index it was pulled or loaded from, which can differ between
    # two machines holding the same image. Compare images by dockerload.Identity instead.
    id: str
    repo_digests: tuple[str, ...]
    labels: Mapping[str, str]
    layers: tuple[str, ...]  # the diff IDs: the same on every engine and store
    size: int  # not comparable across stores (the containerd store counts its compressed blobs)


def inspect(run: docker.Runner, ref: str) -> ImageFacts | None:
    done = run(["docker", "image", "inspect", "--format", "{{json .}}", ref])
    if done.returncode != 0:
        return None
    try:
        data = json.loads(done.stdout.strip().splitlines()[0])
    except (ValueError, IndexError):
        return None
    return ImageFacts(
        id=data["Id"],
        repo_digests=tuple(data.get("RepoDigests") or ()),
        labels=(data.get("Config") or {}).get("Labels") or {},
        layers=tuple((data.get("RootFS") or {}).get("Layers") or ()),
        size=int(data.get("Size") or 0),
    )


def pinned_reference(ref: str, facts: ImageFacts, *, registry_confirmed: bool = True) -> str:
    """`name@sha256:...` when a registry digest is known for this name, else the name and the
    image ID (a locally built or imported image has no registry digest). On the containerd
    store RepoDigests lists `name@<.Id>` for every local image, so there a digest counts only
    when a registry confirmed it (`registry_confirmed`, see registry_pin)."""
    repository = ref.split("@", 1)[0]
    name = repository.rsplit(":", 1)[0] if ":" in repository.rsplit("/", 1)[-1] else repository
    for digest in facts.repo_digests if registry_confirmed else ():
        if digest.split("@", 1)[0] == name:
            return digest
    return f"{ref} (no registry digest; image {facts.id})"


def containerd_store(run: docker.Runner) -> bool:
    done = run(["docker", "info", "--format", "{{json .DriverStatus}}"])
    try:
        status = json.loads(done.stdout) if done.returncode == 0 else None
    except ValueError:
        return False
    return isinstance(status, list) and ["driver-type", "io.containerd.snapshotter.v1"] in status


def registry_pin(run: docker.Runner, ref: str, facts: ImageFacts) -> str:
    """pinned_reference, with a registry's word for it: the default store records RepoDigests
    only when it pulls or pushes; on the containerd store a candidate `name@digest` counts
    only when the registry answers a pull of exactly that digest (nothing is downloaded
    that is already here)."""
    if not containerd_store(run):
        return pinned_reference(ref, facts)
    candidate = pinned_reference(ref, facts)
    if "@sha256:" not in candidate or run(["docker", "pull", "--quiet", candidate]).returncode != 0:
        return pinned_reference(ref, facts, registry_confirmed=False)
    return candidate


PUSHED = re.compile(r"^(\S+): digest: (sha256:[0-9a-f]{64}) size: \d+\s*$", re.MULTILINE)


def pushed_digest(push_output: str, tag: str) -> str | None:
    """The digest the registry accepted, from the line the engine prints once a push of `tag`
    succeeded (both stores: "<tag>: digest: sha256:... size: N")."""
    found = [digest for name, digest in PUSHED.findall(push_output) if name == tag]
    return found[-1] if found else None


def saved_plan(ref: str) -> dockerload.Plan | str:
    """What `docker save ref` holds, read as it streams (nothing written to disk): the one image
    and its identity, layers and sizes, the same way on every store. Or one line."""
    save = subprocess.Popen(["docker", "save", ref], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert save.stdout is not None and save.stderr is not None
    scan = archivescan.scan_stream(save.stdout.read)
    while save.stdout.read(archivescan.CHUNK):  # what a refused stream left: let save finish
        pass
    error = save.stderr.read().decode(errors="replace")
    if save.wait() != 0:
        return f"docker save {ref} failed: {docker.last_line(error)}"
    try:
        return dockerload.plan(scan, ref)
    except dockerload.Refused as refused:
        return f"docker save {ref}: {refused}"
