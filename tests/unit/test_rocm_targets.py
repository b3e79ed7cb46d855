"""image/rocm_targets.py and rocm_runtime_list.py: the GPU targets a TensorFlow was compiled
for and those it accepts at run time, read from its own libraries.

The libraries here are real ELF shared objects: copies of one of this Python's extension
modules with a `.hip_fatbin` section written by tests/standins/codeobjects.py in the formats
HIP's toolchain uses (see that module's docstring for the sources); libraries that g++ and lld
compile from XLA's declaration of the run-time list (tests/standins/xla_lists.py); and the real
libtensorflow_cc.so.2 of the tensorflow-cpu wheel the host venv has."""

from __future__ import annotations

import _ctypes
import ctypes
import hashlib
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from ci_policy import require

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "image"))
sys.path.insert(0, str(REPO / "tests" / "standins"))

import codeobjects  # noqa: E402
import rocm_runtime_list  # noqa: E402
import rocm_targets  # noqa: E402
import xla_lists  # noqa: E402

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


# --- the run-time list (XLA's kSupportedGfxVersions) ---------------------------------------


def host_tensorflow() -> Path:
    """The host venv's tensorflow-cpu (requirements-dev.txt), found without importing it."""
    spec = importlib.util.find_spec("tensorflow")
    assert spec is not None and spec.submodule_search_locations, "tensorflow-cpu is in requirements-dev.txt"
    return Path(next(iter(spec.submodule_search_locations)))


def test_a_real_tensorflow_library_gives_xlas_list() -> None:
    # tensorflow-cpu 2.20.0 is built from the same XLA source as AMD's TF 2.20, and its
    # libtensorflow_cc.so.2 carries the list too: linked by lld, a weak dynamic symbol, an array
    # of libstdc++ string views whose pointers are R_X86_64_RELATIVE relocations.
    library = host_tensorflow() / "libtensorflow_cc.so.2"
    found = rocm_runtime_list.copy_in(library)
    assert found is not None
    assert list(found.names) == xla_lists.TF220_UPSTREAM
    assert "gfx1102" not in found.names


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Libraries compiled from XLA's declaration, one per (list, linker), built once."""
    require(xla_lists.missing_tools(), "C++ compiler and lld that build the run-time list's library")
    folder = tmp_path_factory.mktemp("xla-lists")
    made: dict[tuple[str, str], Path] = {}

    def build(name: str, names: list[str], linker: str = "lld") -> Path:
        if (name, linker) not in made:
            made[name, linker] = xla_lists.build_library(folder / f"lib{name}-{linker}.so", names, linker=linker)
        return made[name, linker]

    return build


LISTS = {
    "r218-rocm": xla_lists.R218_ROCM,
    "tf220-upstream": xla_lists.TF220_UPSTREAM,
    "tf220-3181": xla_lists.TF220_ROCM_3181,
    "tf214-glued": xla_lists.TF214_600_GLUED,
}


@pytest.mark.parametrize(
    ("name", "linker"),
    # Every list as ROCm's build links it (lld), and one with the other layouts of the pointers.
    [(name, "lld") for name in LISTS] + [("r218-rocm", "bfd"), ("r218-rocm", "relr")],
)
def test_the_list_is_read_as_the_compiler_and_linker_laid_it_out(built, name: str, linker: str) -> None:
    library = built(name, LISTS[name], linker)
    found = rocm_runtime_list.copy_in(library)
    assert found is not None
    assert list(found.names) == LISTS[name]


def test_other_lists_of_the_class_do_not_leak_into_it(built) -> None:
    # kGfx11Rx7900 names gfx1102 in the same library: a search for gfx names would find it.
    library = built("tf220-upstream", xla_lists.TF220_UPSTREAM)
    assert b"gfx1102" in library.read_bytes()
    assert "gfx1102" not in rocm_runtime_list.copy_in(library).names


def test_lld_leaves_the_pointers_to_the_relocations(built) -> None:
    # What makes the relocation table necessary: the array itself holds zeros where the
    # pointers go (lld without --apply-dynamic-relocs), unlike GNU ld's output.
    from elftools.elf.elffile import ELFFile

    for linker, zeros in (("lld", True), ("bfd", False)):
        with built("r218-rocm", xla_lists.R218_ROCM, linker).open("rb") as stream:
            elf = ELFFile(stream)
            symbol = rocm_runtime_list.defined_symbol(elf, xla_lists.SYMBOL)
            raw = rocm_runtime_list.read_at(elf, symbol["st_value"], symbol["st_size"])
        pointers = [raw[at + 8 : at + 16] for at in range(0, len(raw), 16)]
        assert all(p == bytes(8) for p in pointers) is zeros


def tensorflow_with(tmp_path: Path, libraries: dict[str, Path]) -> Path:
    tf_dir = tmp_path / "site-packages" / "tensorflow"
    tf_dir.mkdir(parents=True)
    for name, source in libraries.items():
        shutil.copy(source, tf_dir / name)
    return tf_dir


def test_no_library_defining_the_list_is_said_not_guessed(tmp_path) -> None:
    tf_dir = tensorflow_with(tmp_path, {"libtensorflow_cc.so.2": Path(_ctypes.__file__)})
    read = rocm_runtime_list.read(rocm_targets.shared_libraries(tf_dir), tf_dir)
    assert read.names is None
    assert read.problem == f"no library of this TensorFlow defines {rocm_runtime_list.SYMBOL_SHOWN}"


