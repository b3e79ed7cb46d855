"""Build the test-only stand-ins for the vendor base images.

The test machines cannot pull images. These stand-ins mimic what our Dockerfiles rely on:
a Debian rootfs from debootstrap (imported with `docker import`), TensorFlow installed from
PyPI into the system Python the way the vendor images install it, and the vendor's layout
(PEP 668 marker or not, /opt/rocm, GPU code objects in TensorFlow's libraries: see
Dockerfile.rocm). Two ROCm stand-ins: the pinned base (TensorFlow 2.18, plain bundles) and
the newer base an instructor may choose (TensorFlow 2.20, compressed bundles, gfx1150/1151),
with the target lists AMD's build recipes use (labhost.rocm_bases). Names are test-only
(courselab-standin/...), never rocm/... or tensorflow/..., so they can never shadow a real
image, and every stand-in carries the label courselab.standin=true.

Cached on two levels, both optional: the debootstrap tarball in $COURSELAB_CACHE
(default /var/cache/courselab), and the images themselves, rebuilt only when their recipe
(these files, the TensorFlow version, the host's CA bundle) changed.

    python3 tests/standins/build.py        build what is missing, print the image names
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cuda_userspace

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

    @property
    def name(self) -> str:
        return tagged(f"courselab-standin/rocm-tensorflow:rocm{self.base.rocm_version}-tf{self.tf_version}")


BOTH_LIBRARIES = "libtensorflow_cc.so.2,libtensorflow_framework.so.2"
ROCM_STANDINS = {
    "rocm": RocmStandin(rocm_bases.PINNED_BASE, "2.18.1", True, BOTH_LIBRARIES, "plain"),
    "rocm-newer": RocmStandin(rocm_bases.NEWER_BASE, TF_VERSION, False, "libtensorflow_framework.so.2", "ccob3"),
}
ROCM_IMAGE = ROCM_STANDINS["rocm"].name
ROCM_NEWER_IMAGE = ROCM_STANDINS["rocm-newer"].name


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
        if tarball.name != f"debian-{SUITE}-{current_key}.tar":
            tarball.unlink(missing_ok=True)


def ensure() -> dict[str, str]:
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

    rocm_inputs = (HERE / "Dockerfile.rocm").read_bytes() + (HERE / "codeobjects.py").read_bytes()
    for flavour, standin in ROCM_STANDINS.items():
        args = {
            "BASE_IMAGE": rootfs_image if standin.own_tensorflow else tf_layer,
            "TF_VERSION": standin.tf_version if standin.own_tensorflow else "",
            "ROCM_VERSION": standin.base.rocm_version,
            "KERNEL_TARGETS": " ".join(standin.base.documented_targets),
            "KERNEL_LIBRARIES": standin.libraries,
            "KERNEL_FORMAT": standin.bundle_format,
        }
        base_recipe = rootfs_key if standin.own_tensorflow else tf_recipe
        recipe = digest(base_recipe.encode(), rocm_inputs, repr(sorted(args.items())).encode())
        build(standin.name, recipe, "Dockerfile.rocm", args)
        images[flavour] = standin.name

    # The CUDA stand-in: the CUDA TensorFlow wheel, then the official image's CUDA user space.
    tree, tree_key = cuda_userspace.layout(cache_dir(), prune=not NAMESPACE)
    cuda_recipe = digest(tf_recipe.encode(), (HERE / "Dockerfile.cuda").read_bytes(), tree_key.encode())
    cuda_args = {"TF_IMAGE": tf_layer, "TF_VERSION": TF_VERSION}
    build(CUDA_IMAGE, cuda_recipe, "Dockerfile.cuda", cuda_args, context=tree)
    images["cuda"] = CUDA_IMAGE
    return images


if __name__ == "__main__":
    for flavour, name in ensure().items():
        print(f"{flavour}\t{name}")
