"""image/cuda_libs.py's decisions, as data in and out: which wheels TensorFlow pins, which
sonames it opens, where glibc looks for them, and what counts as missing or shadowed.

The fixtures are TensorFlow 2.20.0's own metadata and cuda_config.h, copied from its wheel.
The I/O half (dlopen in real images) is tested in tests/image/test_cuda_libraries.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "image"))
import cuda_libs  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "cuda_libs"
TF220_BUILD = {"cuda_version": "12.5.1", "cudnn_version": "9", "is_cuda_build": True}


def fixture_lines(name: str) -> list[str]:
    return [line for line in (FIXTURES / name).read_text().splitlines() if not line.startswith(("#", "/*"))]


def tf220_config() -> dict[str, str]:
    return cuda_libs.parse_cuda_config((FIXTURES / "tensorflow-2.20.0-cuda_config.h").read_text())


def test_and_cuda_lines_are_tensorflows_own_pins_without_their_marker():
    lines = cuda_libs.and_cuda_requirements(fixture_lines("tensorflow-2.20.0-requires-dist.txt"))
    assert len(lines) == 12
    assert "nvidia-cudnn-cu12<10.0,>=9.3.0.75" in lines
    assert "nvidia-cuda-runtime-cu12<13.0,>=12.5.82" in lines
    assert "nvidia-nccl-cu12<3.0,>=2.25.1" in lines
    assert not any(";" in line or "extra" in line for line in lines)


def test_other_extras_and_plain_dependencies_are_not_cuda_pins():
    lines = cuda_libs.and_cuda_requirements(fixture_lines("tensorflow-2.20.0-requires-dist.txt"))
    names = {line.split("<")[0].split(">")[0] for line in lines}
    assert all(name.startswith("nvidia-") for name in names)
    assert "tensorflow-io-gcs-filesystem" not in names
    assert "numpy" not in names


def test_sonames_are_the_ones_tensorflow_220_opens():
    assert cuda_libs.wanted_sonames(TF220_BUILD, tf220_config()) == [
        "libcudart.so.12",
        "libcublas.so.12",
        "libcublasLt.so.12",
        "libcufft.so.11",
        "libcusolver.so.11",
        "libcusparse.so.12",
        "libcudnn.so.9",
    ]


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        pytest.param({**TF220_BUILD, "cudnn_version": "8"}, "TF_CUDNN_VERSION", id="cudnn-major-disagrees"),
        pytest.param({**TF220_BUILD, "cuda_version": "11.8"}, "TF_CUDART_VERSION", id="cuda-major-disagrees"),
    ],
)
def test_header_that_disagrees_with_the_build_info_is_undecidable(build, reason):
    with pytest.raises(cuda_libs.Undecidable, match=reason):
        cuda_libs.wanted_sonames(build, tf220_config())


def test_header_without_a_soname_version_is_undecidable():
    config = {key: value for key, value in tf220_config().items() if key != "TF_CUFFT_VERSION"}
    with pytest.raises(cuda_libs.Undecidable, match="TF_CUFFT_VERSION"):
        cuda_libs.wanted_sonames(TF220_BUILD, config)


RUNPATH = cuda_libs.Dynamic(runpath=("$ORIGIN/../nvidia/cudnn/lib", "$ORIGIN/../../nvidia/cudnn/lib"))
RPATH = cuda_libs.Dynamic(rpath=("/opt/old",))


@pytest.mark.parametrize(
    ("dynamic", "ld_library_path", "expected"),
    [
        pytest.param(
            RUNPATH,
            "/usr/local/nvidia/lib:/usr/local/nvidia/lib64",
            [
                ("/usr/local/nvidia/lib", "LD_LIBRARY_PATH"),
                ("/usr/local/nvidia/lib64", "LD_LIBRARY_PATH"),
                ("/usr/lib/python3/dist-packages/nvidia/cudnn/lib", "RUNPATH"),
                ("/usr/lib/python3/nvidia/cudnn/lib", "RUNPATH"),
            ],
            id="ld-library-path-before-runpath",
        ),
        pytest.param(RPATH, "/x", [("/opt/old", "RPATH"), ("/x", "LD_LIBRARY_PATH")], id="rpath-first-without-runpath"),
        pytest.param(
            cuda_libs.Dynamic(rpath=("/opt/old",), runpath=("/opt/new",)),
            "",
            [("/opt/new", "RUNPATH")],
            id="runpath-silences-rpath",
        ),
    ],
)
def test_search_order_is_glibcs(dynamic, ld_library_path, expected):
    origin = "/usr/lib/python3/dist-packages/tensorflow"
    assert cuda_libs.search_dirs(dynamic, origin=origin, ld_library_path=ld_library_path) == expected


WHEEL_CUDART = "/opt/lab-venv/lib/python3.11/site-packages/nvidia/cuda_runtime/lib/libcudart.so.12"
PROVIDERS = {"libcudart.so.12": ("nvidia-cuda-runtime-cu12", "12.9.79", frozenset({WHEEL_CUDART}))}


@pytest.mark.parametrize(
    ("soname", "path", "status"),
    [
        pytest.param("libcudart.so.12", WHEEL_CUDART, "ok", id="the-pinned-wheels-copy"),
        pytest.param(
            "libcudart.so.12",
            "/usr/local/cuda/targets/x86_64-linux/lib/libcudart.so.12",
            "shadowed",
            id="base-12.3-first",
        ),
        pytest.param("libcudart.so.12", None, "missing", id="nowhere"),
        pytest.param("libcudnn.so.9", "/usr/lib/x86_64-linux-gnu/libcudnn.so.9", "ok", id="no-wheel-any-copy-counts"),
    ],
)
def test_a_library_is_fine_when_it_loads_from_the_pinned_wheel(soname, path, status):
    found = cuda_libs.judge(soname, path=path, via="ld.so.cache", error="not found", providers=PROVIDERS)
    assert found.status == status


def test_summary_names_what_is_missing_and_shadowed_and_nothing_when_fine():
    libraries = [
        cuda_libs.Library("libcudart.so.12", "shadowed", "/usr/local/cuda/x", "ld.so.cache"),
        cuda_libs.Library("libcudnn.so.9", "missing", error="cannot open"),
        cuda_libs.Library("libcufft.so.11", "ok", "/opt/x", "ld.so.cache"),
    ]
    text = cuda_libs.summary(libraries, tensorflow="2.20.0")
    assert text.startswith("libcudnn.so.9 missing and libcudart.so.12 shadowed by an older copy")
    assert "Cannot dlopen some GPU libraries" in text
    assert cuda_libs.summary(libraries[2:], tensorflow="2.20.0") is None


def test_elf_dynamic_reads_the_needed_libraries_of_a_real_library():
    # tensorflow-cpu from requirements-dev.txt: a real ELF library TensorFlow ships (found,
    # not imported: importing TensorFlow takes seconds).
    import importlib.util

    folder = next(iter(importlib.util.find_spec("tensorflow").submodule_search_locations))
    framework = Path(folder) / "libtensorflow_framework.so.2"
    dynamic = cuda_libs.elf_dynamic(framework.read_bytes())
    assert "libstdc++.so.6" in dynamic.needed
    assert "libc.so.6" in dynamic.needed


def test_elf_dynamic_refuses_what_is_not_an_elf_file():
    with pytest.raises(ValueError, match="ELF"):
        cuda_libs.elf_dynamic(b"#!/bin/sh\n")