def test_copies_that_disagree_are_not_read(built, tmp_path) -> None:
    tf_dir = tensorflow_with(
        tmp_path,
        {
            "libtensorflow_cc.so.2": built("tf220-upstream", xla_lists.TF220_UPSTREAM),
            "libtensorflow_framework.so.2": built("tf220-3181", xla_lists.TF220_ROCM_3181),
        },
    )
    read = rocm_runtime_list.read(rocm_targets.shared_libraries(tf_dir), tf_dir)
    assert read.names is None
    assert read.problem.startswith(f"the copies of {rocm_runtime_list.SYMBOL_SHOWN} differ")


def test_copies_that_agree_are_one_list(built, tmp_path) -> None:
    tf_dir = tensorflow_with(
        tmp_path,
        {
            "libtensorflow_cc.so.2": built("r218-rocm", xla_lists.R218_ROCM, "lld"),
            "libtensorflow_framework.so.2": built("r218-rocm", xla_lists.R218_ROCM, "bfd"),
        },
    )
    read = rocm_runtime_list.read(rocm_targets.shared_libraries(tf_dir), tf_dir)
    assert list(read.names) == xla_lists.R218_ROCM
    assert read.source.endswith("in libtensorflow_cc.so.2, libtensorflow_framework.so.2")


def test_a_retired_symbol_is_not_found(built, tmp_path) -> None:
    # How the stand-ins keep tensorflow-cpu's own upstream list out of the way (xla_lists.retire_symbol).
    library = tmp_path / "libtensorflow_cc.so.2"
    shutil.copy(built("tf220-upstream", xla_lists.TF220_UPSTREAM), library)
    assert xla_lists.retire_symbol(library) is True
    assert rocm_runtime_list.copy_in(library) is None
    ctypes.CDLL(str(library))  # still a working library


def test_the_result_has_both_lists_and_names_the_tensorflow_build(built, tmp_path, capsys) -> None:
    # AMD's r2.18: kernels for gfx1102 and a run-time list with gfx900/gfx906 (no kernels).
    carrier = tmp_path / "libtensorflow_cc.so.2"
    shutil.copy(built("r218-rocm", xla_lists.R218_ROCM), carrier)
    codeobjects.add_section(carrier, ".hip_fatbin", section_of([codeobjects.hip_bundle(R218, u) for u in range(3)]))
    tf_dir = fake_tensorflow(tmp_path / "wheel", rocm=True, libraries={})
    shutil.copy(carrier, tf_dir / "libtensorflow_cc.so.2")
    dist_info = tf_dir.parent / "tensorflow_rocm-2.18.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: tensorflow-rocm\nVersion: 2.18.1\n")
    (dist_info / "RECORD").write_text("tensorflow/libtensorflow_cc.so.2,sha256=x,1\n")

    output = tmp_path / "out.json"
    assert rocm_targets.main(["--require", "--tensorflow", str(tf_dir), "--output", str(output)]) == 0
    written = json.loads(output.read_text())
    assert written["targets"] == R218
    assert written["runtime_targets"] == xla_lists.R218_ROCM
    assert written["runtime_source"] == f"{rocm_runtime_list.SYMBOL_SHOWN} in libtensorflow_cc.so.2"
    assert written["runtime_problem"] is None
    assert written["tensorflow"] == "tensorflow-rocm 2.18.1"
    record = (dist_info / "RECORD").read_bytes()
    assert written["tensorflow_id"] == "sha256:" + hashlib.sha256(record).hexdigest()
    printed = capsys.readouterr().out
    assert f"it accepts at run time: {' '.join(xla_lists.R218_ROCM)}" in printed


def test_an_unreadable_run_time_list_is_a_warning_not_a_failure(tmp_path, capsys) -> None:
    tf_dir = fake_tensorflow(
        tmp_path, rocm=True, libraries={"libtensorflow_cc.so.2": [codeobjects.hip_bundle(R218, 0)]}
    )
    output = tmp_path / "out.json"
    assert rocm_targets.main(["--require", "--tensorflow", str(tf_dir), "--output", str(output)]) == 0
    written = json.loads(output.read_text())
    assert written["runtime_targets"] is None
    assert "no library of this TensorFlow defines" in written["runtime_problem"]
    assert "the GPU check will record it the first time TensorFlow refuses a card" in capsys.readouterr().out


# --- the readers Dockerfile.rocm installs --------------------------------------------------


def lock_entries(text: str) -> dict[str, list[str]]:
    """{name==version: its sha256 hashes} of a hashed requirements file."""
    entries: dict[str, list[str]] = {}
    for block in re.split(r"\n(?=[a-z])", text):
        match = re.match(r"^([a-z0-9-]+==[^ \\]+)", block)
        if match:
            entries[match.group(1)] = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
    return entries


def test_the_readers_lock_pins_every_reader_with_hashes_and_matches_the_dev_pins() -> None:
    entries = lock_entries((REPO / "image" / "lock-gpu-targets.txt").read_text())
    assert set(entries) == {"zstandard==0.25.0", "pyelftools==0.33"}
    assert len(entries["zstandard==0.25.0"]) == 6  # CPython 3.9-3.14, manylinux x86_64
    assert len(entries["pyelftools==0.33"]) == 1  # pure Python
    dev = (REPO / "requirements-dev.txt").read_text().split()
    assert all(pin in dev for pin in entries)


def test_dockerfile_rocm_installs_the_readers_in_the_targets_stage_only() -> None:
    dockerfile = (REPO / "Dockerfile.rocm").read_text()
    stage, final = dockerfile.split("\nFROM ${BASE_IMAGE}\n", 1)
    assert "--require-hashes" in stage and "lock-gpu-targets.txt" in stage and "--target" in stage
    assert "lock-gpu-targets" not in final and "zstd" not in final
    assert not (REPO / "image" / "zstd_prefix.py").exists()
