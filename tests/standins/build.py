"""Build the test-only stand-ins for the vendor base images.

The test machines cannot pull images. These stand-ins mimic what our Dockerfiles rely on:
a Debian rootfs from debootstrap (imported with `docker import`), TensorFlow installed from
PyPI into the system Python the way the vendor images install it, and the vendor's layout
(PEP 668 marker or not, /opt/rocm, GPU code objects in TensorFlow's libraries and AMD's
run-time list in one of its own: see Dockerfile.rocm). Two ROCm stand-ins: the pinned base
(TensorFlow 2.18, plain bundles, AMD's r2.18 run-time list) and the newer base an instructor
may choose (TensorFlow 2.20, compressed bundles, gfx1150/1151, the run-time list after
ROCm/tensorflow-upstream#3181), with the compiled lists AMD's build recipes use
(labhost.rocm_bases) and the run-time lists of xla_lists.py. Building them needs g++ and lld
on this machine (the run-time list's library is compiled here). Names are test-only
(courselab-standin/...), never rocm/... or tensorflow/..., so they can never shadow a real
image, and every stand-in carries the label courselab.standin=true.

Cached on two levels, both optional: the debootstrap tarball in $COURSELAB_CACHE
(default /var/cache/courselab), and the images themselves, rebuilt only when their recipe
(these files, the TensorFlow version, the host's CA bundle) changed.

    python3 tests/standins/build.py        build what is missing, print the image names
    python3 tests/standins/build.py cpu    only the CPU stand-in (and what it is built on)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cuda_userspace
import xla_lists

HERE = Path(__file__).resolve().parent
SUITE = "bookworm"
MIRROR = os.environ.get("COURSELAB_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PACKAGES = "python3,python3-pip,ca-certificates"
TF_VERSION = "2.20.0"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
sys.path.insert(0, str(HERE.parents[1] / "scripts"))
from labhost import rocm_bases  # noqa: E402

LABEL = "courselab.standin"
# Several checkouts of this repository can test on one engine at once (parallel work trees
# of one team). COURSELAB_TEST_NS keeps their stand-ins and test images apart, so one
# checkout's recipe never replaces the image another is building on. Empty in CI.
NAMESPACE = os.environ.get("COURSELAB_TEST_NS", "")


def tagged(name: str) -> str:
    """`name` in this checkout's namespace (the tag gets a suffix; unchanged without one)."""
    return f"{name}-{NAMESPACE}" if NAMESPACE else name


CPU_IMAGE = tagged(f"courselab-standin/tensorflow:{TF_VERSION}")
# The -gpu (CUDA) official image: the CUDA build of TensorFlow on CUDA 12.3 and cuDNN 8.9 in
# apt's layout, without the cuDNN 9 that TensorFlow 2.20 opens (Dockerfile.cuda, cuda_userspace.py).
CUDA_IMAGE = tagged(f"courselab-standin/tensorflow:{TF_VERSION}-gpu")


@dataclass(frozen=True)
class RocmStandin:
    """One ROCm stand-in: which AMD base it stands for and how its kernels are stored."""

    base: rocm_bases.RocmBase
    tf_version: str
    # TensorFlow 2.18 is installed in the stand-in's own layer, kernels added in the same
    # step; 2.20 reuses the CPU stand-ins' TensorFlow layer and adds kernels to the smaller
    # of its two big libraries (a changed file is copied whole into the new layer).
    own_tensorflow: bool
    libraries: str
    bundle_format: str  # plain: uncompressed bundles; ccob3: --offload-compress (zstd)
    runtime_targets: list[str]  # what AMD's build of this base accepts at run time (xla_lists)

    @property
    def name(self) -> str:
        return tagged(f"courselab-standin/rocm-tensorflow:rocm{self.base.rocm_version}-tf{self.tf_version}")


