"""Keep the vendor's packages untouchable: freeze what the base image's Python has, and
after our layer is installed, prove none of it was replaced or shadowed.

    python3 baseline.py freeze > base-constraints.txt   (run with the BASE image's python)
    python baseline.py verify base-constraints.txt      (run with the lab venv's python)
    python baseline.py constraints > constraints.txt    (students' pip: PIP_CONSTRAINT)

Names and versions come from importlib.metadata, not `pip freeze`: vendor images install
wheels from local files, and `pip freeze` writes those as `name @ file://...`, which pip
rejects in a constraints file.
"""

from __future__ import annotations

import re
import site
import sys
from importlib import metadata
from pathlib import Path


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(paths: list[str] | None = None) -> dict[str, str]:
    found: dict[str, str] = {}
    distributions = metadata.distributions(path=paths) if paths is not None else metadata.distributions()
    for dist in distributions:
        name = dist.metadata["Name"]
        if name and canonical(name) not in found:
            found[canonical(name)] = dist.version
    return found


def parse_constraints(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonical(name)] = version.strip()
    return pins


def problems(base: dict[str, str], seen: dict[str, str], layer: dict[str, str]) -> list[str]:
    """What our layer broke: a base package that now resolves to another version, or one
    that the layer installed a second copy of (shadowing the vendor's build)."""
    found = []
    for name, version in sorted(base.items()):
        if name in layer:
            found.append(f"{name}: the lab layer installed its own copy ({layer[name]}) over the base's {version}")
        elif seen.get(name) != version:
            found.append(f"{name}: base has {version}, the lab environment sees {seen.get(name)}")
    return found


# Other PyPI builds of the `tensorflow` module (TensorFlow's pip_package builds one source
# under several project names). Installing any of them next to the vendor's would hide the
# vendor's GPU build behind a CPU or CUDA one; students' pip refuses them (`name<0` matches
# no release). The one the image has is pinned to its own version instead.
TENSORFLOW_BUILDS = (
    "tensorflow",
    "tensorflow-cpu",
    "tensorflow-gpu",
    "tensorflow-rocm",
    "tensorflow-intel",
    "intel-tensorflow",
    "tf-nightly",
    "tf-nightly-cpu",
)


def run_time_constraints(seen: dict[str, str]) -> list[str]:
    """What students' `pip install` is held to: every package of the image at its version,
    and no second TensorFlow build."""
    lines = [f"{name}=={version}" for name, version in sorted(seen.items())]
    lines += [f"{name}<0" for name in TENSORFLOW_BUILDS if name not in seen]
    return lines


def main(argv: list[str]) -> int:
    if argv[:1] == ["constraints"]:
        print("\n".join(run_time_constraints(installed())))
        return 0
    if argv[:1] == ["freeze"]:
        for name, version in sorted(installed().items()):
            print(f"{name}=={version}")
        return 0
    if len(argv) == 2 and argv[0] == "verify":
        base = parse_constraints(Path(argv[1]).read_text())
        layer = installed(site.getsitepackages()[:1])  # the venv's own site-packages
        found = problems(base, installed(), layer)
        for line in found:
            print(f"baseline: {line}", file=sys.stderr)
        print(f"baseline: {len(base)} base packages checked, {len(found)} changed")
        return 1 if found else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
