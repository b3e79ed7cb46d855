"""The lab's memory limit from the machine's memory (labhost.memlimit), and setup writing it."""

from __future__ import annotations

import pytest
from fakeworld import make_world
from labhost import cli, memlimit
from labhost.envfile import EnvFile

GIB = 1 << 30


@pytest.mark.parametrize(
    ("total_gib", "limit"),
    [
        pytest.param(2, "1g", id="2GiB-floor"),
        pytest.param(4, "2g", id="4GiB-keeps-2-for-the-desktop"),
        pytest.param(8, "6g", id="8GiB-laptop"),
        pytest.param(16, "12g", id="16GiB-keeps-a-quarter"),
        pytest.param(23.54, "17g", id="this-ci-machine-docker-info"),
        pytest.param(32, "24g", id="32GiB"),
        pytest.param(64, "48g", id="64GiB"),
    ],
)
def test_limit_leaves_the_desktop_two_gib_or_a_quarter(total_gib, limit):
    assert memlimit.env_value(memlimit.limit_for(int(total_gib * GIB))) == limit


@pytest.mark.parametrize(
    ("current", "written"),
    [
        pytest.param(None, "12g", id="no-line"),
        pytest.param("0", "12g", id="default-none"),
        pytest.param("", "12g", id="empty"),
        pytest.param("20g", None, id="students-own-limit-stays"),
    ],
)
def test_setup_sizes_only_a_limit_nobody_chose(current, written):
    assert memlimit.setting(current, 16 * GIB) == written


def test_unknown_memory_writes_nothing():
    assert memlimit.setting(None, None) is None


def test_meminfo_is_read_in_its_kernel_format(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "meminfo").write_text("MemTotal:       16303412 kB\nMemFree:         1000 kB\n")
    assert memlimit.meminfo_total(tmp_path) == 16303412 * 1024


def test_setup_writes_the_limit_from_dockers_memory_and_keeps_a_chosen_one(tmp_path):
    # The recorded `docker info` (tests/host/fixtures/docker/info.stdout) says MemTotal 25276063744.
    world = make_world(tmp_path, "no-gpu")
    assert cli.main(["setup"], world) == 0
    assert EnvFile.parse((world.repo / ".env").read_text()).values()["LAB_MEMORY_LIMIT"] == "17g"

    chosen = make_world(tmp_path / "chosen", "no-gpu", env="LAB_MEMORY_LIMIT=20g\n")
    assert cli.main(["setup"], chosen) == 0
    assert EnvFile.parse((chosen.repo / ".env").read_text()).values()["LAB_MEMORY_LIMIT"] == "20g"
