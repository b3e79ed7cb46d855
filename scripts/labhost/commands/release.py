"""`scripts/lab release`: build the class image of each flavour, check it, describe it, tag it,
push it when a registry is given, and print the .env lines to hand out.

    scripts/lab release --term 2027-spring                      every flavour whose base is here
    scripts/lab release --term 2027-spring --flavour rocm --registry registry.school.example/course

The manifest (releases/<term>/<flavour>.json) is what the image itself reports, read from a
container of it: TensorFlow's version and build information, Python, the lab packages, the
GPU targets (ROCm) or CUDA/cuDNN versions (NVIDIA), plus the base it was built from (with its
registry digest when a registry confirmed one) and the lab layer's identity and size.

The image is named by its identity (labhost.dockerload.Identity: configuration digest and
layer diff IDs) and its sizes are the unpacked layers', all read from `docker save` as it
streams: the same on the default and the containerd image store, where `.Id`, `.Size`,
`docker history` and RepoDigests are not. A published image is pinned by the digest the
registry accepted, read from `docker push`'s own report.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from labhost import avoid, compose, docker, dockerload, imageref, rocm_bases
from labhost.commands import Command

FLAVOURS = tuple(compose.COMPOSE_FILES)
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "image"))
import lockfile  # noqa: E402

HELP = "build, check and describe the class image per flavour; tag, push (--registry), print the .env lines"
TERM = re.compile(r"^[a-z0-9][a-z0-9._-]{0,80}$")
LOCAL_REPOSITORY = "courselab.invalid/lab"
# The .env variables of each flavour's image and pull policy (compose.yaml and its overlays).
ENV_KEYS = {
    "cpu": ("LAB_IMAGE", "LAB_PULL_POLICY"),
    "nvidia": ("LAB_NVIDIA_IMAGE", "LAB_NVIDIA_PULL_POLICY"),
    "rocm": ("LAB_ROCM_IMAGE", "LAB_ROCM_PULL_POLICY"),
}
INSTALL_STEP = "install-lab-layer.sh"
# Run inside the image with its own python: what the image says about itself.
SELF_REPORT = """
import json, platform, site, importlib.metadata as m
import tensorflow as tf
names = m.packages_distributions().get("tensorflow", [])
venv = site.getsitepackages()[0]
print(json.dumps({
    "python": platform.python_version(),
    "tensorflow": {
        "distribution": names[0] if names else None,
        "version": tf.__version__,
        "build_info": {key: str(value) for key, value in tf.sysconfig.get_build_info().items()},
    },
    "lab_packages": {d.metadata["Name"]: d.version for d in m.distributions(path=[venv])},
    "all_packages": {d.metadata["Name"]: d.version for d in m.distributions()},
}))
"""


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--term", required=True, help="names the release, e.g. 2027-spring (lower case, digits, -._)")
    parser.add_argument("--flavour", choices=FLAVOURS, action="append", help="only this flavour (repeatable)")
    parser.add_argument("--registry", help="push to this registry path, e.g. registry.school.example/course")
    parser.add_argument("--output", type=Path, help="folder for the manifests (default: releases/)")


def local_tag(term: str, flavour: str) -> str:
    return f"{LOCAL_REPOSITORY}:{term}-{flavour}"


def env_lines(flavour: str, image: str, *, pulled: bool) -> list[str]:
    image_key, policy_key = ENV_KEYS[flavour]
    return [f"{image_key}={image}", f"{policy_key}={'missing' if pulled else 'never'}"]


def build_command(target: imageref.BuildTarget, tag: str) -> list[str]:
    """`docker compose build lab` of the flavour, named `tag`: exactly what `up` would build,
    with BuildKit (compose talks to the engine's own), so a build the student's compose or
    the tests already made is reused from the cache instead of installed again."""
    image_key = ENV_KEYS[target.flavour][0]
    placeholders = [f"{key}={value}" for key, value in imageref.RENDER_PLACEHOLDERS.items()]
    return ["env", f"{image_key}={tag}", *placeholders, *compose.command(target.flavour, "build", "lab")]


def last_json(text: str) -> dict:
    """The JSON object a container printed last, on one line or indented over several (the
    gate prints its own [lab] lines first)."""
    lines = text.strip().splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].startswith("{"):
            try:
                return json.loads("\n".join(lines[index:]))
            except json.JSONDecodeError:
                continue
    return {}


def recorded_rocm_targets(run: docker.Runner, tag: str, labels: dict) -> dict:
    """The GPU target lists a ROCm image's build read from its TensorFlow's libraries: compiled
    for, and accepted at run time (None, with the reason, when the build could not read it)."""
    text = docker.image_file(run, tag, labels.get(rocm_bases.TARGETS_FILE_LABEL, rocm_bases.TARGETS_FILE))
    found = rocm_bases.targets_from_file(text, tag) if text else None
    return {
        "rocm_tf_targets": found.text.split() if found else [],
        "rocm_tf_runtime_targets": found.runtime_text.split() if found and found.runtime is not None else None,
        "rocm_tf_runtime_source": found.runtime_source if found else "",
    }


def gpu_facts(flavour: str, rocm_targets: dict, build_info: dict) -> dict:
    """The GPU side the image really contains: ROCm's target lists, or CUDA/cuDNN."""
    if flavour == "rocm":
        return rocm_targets
    return {key: build_info.get(key) for key in ("cuda_version", "cudnn_version", "is_cuda_build")}


def lab_layer(plan: dockerload.Plan) -> dict:
    """The layer the lab layer's RUN made, from the image configuration's history (works for
    BuildKit and the legacy builder, on both stores), with its unpacked size."""
    layer = dockerload.layer_made_by(plan, INSTALL_STEP)
    return {"diff_id": layer.diff_id, "size": layer.unpacked} if layer else {"diff_id": None, "size": 0}


def push(world, tag: str, remote: str) -> str:
    """Push; the pin is the digest the engine reports the registry accepted, or a problem."""
    argv = ["docker", "push", remote]
    world.show(argv)
    done = world.run_long(argv)
    world.say(done.stdout.rstrip())
    pushed = imageref.pushed_digest(done.stdout, remote.rsplit(":", 1)[1])
    if done.returncode != 0:
        return f"the push failed: {docker.last_line(done.stderr or done.stdout)}"
    if pushed is None:
        return "the registry returned no digest"
    return f"{remote.rsplit(':', 1)[0]}@{pushed}"


def release_one(args: argparse.Namespace, world, target: imageref.BuildTarget, avoided: list) -> dict | None:
    err = world.err
    base = imageref.inspect(world.run, target.base)
    if base is None:
        print(f"release: {target.flavour}: the base image {target.base} is not on this computer. "
              f"Fix: docker pull {target.base}", file=err)  # fmt: skip
        return None
    for item in avoid.hits(avoided, base=target.base, distributions={}):
        print(f"release: {target.flavour}: the base {item.what} is on the tags-to-avoid list "
              f"(docs/instructors.md): {item.reason}", file=err)  # fmt: skip
        return None
    tag = local_tag(args.term, target.flavour)
    argv = build_command(target, tag)
    world.show(argv)
    if world.interactive(argv, world.repo) != 0:
        print(f"release: {target.flavour}: the build failed (above); nothing was tagged", file=err)
        return None

    # Both runs import TensorFlow, which alone took over a minute on a busy 2-core machine here:
    # the long timeout, not the 60 s of a quick docker call.
    report = world.run_long(
        ["docker", "run", "--rm", "--network", "none", "--entrypoint", "python", tag, "-c", SELF_REPORT]
    )
    if report.returncode != 0:
        print(f"release: {target.flavour}: the image could not describe itself: {docker.last_line(report.stderr)}",
              file=err)  # fmt: skip
        return None
    itself = last_json(report.stdout)
    distributions = {avoid.canonical(k): v for k, v in itself["all_packages"].items()}
    for item in avoid.hits(avoided, base=target.base, distributions=distributions):
        world.run(["docker", "image", "rm", tag])
        print(f"release: {target.flavour}: the image has {item.what}, on the tags-to-avoid list "
              f"(docs/instructors.md): {item.reason}. Nothing was released.", file=err)  # fmt: skip
        return None

    # The check-only entrypoint, as a student's start would run it (no GPU needed here: a GPU
    # flavour's GPU can only be checked on a computer that has one).
    check = world.run_long(
        ["docker", "run", "--rm", "--network", "none", "--env", "LAB_REQUIRE_GPU=false", tag, "check", "--json"]
    )
    gate = last_json(check.stdout) if check.stdout.strip() else {}
    if check.returncode != 0:
        print(f"release: {target.flavour}: the image's own check failed (exit {check.returncode}): "
              f"{docker.last_line(check.stdout + check.stderr)}", file=err)  # fmt: skip
        return None

    image = imageref.inspect(world.run, tag)
    assert image is not None
    saved = imageref.saved_plan(tag)
    if isinstance(saved, str):
        print(f"release: {target.flavour}: {saved}", file=err)
        return None
    lock = lockfile.parse((world.repo / target.lock_path).read_text())
    published = None
    if args.registry:
        remote = f"{args.registry.rstrip('/')}/lab:{args.term}-{target.flavour}"
        world.run(["docker", "tag", tag, remote])
        published = push(world, tag, remote)
        if "@sha256:" not in published:
            print(f"release: {target.flavour}: {remote}: {published}", file=err)
            return None
    verdict = gate.get("verdict") or {}
    return {
        "schema": 2,
        "term": args.term,
        "flavour": target.flavour,
        "image": {
            "tag": tag,
            "config": saved.identity.config,
            "diff_ids": list(saved.identity.diff_ids),
            "unpacked_size": saved.unpacked,
            "published": published,
        },
        "base": {"reference": target.base, "pinned": imageref.registry_pin(world.run, target.base, base)},
        "python": itself["python"],
        "tensorflow": itself["tensorflow"],
        "gpu": gpu_facts(
            target.flavour,
            recorded_rocm_targets(world.run, tag, dict(image.labels)) if target.flavour == "rocm" else {},
            itself["tensorflow"]["build_info"],
        ),
        "lock": {
            "file": target.lock_path,
            "resolved_at": lock.header.get("resolved-at"),
            "requirements_sha256": lock.header.get("requirements-sha256"),
            "base_image": lock.header.get("base-image"),
        },
        "lab_packages": dict(sorted(itself["lab_packages"].items(), key=lambda item: item[0].lower())),
        # The JupyterHub a class hub must run for this image's hub mode (deploy/README.md).
        "jupyterhub": itself["lab_packages"].get("jupyterhub"),
        "lab_layer": lab_layer(saved),
        "check": {"exit_code": check.returncode, "status": verdict.get("status"), "headline": verdict.get("headline")},
        "env_lines": env_lines(target.flavour, published or tag, pulled=published is not None),
    }


def run(args: argparse.Namespace, world) -> int:
    if not TERM.match(args.term):
        print(f"release: --term {args.term!r}: use lower-case letters, digits, '-', '.' or '_' (e.g. 2027-spring)",
              file=world.err)  # fmt: skip
        return 2
    instructors = world.repo / "docs" / "instructors.md"
    avoided = avoid.parse(instructors.read_text()) if instructors.is_file() else []
    output = (args.output or world.repo / "releases") / args.term
    failed = False
    lines: list[str] = []
    for flavour in args.flavour or list(FLAVOURS):
        target = imageref.build_target(world.run, flavour, world.environ)
        if isinstance(target, str):
            print(f"release: {flavour}: {target}", file=world.err)
            failed = True
            continue
        manifest = release_one(args, world, target, avoided)
        if manifest is None:
            failed = True
            continue
        output.mkdir(parents=True, exist_ok=True)
        path = output / f"{flavour}.json"
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(manifest, indent=1) + "\n")
        partial.replace(path)
        world.say(
            f"release: {flavour}: {manifest['image']['tag']} ({manifest['image']['config'][:19]}), manifest {path}"
        )
        lines += manifest["env_lines"]
    if lines:
        world.say("\nHand these lines out in the class's .env:")
        for line in lines:
            world.say(f"  {line}")
    return 1 if failed else 0


COMMAND = Command(help=HELP, run=run, arguments=arguments)
