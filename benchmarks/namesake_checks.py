"""What the lab's checks for the student's files and installs cost, in the CPU lab image:
labkit.sitepaths (a child Python, once per check), the namesake scan a kernel does of its own
folder at start, the first notebook's walk of the whole work folder, and labkit.shadow's check
of the user site.

    COURSELAB_TEST_NS=... .venv/bin/python benchmarks/namesake_checks.py [--files 2000] [--rounds 5]

The work folder holds the 54 module-named files of tests/stack/test_work_folder_names.py, a
folder of 20 modules with the student's own names, and --files ordinary files spread over 50
folders (a small dataset).
Prints the median of --rounds runs of each; asserts nothing. Build the CPU lab image first
(any Docker-tier test does).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "stack"))

import dockerlab  # noqa: E402
from test_work_folder_names import write_student_files  # noqa: E402

MEASURE = """
import json, statistics, sys, time
from pathlib import Path
from labkit import namesakes, shadow, sitepaths

rounds = int(sys.argv[1])
work = Path("/home/lab/work")

def median(action):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 1)

paths = sitepaths.read()
print(json.dumps({
    "sitepaths.read (child python -s -P)": median(sitepaths.read),
    "kernel start: scan of its own folder": median(lambda: namesakes.scan([(work, "")], paths.image)),
    "kernel start: sitepaths + scan": median(lambda: namesakes.scan([(work, "")])),
    "kernel start: 20 modules of the student's own": median(lambda: namesakes.scan([(work / "own", "own/")])),
    "first notebook: walk of the work folder": median(lambda: namesakes.check_work(work, paths.image)),
    "shadow.check (user site and .pth folders)": median(lambda: shadow.check(paths=paths)),
    "namesakes found at the top": len(namesakes.scan([(work, "")], paths.image)),
    "folders walked": len(namesakes.folders_below(work)),
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        work.chmod(0o755)
        write_student_files(work)
        (work / "own").mkdir()
        for index in range(20):
            (work / "own" / f"exercise_{index}.py").write_text("x = 1\n")
        for index in range(args.files):
            folder = work / f"data{index % 50:02}"
            folder.mkdir(exist_ok=True)
            (folder / f"image{index:05}.png").write_bytes(b"\x89PNG")
        command = ["docker", "run", "--rm", "--user", f"{dockerlab.TEST_UID}:{dockerlab.TEST_GID}"]
        command += ["-v", f"{work}:/home/lab/work:ro", "--entrypoint", "python", dockerlab.CPU_LAB_IMAGE]
        done = subprocess.run([*command, "-P", "-s", "-c", MEASURE, str(args.rounds)], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(done.stderr[-2000:])
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{dockerlab.CPU_LAB_IMAGE}, {args.files} ordinary files, median of {args.rounds}:")
    for name, value in figures.items():
        print(f"  {name:45} {value}{' ms' if isinstance(value, float) else ''}")


if __name__ == "__main__":
    main()
