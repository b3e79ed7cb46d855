"""One look at the computer for the commands: host facts, the Docker engine, the ROCm image's
targets, the plan, and the doctor's context built from them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from labkit import seen_targets
from labkit.hostfacts import flavour as hostflavour
from labkit.i18n import _
from labkit.settings import effective

from labhost import arm64, checkbase, compose, docker, facts, imagestore, plan, rocm_bases
from labhost.envfile import EnvFile
from labhost.world import World, read_env


def supported_targets(world: World, values: Mapping[str, str]) -> plan.SupportedTargets:
    """What the configured ROCm image's TensorFlow was compiled for: read from the image when
    it is built here, else what AMD documents for its base (marked as such)."""
    assert world.run is not None
    base, image = rocm_bases.configured(dict(values), compose_rocm_text(world))
    images = world.run(compose.command("rocm", "config", "--images"))
    if images.returncode == 0 and images.stdout.split():
        image = images.stdout.split()[0]  # compose's own answer: .env and the shell applied
    return image_targets(world, base, image)


def image_targets(world: World, base: str, image: str) -> plan.SupportedTargets:
    assert world.run is not None
    labels = docker.image_labels(world.run, image)
    if labels is None:
        return rocm_bases.documented(base, _("image {image} is not built here").format(image=image))
    path = labels.get(rocm_bases.TARGETS_FILE_LABEL, rocm_bases.TARGETS_FILE)
    text = docker.image_file(world.run, image, path)
    found = rocm_bases.targets_from_file(text, image) if text else None
    if found is None:
        return rocm_bases.documented(base, _("image {image} records no list: rebuild it").format(image=image))
    return rocm_bases.with_seen(found, seen_runtime_targets(world, image, found.tensorflow_id))


def seen_runtime_targets(world: World, image: str, tensorflow_id: str) -> seen_targets.Seen | None:
    """What the GPU check recorded on the cache volume when TensorFlow refused a card
    (labkit.seen_targets), read through a container of the image."""
    assert world.run is not None
    relative = seen_targets.relative_path(tensorflow_id)
    volume = cache_volume(world) if relative else None
    if relative is None or volume is None:
        return None
    text = docker.volume_file(world.run, image, volume, f"{seen_targets.STATE_DIR}/{relative}")
    return seen_targets.parse(text)


def cache_volume(world: World) -> str | None:
    """The cache volume's name as compose makes it (the project name comes first)."""
    assert world.run is not None
    model = world.run(compose.command("rocm", "config", "--format", "json"))
    try:
        name = json.loads(model.stdout)["volumes"]["cache"]["name"] if model.returncode == 0 else None
    except (ValueError, KeyError, TypeError):
        return None
    return name if isinstance(name, str) and name else None


def compose_rocm_text(world: World) -> str:
    path = world.repo / "compose.rocm.yaml"
    return path.read_text() if path.is_file() else ""


@dataclass(frozen=True)
class Survey:
    host: facts.HostFacts
    engine: docker.DockerFacts
    supported: plan.SupportedTargets
    plan: plan.Plan
    env: EnvFile | None
    newer: plan.SupportedTargets  # the newer ROCm base an instructor may choose (rocm_bases)


def survey(world: World, *, ask_docker: bool = True) -> Survey:
    host = facts.gather(world.root, user=world.user, devices=world.devices)
    assert world.run is not None
    engine = docker.gather(world.run) if ask_docker else docker.DockerFacts(cli_installed=False, problem="skipped")
    env = read_env(world)
    values = env.values() if env else {}
    if engine.usable:
        supported = supported_targets(world, values)
        newer = image_targets(world, rocm_bases.NEWER_BASE.base_image, rocm_bases.NEWER_BASE.lab_image)
    else:
        base, _image = rocm_bases.configured(dict(values), compose_rocm_text(world))
        supported = rocm_bases.documented(base, _("Docker is not usable"))
        newer = rocm_bases.documented(rocm_bases.NEWER_BASE.base_image, _("Docker is not usable"))
    return Survey(host, engine, supported, plan.make_plan(host, supported), env, newer)


