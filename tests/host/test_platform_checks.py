"""The doctor on students' other systems: Docker Desktop on macOS, and WSL2 with the course
folder on a Windows drive."""

from __future__ import annotations

import json

import pytest
from fakeworld import make_world, out
from labhost import cli


def doctor(world) -> dict[str, dict]:
    cli.main(["doctor", "--json"], world)
    return {check["name"]: check for check in json.loads(out(world))["checks"]}


def test_macos_says_docker_has_no_gpu_and_points_to_metal(tmp_path):
    world = make_world(tmp_path, "no-gpu")
    world.system = "Darwin"
    check = doctor(world)["macos"]
    assert check["status"] == "warn"
    assert "Docker on macOS has no GPU" in check["detail"]
    assert "tensorflow-metal" in check["fix"] and "outside Docker" in check["fix"]


@pytest.mark.parametrize("system", ["Linux"])
def test_no_macos_item_elsewhere(tmp_path, system):
    world = make_world(tmp_path, "no-gpu")
    world.system = system
    assert "macos" not in doctor(world)


@pytest.mark.parametrize(
    "work_dir,status",
    [
        ("/mnt/c/Users/student/course/work", "warn"),
        ("/mnt/d/work", "warn"),
        ("/home/student/course/work", "ok"),
        ("/mnt/wsl/shared/work", "ok"),  # a Linux mount, not a drive letter
    ],
    ids=["drive-c", "drive-d", "linux-home", "not-a-drive"],
)
def test_wsl_work_folder_must_be_in_the_linux_file_system(tmp_path, work_dir, status):
    world = make_world(tmp_path, "wsl2", env=f"LAB_WORK_DIR={work_dir}\n")
    check = doctor(world)["wsl2 files"]
    assert check["status"] == status, check
    if status == "warn":
        assert work_dir in check["detail"] and "Windows drive" in check["detail"]
        assert "Linux file system" in check["fix"] and "/mnt/c" in check["fix"]


def test_no_wsl_file_check_on_native_linux(tmp_path):
    assert "wsl2 files" not in doctor(make_world(tmp_path, "no-gpu", env="LAB_WORK_DIR=/mnt/c/x\n"))


def test_scripts_lab_speaks_the_language_of_env_file(tmp_path, monkeypatch):
    monkeypatch.delenv("LAB_LANG", raising=False)
    world = make_world(tmp_path, "no-gpu", env="LAB_LANG=vi\n")
    cli.main(["doctor"], world)
    assert "Sẵn sàng khởi động" in out(world)
    english = make_world(tmp_path / "en", "no-gpu", env="LAB_LANG=en\n")
    cli.main(["doctor"], english)
    assert "Ready to start" in out(english)