BOTH_LIBRARIES = "libtensorflow_cc.so.2,libtensorflow_framework.so.2"
ROCM_STANDINS = {
    "rocm": RocmStandin(rocm_bases.PINNED_BASE, "2.18.1", True, BOTH_LIBRARIES, "plain", xla_lists.R218_ROCM),
    # The kernels go into libtensorflow_cc.so.2, which retiring upstream XLA's list changes anyway.
    "rocm-newer": RocmStandin(
        rocm_bases.NEWER_BASE, TF_VERSION, False, "libtensorflow_cc.so.2", "ccob3", xla_lists.TF220_ROCM_3181
    ),
}
ROCM_IMAGE = ROCM_STANDINS["rocm"].name
ROCM_NEWER_IMAGE = ROCM_STANDINS["rocm-newer"].name
# Stand-in for image/Dockerfile.arm64-base's own base, Docker's official
# python:3.11-slim-bookworm, with TensorFlow's aarch64 wheel already in the system Python.
# Debian bookworm with Python 3.11 and pip, no PEP 668 marker, `python` and `pip` on PATH; the
# TensorFlow wheel and its dependencies are the files pip writes for linux/arm64, unpacked by
# the host's own pip (--platform): pip run under QEMU needs over 15 minutes for the 260 MB wheel
# on this machine, far too long for CI. The stage's own `pip install` then finds it installed.
ARM64_PYTHON_IMAGE = tagged(f"courselab-standin/python-tensorflow:{TF_VERSION}-arm64")


def cache_dir() -> Path:
    return Path(os.environ.get("COURSELAB_CACHE", "/var/cache/courselab"))


def log(message: str) -> None:
    print(f"[standins] {message}", file=sys.stderr, flush=True)


def digest(*parts: bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part)
        sha.update(b"\0")
    return sha.hexdigest()[:12]


def ca_bundle() -> bytes:
    return HOST_CA_BUNDLE.read_bytes() if HOST_CA_BUNDLE.exists() else b""


def image_recipe(name: str) -> str | None:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", '{{ index .Config.Labels "' + LABEL + '.recipe" }}', name],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def rootfs_tarball(key: str) -> Path:
    """debootstrap once per recipe; the tarball is the expensive, cacheable part."""
    tarball = cache_dir() / f"debian-{SUITE}-{key}.tar"
    if tarball.exists():
        log(f"reusing {tarball}")
        return tarball
    if shutil.which("debootstrap") is None:
        raise SystemExit("[standins] debootstrap is missing: apt-get install debootstrap")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tarball.parent) as scratch:
        root = Path(scratch) / "rootfs"
        log(f"debootstrap {SUITE} from {MIRROR} (about a minute)")
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE, str(root), MIRROR],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # The host's bundle is Debian's plus whatever CA a TLS-intercepting proxy needs.
        (root / "etc/ssl/certs/ca-certificates.crt").write_bytes(ca_bundle())
        shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.rename(tarball)  # atomic: a killed run never leaves a half tarball
    return tarball


def cache_flags() -> list[str]:
    """COURSELAB_BUILD_NO_CACHE=1 makes every test build ignore Docker's layer cache: how a
    cold CI machine's build time is measured on a warm one."""
    return ["--no-cache"] if os.environ.get("COURSELAB_BUILD_NO_CACHE") == "1" else []


def build(name: str, recipe: str, dockerfile: str, args: dict[str, str], context: Path = HERE) -> None:
    if image_recipe(name) == recipe:
        log(f"{name} is up to date")
        return
    log(f"building {name}")
    started = time.monotonic()
    command = ["docker", "build", "-q", *cache_flags(), "-t", name, "-f", str(HERE / dockerfile)]
    command += ["--label", f"{LABEL}=true", "--label", f"{LABEL}.recipe={recipe}"]
    for key, value in args.items():
        command += ["--build-arg", f"{key}={value}"]
    subprocess.run([*command, str(context)], check=True, stdout=subprocess.DEVNULL)
    log(f"built {name} in {time.monotonic() - started:.0f} s")