def context(world: World, s: Survey) -> checkbase.Context:
    values = s.env.values() if s.env else {}
    work = effective(values, "LAB_WORK_DIR") or "./work"
    # Compose expands ~ and reads a relative path from the project folder.
    work_path = Path(work).expanduser()
    work_path = work_path if work_path.is_absolute() else world.repo / work_path
    flavour = hostflavour.in_use(configured=values.get("LAB_FLAVOUR"), detected=s.plan.flavour)
    image_present = base_present = False
    engine = s.engine
    bases: tuple[str, ...] = ()
    base_architecture = images_dir = None
    if s.engine.usable:
        assert world.run is not None
        # The file system the images go to: DockerRootDir, or containerd's root on the
        # containerd image store (pulls and builds land there).
        store = imagestore.gather(world.run, world.root)
        images_dir = store.image_dir if store else s.engine.root_dir
        images = world.run(compose.command(flavour, "config", "--images"))
        image_present = _all_here(world, images.stdout.split() if images.returncode == 0 else [])
        model = world.run(compose.command(flavour, "config", "--format", "json"))
        bases = docker.build_bases(model.stdout) if model.returncode == 0 else ()
        # The running lab is the project compose itself would address, not a name typed here.
        project = docker.project_name(model.stdout) if model.returncode == 0 else None
        if project:
            engine = dataclasses.replace(engine, lab_ports=docker.published_ports(world.run, project))
        base_present = _all_here(world, bases)
        # Only the arm64 check reads it (labhost.arm64): elsewhere, no extra docker call.
        if bases and flavour == "cpu" and arm64.is_arm64(s.engine.architecture):
            base_architecture = docker.image_architecture(world.run, bases[0])
    port = effective(values, "LAB_PORT") or ""
    address = effective(values, "LAB_BIND_ADDRESS") or ""
    return checkbase.Context(
        host=s.host,
        docker=engine,
        plan=s.plan,
        supported=s.supported,
        newer_supported=s.newer,
        env=s.env,
        env_path=".env",
        work_dir=work,
        work_dir_exists=work_path.is_dir(),
        images_dir=images_dir,
        disk_free=world.disk_free(images_dir) if s.engine.usable else None,
        image_present=image_present,
        base_present=base_present,
        base_image=bases[0] if bases else "",
        base_architecture=base_architecture,
        port_free=world.port_free(address, int(port)) if port.isdigit() else None,
        compose_rocm=_text(world.repo / compose.COMPOSE_FILES["rocm"][-1]),
        system=world.system,
        repo_path=str(world.repo.resolve()),
        work_path=str(work_path.resolve()),
    )


def _all_here(world: World, images: Sequence[str]) -> bool:
    """Whether every one of these images is in the engine (and there is at least one)."""
    assert world.run is not None
    return bool(images) and all(docker.image_labels(world.run, image) is not None for image in images)


def _text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def plan_summary(s: Survey) -> dict[str, object]:
    p = s.plan
    return {
        "flavour": p.flavour,
        "reason": p.reason,
        "gpu": p.gpu.name if p.gpu else None,
        "override": p.decision.override if p.decision else None,
        "rocr_visible_devices": p.visible_devices,
        "warnings": [w.text for w in p.warnings],
        "image_targets": " ".join(t.llvm_name for t in s.supported.targets),
        "image_targets_source": s.supported.source,
        # None: not known (the source says why); the GPU check learns it at the first refusal.
        "image_runtime_targets": " ".join(t.llvm_name for t in s.supported.runtime)
        if s.supported.runtime is not None
        else None,
        "image_runtime_targets_source": s.supported.runtime_source,
        "compose_command": compose.shown(compose.up(p.flavour)),
    }


def lab_flavour(world: World, *, chosen: str | None = None) -> str:
    """The stack a command works on: --flavour, else LAB_FLAVOUR in .env, else what was detected."""
    env = read_env(world)
    configured = env.values().get("LAB_FLAVOUR") if env else None
    if chosen or configured in hostflavour.FLAVOURS:
        return hostflavour.in_use(chosen=chosen, configured=configured)
    return survey(world, ask_docker=False).plan.flavour
