"""image/rocm_targets.py: the GPU targets read from a TensorFlow's own libraries.

The libraries here are real ELF shared objects (copies of one of this Python's extension
modules) with a `.hip_fatbin` section written by tests/standins/codeobjects.py in the
formats HIP's toolchain uses (see that module's docstring for the sources)."""

from __future__ import annotations

import _ctypes
import ctypes
import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "image"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "standins"))

import codeobjects  # noqa: E402
import rocm_targets  # noqa: E402

# TensorFlow r2.18's ROCm build targets: GPU_DEVICE_TARGETS in ROCm/tensorflow-upstream's
# tensorflow/tools/tf_sig_build_dockerfiles/setup.rocm.sh after PRs #2832 (gfx1101) and
# #2836 (gfx1102).
R218 = "gfx908 gfx90a gfx940 gfx941 gfx942 gfx1030 gfx1100 gfx1101 gfx1102 gfx1200 gfx1201".split()


@pytest.mark.parametrize(
    ("entry_id", "target"),
    [
        ("hipv4-amdgcn-amd-amdhsa--gfx1030", "gfx1030"),
        ("hipv4-amdgcn-amd-amdhsa--gfx90a:sramecc+:xnack-", "gfx90a"),
        ("hip-amdgcn-amd-amdhsa-gfx803", "gfx803"),  # ROCm 4 era, code object v3
        ("hipv4-amdgcn-amd-amdhsa--gfx11-generic", "gfx11-generic"),
        ("host-x86_64-unknown-linux-gnu-", None),
        ("host-x86_64-unknown-linux", None),
        ("openmp-amdgcn-amd-amdhsa--gfx90a", None),
        ("hipv4-spirv64-amd-amdhsa--amdgcnspirv", None),
    ],
)
def test_entry_id_gives_the_processor(entry_id: str, target: str | None) -> None:
    assert rocm_targets.target_of(entry_id) == target


def section_of(units: list[bytes]) -> bytes:
    return codeobjects.fatbin(units)


def targets_in(section: bytes) -> list[frozenset[str]]:
    return [b.targets for b in rocm_targets.bundles_in(section, 0, len(section))]


def test_plain_bundles_give_their_targets() -> None:
    section = section_of([codeobjects.hip_bundle(R218, unit) for unit in range(5)])
    assert targets_in(section) == [frozenset(R218)] * 5


@pytest.mark.parametrize(
    ("version", "method"),
    [(1, "zlib"), (2, "zlib"), (2, "zstd"), (3, "zstd")],
    ids=["v1-zlib", "v2-zlib", "v2-zstd", "v3-zstd"],
)
def test_compressed_bundles_give_the_targets_inside_their_payload(version: int, method: str) -> None:
    units = [codeobjects.compressed(codeobjects.hip_bundle(R218, u), version=version, method=method) for u in range(4)]
    found = rocm_targets.bundles_in(section_of(units), 0, len(section_of(units)))
    assert [b.targets for b in found] == [frozenset(R218)] * 4
    assert all(b.compressed for b in found)


def test_compressed_and_plain_bundles_mixed_in_one_section() -> None:
    units = [
        codeobjects.hip_bundle(["gfx1030"], 0),
        codeobjects.compressed(codeobjects.hip_bundle(["gfx1030"], 1), version=3),
        codeobjects.hip_bundle(["gfx1030"], 2),
    ]
    assert [b.compressed for b in rocm_targets.bundles_in(section_of(units), 0, len(section_of(units)))] == [
        False,
        True,
        False,
    ]


def test_target_names_inside_code_objects_are_not_mistaken_for_bundles() -> None:
    # A code object that happens to contain the magic must be skipped by the bundle's size.
    sneaky = codeobjects.bundle(
        [("host-x86_64-unknown-linux-gnu-", b""), ("hipv4-amdgcn-amd-amdhsa--gfx1030", b"x" * 100 + b"CCOB\x09\x00")]
    )
    assert targets_in(section_of([sneaky])) == [frozenset({"gfx1030"})]


@pytest.mark.parametrize(
    "damaged",
    [
        pytest.param(codeobjects.BUNDLE_MAGIC + (10**9).to_bytes(8, "little"), id="absurd-entry-count"),
        pytest.param(codeobjects.hip_bundle(["gfx1030"], 0)[:60], id="header-cut-short"),
        pytest.param(b"CCOB\x07\x00\x01\x00" + bytes(40), id="unknown-ccob-version"),
        pytest.param(
            codeobjects.compressed(codeobjects.hip_bundle(["gfx1030"], 0), version=3)[:40],
            id="ccob-runs-past-the-section",
        ),  # fmt: skip
    ],
)
def test_damaged_bundles_are_a_scan_error(damaged: bytes) -> None:
    with pytest.raises(rocm_targets.ScanError):
        rocm_targets.bundles_in(damaged, 0, len(damaged))


def small_library(tmp_path: Path, name: str) -> Path:
    """A real ELF shared object to add sections to: one of this Python's extension modules."""
    source = Path(_ctypes.__file__)
    target = tmp_path / name
    shutil.copy(source, target)
    return target


