"""labkit.local_env: train.py outside Docker reads the lab's .env like compose does."""

from __future__ import annotations

import pytest
from labkit.local_env import find_env_file, load_env

pytest.importorskip("dotenv")


@pytest.fixture
def project(tmp_path):
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    (tmp_path / "lab").mkdir()
    return tmp_path


def test_the_env_beside_compose_yaml_is_found_from_a_subfolder(project) -> None:
    (project / ".env").write_text("TF_FORCE_GPU_ALLOW_GROWTH=false\n")

    assert find_env_file(project / "lab") == project / ".env"


def test_without_a_compose_project_above_nothing_is_read(tmp_path) -> None:
    # Inside the container: the course folder has no compose.yaml above it.
    environ: dict[str, str] = {}

    assert load_env(tmp_path, environ=environ) is None
    assert environ == {}


def test_values_are_exported_and_the_shell_wins_as_with_compose(project) -> None:
    (project / ".env").write_text(
        '\ufeffexport HSA_OVERRIDE_GFX_VERSION="10.3.0"  \r\nTF_FORCE_GPU_ALLOW_GROWTH=true # mine\r\nMY_KEY=1\r\n'
    )
    environ = {"MY_KEY": "from-shell"}

    assert load_env(project / "lab", environ=environ) == project / ".env"
    assert environ == {
        "HSA_OVERRIDE_GFX_VERSION": "10.3.0",
        "TF_FORCE_GPU_ALLOW_GROWTH": "true",
        "MY_KEY": "from-shell",
    }


def test_empty_values_are_never_exported(project) -> None:
    (project / ".env").write_text("ROCR_VISIBLE_DEVICES=\nLAB_PORT=\n")
    environ: dict[str, str] = {}

    load_env(project, environ=environ)

    assert environ == {}


def test_a_bad_setting_stops_with_the_containers_one_line(project, capsys) -> None:
    (project / ".env").write_text("HSA_OVERRIDE_GFX_VERSION=\n")
    environ: dict[str, str] = {}

    with pytest.raises(SystemExit) as stopped:
        load_env(project, environ=environ)

    assert stopped.value.code == 2
    assert "HSA_OVERRIDE_GFX_VERSION: is set but empty" in capsys.readouterr().err
    assert environ == {}


def test_an_old_name_is_loaded_with_a_notice(project, capsys) -> None:
    (project / ".env").write_text("LAB_VIDEO_GID=44\n")
    environ: dict[str, str] = {}

    load_env(project, environ=environ)

    assert environ == {"LAB_VIDEO_GID": "44"}
    assert "LAB_VIDEO_GID is the old name of LAB_KFD_GID" in capsys.readouterr().err
