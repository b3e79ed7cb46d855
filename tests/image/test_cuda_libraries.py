"""The NVIDIA image carries every CUDA library its TensorFlow opens, and the build proves it.

The CUDA stand-in reproduces the official tensorflow/tensorflow:2.20.0-gpu image: the CUDA
build of TensorFlow on CUDA 12.3 and cuDNN 8.9 in apt's layout, no cuDNN 9 (see
tests/standins/Dockerfile.cuda). image/cuda_libs.py is the check the lab-layer recipe runs;
here it runs on the bare stand-in (the vendor's defect) and on our image. No GPU is needed:
loading a library needs no driver."""

from __future__ import annotations

import json
import re

from dockerlab import REPO, run

CHECKER = "/opt/courselab-check"
VENV = "/opt/lab-venv/"
CUDNN_WHEEL_LIB = "import nvidia.cudnn, os; print(os.path.join(nvidia.cudnn.__path__[0], 'lib'))"


def cuda_libs(image: str, *command: str, python: str = "python", docker_args: tuple[str, ...] = ()):
    """image/cuda_libs.py from this checkout, run in `image` with its own Python."""
    mount = ["-v", f"{REPO / 'image'}:{CHECKER}:ro"]
    args = ["docker", "run", "--rm", *mount, *docker_args, "--entrypoint", python, image]
    return run([*args, f"{CHECKER}/cuda_libs.py", *command], check=False)


def checked(image: str, *, python: str = "python", docker_args: tuple[str, ...] = ()) -> tuple[int, dict]:
    result = cuda_libs(image, "check", "--json", python=python, docker_args=docker_args)
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout.strip().splitlines()[-1])


def by_soname(report: dict) -> dict[str, dict]:
    return {lib["soname"]: lib for lib in report["libraries"]}


def loader_cache(image: str) -> dict[str, list[str]]:
    """`ldconfig -p` as soname -> paths, in the order the loader tries them."""
    listing = run(["docker", "run", "--rm", "--entrypoint", "ldconfig", image, "-p"]).stdout
    cache: dict[str, list[str]] = {}
    for line in listing.splitlines()[1:]:
        soname, _, path = line.strip().partition(" => ")
        cache.setdefault(soname.split(" (")[0], []).append(path)
    return cache


def pin(line: str) -> tuple[str, frozenset[str]]:
    """A requirement line as (name, its version clauses), whatever their order."""
    name = re.match(r"[A-Za-z0-9._-]+", line)[0]
    return name, frozenset(line[len(name) :].split(","))


def python_in(image: str, code: str, *, python: str = "python") -> str:
    return run(["docker", "run", "--rm", "--entrypoint", python, image, "-c", code]).stdout.strip()


def test_cuda_standin_is_tensorflows_cuda_build_on_cuda_12_3_and_cudnn_8_9(standin_images):
    image = standin_images["cuda"]
    _, report = checked(image, python="python3")
    # build_info.py: the module tf.sysconfig.get_build_info() returns, read without importing
    # TensorFlow (seconds saved per test).
    assert report["build_info"]["is_cuda_build"] == "True"
    assert report["build_info"]["cuda_version"] == "12.5.1"
    assert report["build_info"]["cudnn_version"] == "9"
    cache = loader_cache(image)
    assert cache["libcudnn.so.8"] == ["/lib/x86_64-linux-gnu/libcudnn.so.8"]  # /lib is /usr/lib
    assert "libcudnn.so.9" not in cache
    assert cache["libcudart.so.12"] == ["/usr/local/cuda/targets/x86_64-linux/lib/libcudart.so.12"]
    assert run(
        ["docker", "run", "--rm", "--entrypoint", "readlink", image, "-f", "/usr/local/cuda"]
    ).stdout.strip() == ("/usr/local/cuda-12.3")


def test_check_fails_on_the_bare_standin_naming_libcudnn_so_9(standin_images):
    status, report = checked(standin_images["cuda"], python="python3")
    assert status == 1
    libraries = by_soname(report)
    assert [name for name, lib in libraries.items() if lib["status"] != "ok"] == ["libcudnn.so.9"]
    assert "cannot open shared object file" in libraries["libcudnn.so.9"]["error"]
    assert report["problem"].startswith("libcudnn.so.9 missing")
    # The rest is the base's CUDA 12.3, found the way TensorFlow looks: through ld.so.cache.
    assert libraries["libcudart.so.12"]["path"].startswith("/usr/local/cuda/")
    assert libraries["libcudart.so.12"]["via"] == "ld.so.cache"
    # ... after the image's LD_LIBRARY_PATH and the RUNPATH of TensorFlow's own library
    # (\$ORIGIN/../nvidia/<lib>/lib, read from the real ELF file), which lead nowhere here.
    searched = {(entry["folder"], entry["via"]) for entry in report["search"]}
    assert ("/usr/local/nvidia/lib64", "LD_LIBRARY_PATH") in searched
    assert ("/usr/local/lib/python3.11/dist-packages/nvidia/cudnn/lib", "RUNPATH") in searched


