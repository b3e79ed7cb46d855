"""The CUDA user-space libraries the base image's TensorFlow asks for, read from the image.

    python3 cuda_libs.py requirements    TensorFlow's own `and-cuda` requirement lines, one a
                                         line (pip -r format); nothing for a non-CUDA build
    python cuda_libs.py register         put the installed wheels' lib folders in the loader's
                                         cache (/etc/ld.so.conf.d + ldconfig); root, build time
    python cuda_libs.py check [--json]   dlopen every library TensorFlow dlopens, the way it
                                         does; exit 1 naming each one that is missing or
                                         shadowed by an older copy

Exit status 2: the image does not say enough to decide (no TensorFlow, no cuda_config.h).

Facts this relies on (TensorFlow 2.20.0, checked against its wheel and sources):
- Before registering a GPU, TensorFlow dlopens libcudart, libcublas, libcublasLt, libcufft,
  libcusolver, libcusparse and libcudnn (TryDlopenCUDALibraries in
  third_party/xla/xla/tsl/platform/default/dlopen_checker.cc); one failure and it logs
  "Cannot dlopen some GPU libraries ... Skipping registering GPU devices" and runs on the CPU.
- Each is opened as lib<name>.so.<N> (dso_loader.cc, FormatLibraryFileName) with N from the
  TF_<NAME>_VERSION defines of cuda_config.h, which the wheel ships under
  tensorflow/include/third_party/gpus/cuda/. TF_CUDART_VERSION is the CUDA major and
  TF_CUDNN_VERSION the cuDNN major that tf.sysconfig.get_build_info() names; the check
  refuses a header that disagrees with the build info.
- dlopen(RTLD_NOW | RTLD_LOCAL) runs in libtensorflow_framework.so.2 (the only library of the
  wheel with dso_loader's messages), so glibc searches LD_LIBRARY_PATH, then that library's
  DT_RUNPATH ($ORIGIN/../nvidia/<lib>/lib: wheels next to TensorFlow's own folder), then
  ld.so.cache, then /lib and /usr/lib. The lab layer's wheels sit in a venv, not next to the
  vendor's TensorFlow, so `register` adds them to ld.so.cache under a name that sorts before
  the CUDA packages' 000_cuda.conf: ldconfig keeps the first folder that provides a soname.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import importlib.util
import json
import os
import re
import struct
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

AND_CUDA = "and-cuda"
# The libraries TryDlopenCUDALibraries opens, with the cuda_config.h define naming each one's
# soname version (cublasLt shares cuBLAS's).
DLOPENED = (
    ("cudart", "TF_CUDART_VERSION"),
    ("cublas", "TF_CUBLAS_VERSION"),
    ("cublasLt", "TF_CUBLAS_VERSION"),
    ("cufft", "TF_CUFFT_VERSION"),
    ("cusolver", "TF_CUSOLVER_VERSION"),
    ("cusparse", "TF_CUSPARSE_VERSION"),
    ("cudnn", "TF_CUDNN_VERSION"),
)
CUDA_CONFIG = Path("include/third_party/gpus/cuda/cuda_config.h")
BUILD_INFO = Path("python/platform/build_info.py")
DSO_LOADER_LIBRARY = "libtensorflow_framework.so.2"
# "00-" sorts before the CUDA packages' "000_cuda.conf" and "988_cuda-12.conf".
LD_CONF = Path("/etc/ld.so.conf.d/00-courselab-cuda-wheels.conf")
RTLD_DI_LINKMAP = 2  # <dlfcn.h>
SHT_DYNAMIC, DT_NEEDED, DT_RPATH, DT_RUNPATH = 6, 1, 15, 29  # <elf.h>


class Undecidable(Exception):
    """The image does not say enough to decide (exit status 2)."""


# --- pure decisions -----------------------------------------------------------------------


def and_cuda_requirements(requires: Sequence[str]) -> list[str]:
    """The requirement lines TensorFlow's metadata lists only for its `and-cuda` extra, as
    pip reads them (marker evaluated, then dropped). `packaging` is one of TensorFlow's own
    dependencies, so it is there wherever TensorFlow is."""
    from packaging.requirements import Requirement

    lines = []
    for text in requires:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or not marker.evaluate({"extra": AND_CUDA}) or marker.evaluate({"extra": ""}):
            continue
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        lines.append(f"{requirement.name}{extras}{requirement.specifier}")
    return lines


def parse_cuda_config(text: str) -> dict[str, str]:
    """`#define TF_CUBLAS_VERSION "12"` lines of cuda_config.h -> {"TF_CUBLAS_VERSION": "12"}."""
    return dict(re.findall(r'^#define\s+(TF_\w+_VERSION)\s+"([^"]*)"', text, flags=re.MULTILINE))


def major(version: str) -> str:
    return version.split(".")[0]


def wanted_sonames(build_info: Mapping, cuda_config: Mapping[str, str]) -> list[str]:
    """lib<name>.so.<N> for every library TensorFlow dlopens before registering a GPU."""
    checks = {
        "TF_CUDART_VERSION": ("cuda_version", major(str(build_info.get("cuda_version", "")))),
        "TF_CUDNN_VERSION": ("cudnn_version", major(str(build_info.get("cudnn_version", "")))),
    }
    for define, (key, expected) in checks.items():
        if major(cuda_config.get(define, "")) != expected:
            raise Undecidable(
                f"cuda_config.h has {define}={cuda_config.get(define)!r} but the build info's {key} "
                f"is {build_info.get(key)!r}: cannot tell which library TensorFlow opens"
            )
    sonames = []
    for name, define in DLOPENED:
        if not cuda_config.get(define):
            raise Undecidable(f"cuda_config.h has no {define}: cannot tell which lib{name} TensorFlow opens")
        sonames.append(f"lib{name}.so.{cuda_config[define]}")
    return sonames


@dataclass(frozen=True)
class Dynamic:
    """The ELF dynamic-section strings that steer the loader."""

    needed: tuple[str, ...] = ()
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()


def elf_dynamic(data: bytes) -> Dynamic:
    """DT_NEEDED, DT_RPATH and DT_RUNPATH of a 64-bit little-endian ELF file (x86_64/arm64)."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    values: dict[int, list[str]] = {DT_NEEDED: [], DT_RPATH: [], DT_RUNPATH: []}
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if kind != SHT_DYNAMIC:
            continue
        strtab_offset = sections[link][4]
        for position in range(offset, offset + size, entsize or 16):
            tag, value = struct.unpack_from("<qQ", data, position)
            if tag == 0:
                break
            if tag in values:
                end = data.index(b"\0", strtab_offset + value)
                values[tag].append(data[strtab_offset + value : end].decode())
    rpath = [path for text in values[DT_RPATH] for path in text.split(":") if path]
    runpath = [path for text in values[DT_RUNPATH] for path in text.split(":") if path]
    return Dynamic(needed=tuple(values[DT_NEEDED]), rpath=tuple(rpath), runpath=tuple(runpath))


