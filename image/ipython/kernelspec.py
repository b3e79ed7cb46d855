"""Point the lab venv's Python kernel spec at the lab's launcher (kernel_launch.py, copied
beside kernel.json as launch.py): `python image/ipython/kernelspec.py KERNEL_DIR`.

The spec is ipykernel's own (installed with it: display name, debugger and protocol
metadata), and only its command changes, so an ipykernel upgrade keeps its metadata; a spec
that does not start ipykernel's launcher the way this expects fails the build.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

LAUNCHER = "{resource_dir}/launch.py"


def relaunched(argv: list[str]) -> list[str]:
    """ipykernel's `python -m ipykernel_launcher ARGS` as `python {resource_dir}/launch.py ARGS`."""
    if argv[1:3] != ["-m", "ipykernel_launcher"]:
        raise SystemExit(f"kernelspec: unexpected kernel command {argv!r}: expected python -m ipykernel_launcher ...")
    return [argv[0], LAUNCHER, *argv[3:]]


def main(folder: Path) -> None:
    path = folder / "kernel.json"
    spec = json.loads(path.read_text())
    if spec["argv"][1:2] == [LAUNCHER]:
        return  # already the lab's
    spec["argv"] = relaunched(spec["argv"])
    if not (folder / "launch.py").is_file():
        raise SystemExit(f"kernelspec: {folder}/launch.py is missing")
    path.write_text(json.dumps(spec, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
