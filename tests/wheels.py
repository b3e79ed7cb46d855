"""Tiny pure-Python wheels made by the tests (no network at test time): a real wheel file in
the format pip installs (PEP 427: the package, METADATA, WHEEL and a RECORD with hashes), and
the one real wheel from PyPI a test needs, downloaded once into the test cache."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(
    folder: Path,
    *,
    name: str,
    version: str,
    module: str,
    source: str,
    requires: Sequence[str] = (),
    extra_files: Mapping[str, str] | None = None,
) -> Path:
    """`requires`: its Requires-Dist lines; `extra_files`: more files at the wheel's root (a
    .pth file goes into site-packages beside the package, as pip installs it)."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    files = {
        f"{module}/__init__.py": source.encode(),
        **{path: text.encode() for path, text in (extra_files or {}).items()},
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: courselab-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, data in files.items():
            wheel.writestr(member, data)
        wheel.writestr(f"{info}/RECORD", record + f"{info}/RECORD,,\n")
    path.chmod(0o644)
    return path


def pypi_wheel(requirement: str, *, python: str = "3.11", platform: str = "manylinux2014_x86_64") -> Path:
    """A real wheel from PyPI for the lab image's Python, downloaded once into the test cache
    ($COURSELAB_CACHE/wheels, as the stand-ins' downloads): a test that needs the real package
    (numpy 1.26's C extension, which the image's TensorFlow cannot load) installs it from there."""
    cache = Path(os.environ.get("COURSELAB_CACHE", "/var/cache/courselab")) / "wheels"
    cache.mkdir(parents=True, exist_ok=True)
    name, version = requirement.split("==")
    prefix = f"{name.replace('-', '_')}-{version}-"
    found = sorted(cache.glob(f"{prefix}*.whl"))
    if not found:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        command += ["--python-version", python, "--platform", platform, "--dest", str(cache), requirement]
        subprocess.run(command, check=True)
        found = sorted(cache.glob(f"{prefix}*.whl"))
    assert found, f"pip download left no wheel for {requirement} in {cache}"
    return found[-1]