def search_dirs(dynamic: Dynamic, *, origin: str, ld_library_path: str) -> list[tuple[str, str]]:
    """The folders glibc's dlopen tries, in order, before ld.so.cache and the default folders,
    for a call made from a library with these dynamic strings (ld.so(8)): DT_RPATH only when
    there is no DT_RUNPATH, then LD_LIBRARY_PATH, then DT_RUNPATH. Each as (folder, why)."""

    def expand(path: str) -> str:
        return os.path.normpath(path.replace("$ORIGIN", origin).replace("${ORIGIN}", origin))

    found = []
    if not dynamic.runpath:
        found += [(expand(p), "RPATH") for p in dynamic.rpath]
    found += [(p, "LD_LIBRARY_PATH") for p in ld_library_path.split(":") if p]
    found += [(expand(p), "RUNPATH") for p in dynamic.runpath]
    return found


@dataclass(frozen=True)
class Library:
    soname: str
    status: str  # ok, missing, shadowed
    path: str | None = None  # the file the loader opened
    via: str | None = None  # RUNPATH, LD_LIBRARY_PATH, ld.so.cache
    provider: str | None = None  # "name version" of the pinned wheel that ships this soname
    error: str | None = None


def judge(soname: str, *, path: str | None, via: str | None, error: str | None, providers: Mapping) -> Library:
    """A library is fine when it loads, and, where one of TensorFlow's pinned wheels ships it,
    when the loaded file is that wheel's (not an older copy of the base's that sorts first)."""
    provider = providers.get(soname)
    label = f"{provider[0]} {provider[1]}" if provider else None
    if path is None:
        return Library(soname, "missing", error=error, provider=label)
    if provider and os.path.realpath(path) not in provider[2]:
        return Library(soname, "shadowed", path, via, label, f"{path} is loaded before {label}'s copy")
    return Library(soname, "ok", path, via, label)