def test_check_passes_on_the_nvidia_image_with_tensorflows_own_wheels(cuda_lab_image):
    status, report = checked(cuda_lab_image)
    assert status == 0, report["problem"]
    assert report["problem"] is None
    for soname, lib in by_soname(report).items():
        assert lib["status"] == "ok", soname
        assert lib["path"].startswith(VENV), f"{soname} loaded from {lib['path']}"
        assert lib["provider"].startswith("nvidia-"), soname


def test_wheels_come_before_the_base_cuda_12_3_in_the_loader_cache(cuda_lab_image):
    cudart = loader_cache(cuda_lab_image)["libcudart.so.12"]
    assert len(cudart) == 2  # the wheel's and the base's 12.3: both there, the wheel's first
    assert cudart[0].startswith(VENV)
    assert cudart[1].startswith("/usr/local/cuda/")


def test_check_names_a_library_the_image_lost(cuda_lab_image):
    cudnn_lib = python_in(cuda_lab_image, CUDNN_WHEEL_LIB).splitlines()[-1]
    status, report = checked(cuda_lab_image, docker_args=("--tmpfs", cudnn_lib))
    assert status == 1
    assert [name for name, lib in by_soname(report).items() if lib["status"] == "missing"] == ["libcudnn.so.9"]


def test_requirements_are_tensorflows_own_and_cuda_pins(standin_images):
    image = standin_images["cuda"]
    printed = cuda_libs(image, "requirements", python="python3").stdout.split()
    declared = python_in(
        image,
        "import importlib.metadata as m; "
        "print('\\n'.join(r.split(';')[0].replace(' ', '') for r in m.requires('tensorflow') if 'and-cuda' in r))",
        python="python3",
    ).split()
    assert printed
    assert {pin(line) for line in printed} == {pin(line) for line in declared}
    assert any(line.startswith("nvidia-cudnn-cu12<10") for line in printed)


def test_nvidia_image_installed_a_version_tensorflow_allows_of_each_pinned_wheel(cuda_lab_image):
    code = (
        "import importlib.metadata as m, json, sys; sys.path.insert(0, '/opt/courselab-check'); "
        "import cuda_libs; from packaging.requirements import Requirement; "
        "reqs = [Requirement(r) for r in cuda_libs.and_cuda_requirements(m.requires('tensorflow'))]; "
        "print(json.dumps({r.name: [m.version(r.name), m.version(r.name) in r.specifier] for r in reqs}))"
    )
    args = ["docker", "run", "--rm", "-v", f"{REPO / 'image'}:{CHECKER}:ro", "--entrypoint", "python"]
    installed = json.loads(run([*args, cuda_lab_image, "-c", code]).stdout.strip().splitlines()[-1])
    assert "nvidia-cudnn-cu12" in installed
    assert installed["nvidia-cudnn-cu12"][0].startswith("9.")
    assert {name: ok for name, (_, ok) in installed.items()} == dict.fromkeys(installed, True)


def test_cpu_flavour_gets_no_cuda_wheels(standin_images, cpu_lab_image):
    printed = cuda_libs(standin_images["cpu"], "requirements", python="python3")
    assert printed.returncode == 0
    assert printed.stdout == ""
    listing = python_in(
        cpu_lab_image,
        "import importlib.metadata as m, os; "
        "print(sorted(d.metadata['Name'] for d in m.distributions() if d.metadata['Name'].startswith('nvidia')), "
        "os.path.exists('/etc/ld.so.conf.d/00-courselab-cuda-wheels.conf'))",
    )
    assert listing.splitlines()[-1] == "[] False"


def test_image_keeps_cudas_jit_cache_on_the_cache_volume_at_its_maximum(cuda_lab_image):
    out = run(["docker", "image", "inspect", "--format", "{{ json .Config.Env }}", cuda_lab_image])
    env = dict(item.split("=", 1) for item in json.loads(out.stdout))
    assert env["CUDA_CACHE_PATH"].startswith("/cache/")
    # The documented maximum (CUDA Programming Guide, environment variables): 4 GiB.
    assert int(env["CUDA_CACHE_MAXSIZE"]) == 4 * 1024**3


def test_gate_log_names_each_library_tensorflow_cannot_open(cuda_lab_image):
    # Real TensorFlow through the real gate: no driver here, so TensorFlow fails to open
    # libcuda.so.1, and the probe's log settings make it say so by name (compose's default
    # TF_CPP_MIN_LOG_LEVEL=1 would hide it).
    env = ["-e", "LAB_FLAVOUR=nvidia", "-e", "TF_CPP_MIN_LOG_LEVEL=1"]
    result = run(["docker", "run", "--rm", *env, cuda_lab_image, "check", "--json"], check=False)
    data = json.loads(result.stdout[result.stdout.index("{\n") :])
    assert "Could not load dynamic library 'libcuda.so.1'" in data["log"]
    assert data["verdict"]["headline"] == "No NVIDIA GPU devices in the container"
