"""The gate's device list (labkit.hostfacts.devices.access) holds device nodes only."""

from __future__ import annotations

import os
import stat

import pytest
from labkit.hostfacts import devices


def test_the_nvidia_caps_folder_is_not_a_device(tmp_path):
    # Recorded on an H200 host (tests/host/fixtures/h200-server-captured/ls-dev.txt): the glob
    # /dev/nvidia* also finds /dev/nvidia-caps, a root-owned folder no user may write. Listed,
    # it read as a GPU device the lab "may not open" and the NVML advice named the folder.
    if os.geteuid() != 0:
        pytest.skip("creating device nodes needs root")
    dev = tmp_path / "dev"
    dev.mkdir()
    os.mknod(dev / "nvidia0", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    (dev / "nvidia-caps").mkdir(mode=0o755)
    os.mknod(dev / "nvidia-caps" / "nvidia-cap1", stat.S_IFCHR | 0o400, os.makedev(1, 3))

    assert devices.access(tmp_path) == {"/dev/nvidia0": "ok"}
    assert [node.path for node in devices.stat_nodes(tmp_path)] == ["/dev/nvidia0"]