def prune_old_rootfs(current_key: str) -> None:
    """A new recipe (a changed CA bundle, say) leaves the old rootfs image and tarball behind;
    remove them so repeated runs on one machine do not fill its disk. Not inside a namespace:
    the rootfs is shared, and another checkout may be building on an older one."""
    if NAMESPACE:
        return
    listed = subprocess.run(
        ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "courselab-standin/debian-rootfs"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    for name in listed:
        if not name.endswith(f":{current_key}"):
            log(f"removing superseded {name}")
            subprocess.run(["docker", "image", "rm", name], capture_output=True, check=False)
    for tarball in cache_dir().glob(f"debian-{SUITE}-*.tar"):
        if tarball.name != f"debian-{SUITE}-{current_key}.tar" and "-arm64-" not in tarball.name:
            tarball.unlink(missing_ok=True)


def ensure(flavours: tuple[str, ...] | None = None) -> dict[str, str]:
    """Build the stand-ins that are missing or out of date: all of them, or only `flavours`
    (cpu, rocm, rocm-newer, cuda) and what they are built on."""
    wanted = set(flavours or ("cpu", *ROCM_STANDINS, "cuda"))
    rootfs_key = digest(SUITE.encode(), PACKAGES.encode(), ca_bundle())
    rootfs_image = f"courselab-standin/debian-rootfs:{rootfs_key}"
    prune_old_rootfs(rootfs_key)
    if image_recipe(rootfs_image) != rootfs_key:
        tarball = rootfs_tarball(rootfs_key)
        log(f"importing {tarball.name} as {rootfs_image}")
        with tarball.open("rb") as stream:
            subprocess.run(
                [
                    "docker",
                    "import",
                    "--change",
                    f"LABEL {LABEL}=true",
                    "--change",
                    f"LABEL {LABEL}.recipe={rootfs_key}",
                    "--change",
                    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "-",
                    rootfs_image,
                ],
                stdin=stream,
                check=True,
                stdout=subprocess.DEVNULL,
            )

    tf_dockerfile = (HERE / "Dockerfile.tensorflow").read_bytes()
    tf_layer = tagged(f"courselab-standin/tensorflow-layer:{TF_VERSION}")
    tf_recipe = digest(rootfs_key.encode(), tf_dockerfile, TF_VERSION.encode())
    build(tf_layer, tf_recipe, "Dockerfile.tensorflow", {"ROOTFS_IMAGE": rootfs_image, "TF_VERSION": TF_VERSION})

    flavour_dockerfile = (HERE / "Dockerfile.flavour").read_bytes()
    images = {"cpu": CPU_IMAGE}
    for flavour, name in images.items():
        recipe = digest(tf_recipe.encode(), flavour_dockerfile, flavour.encode())
        build(name, recipe, "Dockerfile.flavour", {"TF_IMAGE": tf_layer, "STANDIN_FLAVOUR": flavour})

    rocm_inputs = b"".join((HERE / name).read_bytes() for name in ("Dockerfile.rocm", "codeobjects.py", "xla_lists.py"))
    for flavour, standin in ROCM_STANDINS.items():
        if flavour not in wanted:
            continue
        args = {
            "BASE_IMAGE": rootfs_image if standin.own_tensorflow else tf_layer,
            "TF_VERSION": standin.tf_version if standin.own_tensorflow else "",
            "ROCM_VERSION": standin.base.rocm_version,
            "KERNEL_TARGETS": " ".join(standin.base.documented_targets),
            "KERNEL_LIBRARIES": standin.libraries,
            "KERNEL_FORMAT": standin.bundle_format,
        }
        base_recipe = rootfs_key if standin.own_tensorflow else tf_recipe
        runtime = " ".join(standin.runtime_targets).encode()
        recipe = digest(base_recipe.encode(), rocm_inputs, repr(sorted(args.items())).encode(), runtime)
        if image_recipe(standin.name) != recipe:
            with tempfile.TemporaryDirectory() as context:
                rocm_context(Path(context), standin.runtime_targets)
                build(standin.name, recipe, "Dockerfile.rocm", args, context=Path(context))
        else:
            log(f"{standin.name} is up to date")
        images[flavour] = standin.name

    if "cuda" not in wanted:
        return images
    # The CUDA stand-in: the CUDA TensorFlow wheel, then the official image's CUDA user space.
    tree, tree_key = cuda_userspace.layout(cache_dir(), prune=not NAMESPACE)
    cuda_recipe = digest(tf_recipe.encode(), (HERE / "Dockerfile.cuda").read_bytes(), tree_key.encode())
    cuda_args = {"TF_IMAGE": tf_layer, "TF_VERSION": TF_VERSION}
    build(CUDA_IMAGE, cuda_recipe, "Dockerfile.cuda", cuda_args, context=tree)
    images["cuda"] = CUDA_IMAGE
    return images


def rocm_context(context: Path, runtime_targets: list[str]) -> None:
    """The ROCm stand-in's build context: its scripts, and the library that carries AMD's
    run-time list, compiled here (the stand-in's Debian has no compiler)."""
    problem = xla_lists.missing_tools()
    if problem:
        raise SystemExit(f"[standins] {problem}: the ROCm stand-ins need it to compile their run-time list")
    for name in ("codeobjects.py", "xla_lists.py"):
        shutil.copy(HERE / name, context / name)
    xla_lists.build_library(context / "libxla_rocm_lists.so", runtime_targets)


def arm64_rootfs_tarball(key: str) -> Path:
    """An arm64 Debian with Python, made without running arm64 code: debootstrap's first stage
    (download, unpack the base) and then every package unpacked with dpkg-deb. The second
    stage would run each package's scripts under QEMU (12 minutes here); what it would add
    (ldconfig's cache, /etc/passwd, byte-compiled files) Python and pip do not need."""
    tarball = cache_dir() / f"debian-{SUITE}-arm64-{key}.tar"
    if tarball.exists():
        log(f"reusing {tarball}")
        return tarball
    if shutil.which("debootstrap") is None or shutil.which("dpkg-deb") is None:
        raise SystemExit("[standins] debootstrap and dpkg-deb are missing: apt-get install debootstrap")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tarball.parent) as scratch:
        root = Path(scratch) / "rootfs"
        log(f"debootstrap --foreign {SUITE} for arm64 from {MIRROR} (about a minute)")
        subprocess.run(
            ["debootstrap", "--foreign", "--arch=arm64", "--variant=minbase", f"--include={PACKAGES}"]
            + [SUITE, str(root), MIRROR],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for package in sorted((root / "var/cache/apt/archives").glob("*.deb")):
            subprocess.run(["dpkg-deb", "--extract", str(package), str(root)], check=True)
        like_python_slim(root)
        install_tensorflow_for_arm64(root)
        (root / "etc/ssl/certs").mkdir(parents=True, exist_ok=True)
        (root / "etc/ssl/certs/ca-certificates.crt").write_bytes(ca_bundle())
        shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
        shutil.rmtree(root / "debootstrap", ignore_errors=True)
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.rename(tarball)
    return tarball


def install_tensorflow_for_arm64(root: Path) -> None:
    """TensorFlow's aarch64 wheel and its dependencies, as `pip install` on arm64 would place
    them (Debian's python3 reads /usr/local/lib/python3.X/dist-packages), without emulation."""
    target = next(root.glob("usr/lib/python3.*")).name  # python3.11
    log(f"installing tensorflow=={TF_VERSION} for linux/arm64 into the stand-in (host pip, --platform)")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir"]
        + ["--platform", "manylinux2014_aarch64", "--implementation", "cp", "--python-version", target[6:]]
        + ["--only-binary", ":all:", "--target", str(root / "usr/local/lib" / target / "dist-packages")]
        + [f"tensorflow=={TF_VERSION}"],
        check=True,
    )