def summary(libraries: Sequence[Library], *, tensorflow: str) -> str | None:
    """One line naming what is wrong, or None when every library is fine."""
    missing = [lib.soname for lib in libraries if lib.status == "missing"]
    shadowed = [lib.soname for lib in libraries if lib.status == "shadowed"]
    parts = []
    if missing:
        parts.append(f"{', '.join(missing)} missing")
    if shadowed:
        parts.append(f"{', '.join(shadowed)} shadowed by an older copy")
    if not parts:
        return None
    return (
        f'{" and ".join(parts)}: TensorFlow {tensorflow} would say "Cannot dlopen some GPU libraries" '
        "and run on the CPU"
    )


# --- the image ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorFlow:
    version: str
    distribution: str
    folder: Path
    build_info: Mapping


def find_tensorflow() -> TensorFlow:
    """The installed TensorFlow, without importing it (its import is slow and logs)."""
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or not spec.submodule_search_locations:
        raise Undecidable("no TensorFlow in this Python")
    folder = Path(next(iter(spec.submodule_search_locations)))
    owners = importlib.metadata.packages_distributions().get("tensorflow") or []
    if not owners:
        raise Undecidable(f"no distribution owns {folder}")
    # The module tf.sysconfig.get_build_info() returns, loaded on its own.
    module_spec = importlib.util.spec_from_file_location("_tf_build_info", folder / BUILD_INFO)
    if module_spec is None or module_spec.loader is None:
        raise Undecidable(f"no {BUILD_INFO} in {folder}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return TensorFlow(importlib.metadata.version(owners[0]), owners[0], folder, dict(module.build_info))


def is_cuda_build(tf: TensorFlow) -> bool:
    return tf.build_info.get("is_cuda_build") is True


def installed_providers(requirements: Sequence[str]) -> dict[str, tuple[str, str, frozenset[str]]]:
    """soname -> (wheel, version, real paths of that soname in the wheel), for the pinned
    wheels that are installed. Read from each wheel's RECORD, not from a typed table."""
    from packaging.requirements import Requirement

    providers: dict[str, tuple[str, str, set[str]]] = {}
    for line in requirements:
        name = Requirement(line).name
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for file in dist.files or ():
            if re.fullmatch(r"lib[\w+-]+\.so(\.\d+)*", file.name):
                entry = providers.setdefault(file.name, (name, dist.version, set()))
                entry[2].add(os.path.realpath(file.locate()))
    return {soname: (name, version, frozenset(paths)) for soname, (name, version, paths) in providers.items()}


def loaded_path(handle: int) -> str | None:
    """The file the loader picked for a dlopen handle (dlinfo RTLD_DI_LINKMAP: l_name)."""
    dlinfo = ctypes.CDLL(None).dlinfo
    dlinfo.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
    link_map = ctypes.c_void_p()
    if dlinfo(handle, RTLD_DI_LINKMAP, ctypes.byref(link_map)) != 0 or not link_map.value:
        return None
    name = ctypes.cast(link_map.value + ctypes.sizeof(ctypes.c_void_p), ctypes.POINTER(ctypes.c_char_p))
    return os.fsdecode(name.contents.value) if name.contents.value else None


def dlopen(name: str) -> tuple[str | None, str | None]:
    """(path, None) when the loader opens `name`, else (None, dlerror)."""
    try:
        handle = ctypes.CDLL(name, mode=os.RTLD_NOW | os.RTLD_LOCAL)
    except OSError as error:
        return None, str(error)
    return loaded_path(handle._handle) or name, None


def resolve(soname: str, folders: Sequence[tuple[str, str]]) -> tuple[str | None, str | None, str | None]:
    """(path, via, error) of `soname` as TensorFlow's dlopen finds it."""
    for folder, via in folders:
        candidate = os.path.join(folder, soname)
        if os.path.exists(candidate):
            # The first file found is the one glibc loads, or fails on (a missing dependency).
            path, error = dlopen(candidate)
            return path, via if path else None, error
    path, error = dlopen(soname)
    return path, "ld.so.cache" if path else None, error


def check(tf: TensorFlow) -> tuple[list[Library], list[tuple[str, str]]]:
    """Each library TensorFlow dlopens, judged; and the folders searched before ld.so.cache."""
    config_file = tf.folder / CUDA_CONFIG
    if not config_file.exists():
        raise Undecidable(f"no {CUDA_CONFIG} in {tf.folder}: cannot tell which sonames TensorFlow opens")
    sonames = wanted_sonames(tf.build_info, parse_cuda_config(config_file.read_text()))
    caller = tf.folder / DSO_LOADER_LIBRARY
    dynamic = elf_dynamic(caller.read_bytes()) if caller.exists() else Dynamic()
    folders = search_dirs(
        dynamic, origin=str(caller.resolve().parent), ld_library_path=os.environ.get("LD_LIBRARY_PATH", "")
    )
    requires = importlib.metadata.requires(tf.distribution) or []
    providers = installed_providers(and_cuda_requirements(requires))
    results = []
    for soname in sonames:
        path, via, error = resolve(soname, folders)
        results.append(judge(soname, path=path, via=via, error=error, providers=providers))
    return results, folders


def lib_folders(providers: Mapping[str, tuple[str, str, frozenset[str]]]) -> list[str]:
    return sorted({os.path.dirname(path) for _, _, paths in providers.values() for path in paths})


def register(tf: TensorFlow) -> list[str]:
    requires = importlib.metadata.requires(tf.distribution) or []
    folders = lib_folders(installed_providers(and_cuda_requirements(requires)))
    header = "# TensorFlow's and-cuda wheels in the lab venv (image/cuda_libs.py register)\n"
    LD_CONF.write_text(header + "".join(f"{folder}\n" for folder in folders))
    subprocess.run(["ldconfig"], check=True)
    return folders


# --- commands -----------------------------------------------------------------------------


def cmd_requirements(args: list[str]) -> int:
    tf = find_tensorflow()
    if is_cuda_build(tf):
        for line in and_cuda_requirements(importlib.metadata.requires(tf.distribution) or []):
            print(line)
    return 0


def cmd_register(args: list[str]) -> int:
    tf = find_tensorflow()
    if not is_cuda_build(tf):
        return 0
    for folder in register(tf):
        print(f"cuda libraries: {folder} in {LD_CONF}")
    return 0


def cmd_check(args: list[str]) -> int:
    tf = find_tensorflow()
    if not is_cuda_build(tf):
        print(f"cuda libraries: TensorFlow {tf.version} is not a CUDA build, nothing to check")
        return 0
    libraries, folders = check(tf)
    problem = summary(libraries, tensorflow=tf.version)
    if "--json" in args:
        print(
            json.dumps(
                {
                    "tensorflow": tf.version,
                    "build_info": {k: str(v) for k, v in tf.build_info.items()},
                    "search": [{"folder": folder, "via": via} for folder, via in folders],
                    "libraries": [asdict(lib) for lib in libraries],
                    "problem": problem,
                }
            )
        )
    else:
        info = tf.build_info
        print(
            f"cuda libraries for TensorFlow {tf.version} (CUDA {info.get('cuda_version')}, "
            f"cuDNN {info.get('cudnn_version')}):"
        )
        for lib in libraries:
            where = f"{lib.path} ({lib.via})" if lib.path else lib.error
            owner = f" [{lib.provider}]" if lib.provider else ""
            print(f"  {lib.status:<8} {lib.soname:<20} {where}{owner}")
        if problem:
            print(f"cuda libraries: {problem}", file=sys.stderr)
    return 1 if problem else 0


COMMANDS = {"requirements": cmd_requirements, "register": cmd_register, "check": cmd_check}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except Undecidable as reason:
        print(f"cuda libraries: {reason}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