def test_library_with_an_added_fatbin_section_still_loads_and_is_found(tmp_path: Path) -> None:
    library = small_library(tmp_path, "libtensorflow_cc.so.2")
    codeobjects.add_section(library, ".hip_fatbin", section_of([codeobjects.hip_bundle(R218, 0)]))
    ctypes.CDLL(str(library))  # the loader ignores section headers: still a working library
    scanned = rocm_targets.scan_library(library)
    assert scanned is not None
    assert scanned.in_every_bundle == frozenset(R218)


def test_library_without_fatbin_section_is_skipped(tmp_path: Path) -> None:
    assert rocm_targets.scan_library(small_library(tmp_path, "libplain.so")) is None


def fake_tensorflow(tmp_path: Path, *, rocm: bool, libraries: dict[str, list[bytes]]) -> Path:
    tf_dir = tmp_path / "site-packages" / "tensorflow"
    (tf_dir / "python" / "platform").mkdir(parents=True)
    # The format TensorFlow's wheels ship (tensorflow/python/platform/build_info.py).
    (tf_dir / "python" / "platform" / "build_info.py").write_text(
        '"""Auto-generated module providing information about the build."""\nimport collections\n\n'
        f"build_info = collections.OrderedDict([('is_cuda_build', False), ('is_rocm_build', {rocm}), "
        "('is_tensorrt_build', False)])\n"
    )
    for name, units in libraries.items():
        library = small_library(tmp_path, Path(name).name)
        if units:
            codeobjects.add_section(library, ".hip_fatbin", section_of(units))
        (tf_dir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(library, tf_dir / name)
    return tf_dir


def test_a_target_counts_only_when_every_bundle_has_it(tmp_path: Path) -> None:
    without_1102 = [t for t in R218 if t != "gfx1102"]
    tf_dir = fake_tensorflow(
        tmp_path,
        rocm=True,
        libraries={
            "libtensorflow_cc.so.2": [codeobjects.hip_bundle(R218, u) for u in range(3)],
            "libtensorflow_framework.so.2": [codeobjects.hip_bundle(without_1102, 0)],
            "python/_pywrap_tensorflow_internal.so": [],
        },
    )
    result = rocm_targets.scan(tf_dir)
    assert result.rocm_build is True
    assert result.targets == without_1102
    assert result.partial == ["gfx1102"]
    assert result.libraries["libtensorflow_cc.so.2"]["bundles"] == 3
    assert "python/_pywrap_tensorflow_internal.so" not in result.libraries


def test_targets_are_listed_in_llvm_order(tmp_path: Path) -> None:
    tf_dir = fake_tensorflow(
        tmp_path, rocm=True, libraries={"libtensorflow_cc.so.2": [codeobjects.hip_bundle(["gfx1100", "gfx90a", "gfx942",
                                                                                            "gfx1030", "gfx908"], 0)]}
    )  # fmt: skip
    assert rocm_targets.scan(tf_dir).targets == ["gfx908", "gfx90a", "gfx942", "gfx1030", "gfx1100"]


def test_main_writes_the_result_as_json(tmp_path: Path, capsys) -> None:
    tf_dir = fake_tensorflow(
        tmp_path, rocm=True, libraries={"libtensorflow_cc.so.2": [codeobjects.hip_bundle(R218, 0)]}
    )
    output = tmp_path / "out" / "rocm-tf-targets.json"
    assert rocm_targets.main(["--require", "--tensorflow", str(tf_dir), "--output", str(output)]) == 0
    written = json.loads(output.read_text())
    assert written["targets"] == R218
    assert written["rocm_build"] is True
    assert "gfx1102" in capsys.readouterr().out


def test_rocm_build_without_gpu_code_fails_with_one_clear_line(tmp_path: Path, capsys) -> None:
    tf_dir = fake_tensorflow(tmp_path, rocm=True, libraries={"libtensorflow_cc.so.2": []})
    output = tmp_path / "rocm-tf-targets.json"
    assert rocm_targets.main(["--require", "--tensorflow", str(tf_dir), "--output", str(output)]) == 1
    error = capsys.readouterr().err
    assert "is a ROCm build, but no GPU target has kernels" in error
    assert "LAB_ROCM_BASE_IMAGE" in error
    assert "Traceback" not in error
    assert not output.exists()


def test_non_rocm_tensorflow_records_an_empty_list(tmp_path: Path) -> None:
    tf_dir = fake_tensorflow(tmp_path, rocm=False, libraries={"libtensorflow_cc.so.2": []})
    output = tmp_path / "rocm-tf-targets.json"
    assert rocm_targets.main(["--require", "--tensorflow", str(tf_dir), "--output", str(output)]) == 0
    assert json.loads(output.read_text())["targets"] == []


def test_damaged_library_fails_the_build_with_its_reason(tmp_path: Path, capsys) -> None:
    damaged = codeobjects.BUNDLE_MAGIC + (10**9).to_bytes(8, "little")
    tf_dir = fake_tensorflow(tmp_path, rocm=True, libraries={"libtensorflow_cc.so.2": [damaged]})
    assert rocm_targets.main(["--require", "--tensorflow", str(tf_dir), "--output", str(tmp_path / "x")]) == 1
    error = capsys.readouterr().err
    assert "cannot read TensorFlow's GPU code" in error
    assert "claims 1000000000 entries" in error