def like_python_slim(root: Path) -> None:
    """What python:3.11-slim-bookworm has that Debian's python3 package does not: pip may
    install into the system Python (no PEP 668 marker), and `python`/`pip` are on PATH."""
    for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()
    for name, target in (("python", "python3"), ("pip", "pip3")):
        if not (root / "usr/bin" / name).exists():
            (root / "usr/bin" / name).symlink_to(target)


def ensure_arm64() -> str:
    """The arm64 Python stand-in. `docker import` on Engine 20.10 ignores --platform, so the
    tarball goes into a FROM-scratch build for linux/arm64 (BuildKit, through Compose): the
    image is marked arm64, and nothing in it runs at build time."""
    recipe = (HERE / "Dockerfile.arm64-python").read_bytes()
    key = digest(
        SUITE.encode(),
        b"arm64",
        PACKAGES.encode(),
        TF_VERSION.encode(),
        ca_bundle(),
        recipe,
        Path(__file__).read_bytes(),
    )
    if image_recipe(ARM64_PYTHON_IMAGE) == key:
        log(f"{ARM64_PYTHON_IMAGE} is up to date")
        return ARM64_PYTHON_IMAGE
    tarball = arm64_rootfs_tarball(key)
    log(f"building {ARM64_PYTHON_IMAGE} (linux/arm64) from {tarball.name}")
    service = {
        "image": ARM64_PYTHON_IMAGE,
        "platform": "linux/arm64",
        "build": {
            "context": str(tarball.parent),
            "dockerfile_inline": recipe.decode().replace("ROOTFS.tar", tarball.name),
            "labels": {LABEL: "true", f"{LABEL}.recipe": key},
        },
    }
    with tempfile.TemporaryDirectory() as scratch:
        spec = Path(scratch) / "build.yaml"
        spec.write_text(json.dumps({"services": {"standin": service}}))
        project = f"clstandin-{key[:8]}"
        subprocess.run(
            ["docker", "compose", "-p", project, "-f", str(spec), "build"], check=True, stdout=subprocess.DEVNULL
        )
    return ARM64_PYTHON_IMAGE


if __name__ == "__main__":
    for flavour, name in ensure(tuple(sys.argv[1:]) or None).items():
        print(f"{flavour}\t{name}")
