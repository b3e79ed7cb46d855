"""train.py outside Docker reads the lab's .env before TensorFlow starts (labkit.local_env)."""

from __future__ import annotations

import shutil
import subprocess
import sys

from workload_support import LAB, REPO


def test_train_py_stops_on_a_bad_env_before_importing_tensorflow(tmp_path) -> None:
    project = tmp_path / "course lab"
    (project / "lab").mkdir(parents=True)
    shutil.copy(LAB / "train.py", project / "lab" / "train.py")
    (project / "compose.yaml").write_text("services: {}\n")
    (project / ".env").write_text("# mine\nHSA_OVERRIDE_GFX_VERSION=\n")

    done = subprocess.run(
        [sys.executable, "-X", "importtime", "lab/train.py", "--synthetic"],
        cwd=project,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "scripts")},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert "HSA_OVERRIDE_GFX_VERSION: is set but empty" in done.stderr
    # -X importtime lists every module imported: labkit's loader, and no TensorFlow.
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "labkit.local_env" in imported
    assert "tensorflow" not in imported
