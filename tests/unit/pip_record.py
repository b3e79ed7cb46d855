"""Record what the lab image's pip really prints when an install is refused, for the unit
tests of labkit.pipguard (tests/unit/fixtures/pip/*.json).

    COURSELAB_TEST_NS=... python tests/unit/pip_record.py

builds the CPU lab image the Docker tiers test (on the CPU stand-in base) and runs, in a new
container of it for each case, the exact pip command the lab's guard runs
(labkit.pipguard.pip_command: the image's pip, its constraints on the command line), as a
student's terminal would, in a folder holding the case's files. Each fixture keeps the command,
the pip version that wrote it, the exit code, and stdout and stderr apart (pip writes its
resolver's reasons to stdout). Needs Docker and PyPI (scipy, and numpy's wheel by its URL).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import dockerlab  # noqa: E402
from wheels import make_wheel  # noqa: E402

FIXTURES = HERE / "fixtures" / "pip"
IMAGE_CONSTRAINTS = "/opt/lab-venv/constraints.txt"


def numpy_126_url() -> str:
    """The URL of numpy 1.26.4's wheel for the image's Python, from PyPI's simple index (its
    links may be relative to the index page)."""
    index = "https://pypi.org/simple/numpy/"
    with urllib.request.urlopen(index, timeout=60) as response:  # noqa: S310
        page = response.read().decode()
    wanted = "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    (href,) = {href for href in re.findall(r'href="([^"#]+)', page) if href.endswith(wanted)}
    return urllib.parse.urljoin(index, href)


def case_files(folder: Path) -> None:
    (folder / "requirements.txt").write_text("numpy==1.26.4\n")
    (folder / "mine.txt").write_text("tabulate==0.8.10\n")
    # A base package's older copy (libclang: a TensorFlow requirement nothing imports at run time).
    make_wheel(folder, name="libclang", version="9.0.1", module="clang", source="STUDENT = True\n")
    make_wheel(folder, name="oldnumpyuser", version="1.0", module="oldnumpyuser", source="", requires=["numpy<2"])


# name -> what the student types after `pip`
CASES: dict[str, list[str]] = {
    "pinned-older-numpy": ["install", "numpy==1.26.4"],
    "requirements-file": ["install", "-r", "requirements.txt"],
    "needs-older-numpy": ["install", "scipy==1.11.4"],
    "local-wheel-of-an-image-package": ["install", "./libclang-9.0.1-py3-none-any.whl"],
    "local-wheel-needing-older-numpy": ["install", "./oldnumpyuser-1.0-py3-none-any.whl"],
    "direct-url": ["install", "NUMPY_URL"],
    "named-direct-url": ["install", "numpy @ NUMPY_URL"],
    "isolated-user": ["install", "--isolated", "--user", "scipy==1.11.4"],
    "isolated-before-the-command": ["--isolated", "install", "--user", "oldnumpyuser-1.0-py3-none-any.whl"],
    "no-deps": ["install", "--no-deps", "numpy==1.26.4"],
    "own-constraint-file": ["install", "-c", "mine.txt", "tabulate==0.9.0"],
    "no-such-package": ["install", "courselab-no-such-package"],
}

RUNNER = """
import json, subprocess, sys
from labkit import pipguard
argv = json.loads(sys.argv[1])
done = subprocess.run(pipguard.pip_command(argv), capture_output=True, text=True)
version = subprocess.run([sys.executable, "-P", "-m", "pip", "--version"], capture_output=True, text=True)
print(json.dumps({"argv": argv, "command": pipguard.pip_command(argv)[1:], "pip": version.stdout.strip(),
                  "exit_code": done.returncode, "stdout": done.stdout, "stderr": done.stderr}))
"""


def record(image: str, folder: Path, name: str, argv: list[str]) -> dict:
    command = ["docker", "run", "--rm", "--user", f"{dockerlab.TEST_UID}:{dockerlab.TEST_GID}"]
    command += ["-v", f"{folder}:/home/lab/work:ro", "--entrypoint", "python", image, "-P", "-c", RUNNER]
    done = subprocess.run([*command, json.dumps(argv)], capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    images = dockerlab.standins.ensure()
    dockerlab.build_image("Dockerfile", images["cpu"], dockerlab.CPU_LAB_IMAGE)
    url = numpy_126_url()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        folder.chmod(0o755)
        case_files(folder)
        for name, argv in CASES.items():
            argv = [token.replace("NUMPY_URL", url) for token in argv]
            result = record(dockerlab.CPU_LAB_IMAGE, folder, name, argv)
            (FIXTURES / f"{name}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
            print(f"{name}: exit {result['exit_code']} ({result['pip']})")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
