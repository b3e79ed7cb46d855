"""labkit.sitepaths, run as the lab runs it (python -s -P -m labkit.sitepaths) on a real user
site: the image's path is what Python sees without the user site, and each .pth file of the
user site is mapped to the folders it puts on the path, whether by a plain line or by code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from labkit import sitepaths

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def run_report(user_base: Path, cwd: Path) -> sitepaths.SitePaths:
    env = {**os.environ, "PYTHONUSERBASE": str(user_base), "PYTHONPATH": str(SCRIPTS)}
    done = subprocess.run(
        [sys.executable, "-s", "-P", "-m", "labkit.sitepaths"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=True,
    )
    return sitepaths.parse(done.stdout)


def user_site_of(user_base: Path) -> Path:
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    folder = user_base / "lib" / version / "site-packages"
    folder.mkdir(parents=True)
    return folder


def test_each_pth_file_is_mapped_to_the_folders_it_adds(tmp_path):
    user_site = user_site_of(tmp_path / "user")
    appended, first = tmp_path / "appended", tmp_path / "first"
    appended.mkdir()
    first.mkdir()
    (user_site / "a-plain.pth").write_text(f"# a comment\n{appended}\n{tmp_path / 'missing'}\n")
    (user_site / "b-code.pth").write_text(f"import sys; sys.path.insert(0, {str(first)!r})\n")
    work = tmp_path / "work"
    work.mkdir()

    found = run_report(tmp_path / "user", cwd=work)

    assert found.user_site == str(user_site)
    assert found.added == {
        str(user_site / "a-plain.pth"): (str(appended),),
        str(user_site / "b-code.pth"): (str(first),),
    }
    assert str(user_site) not in found.image
    assert str(work) not in found.image and "" not in found.image
    assert str(SCRIPTS) in found.image
    assert found.foreign_folders() == [
        (str(user_site), None),
        (str(appended), str(user_site / "a-plain.pth")),
        (str(first), str(user_site / "b-code.pth")),
    ]


def test_without_a_user_site_only_the_images_path(tmp_path):
    found = run_report(tmp_path / "nobody", cwd=tmp_path)
    assert found.added == {}
    assert found.foreign_folders() == [(found.user_site, None)]
    assert any(Path(folder, "json", "__init__.py").is_file() for folder in found.image)


def test_a_pth_line_that_prints_does_not_hide_the_answer(tmp_path):
    user_site = user_site_of(tmp_path / "user")
    (user_site / "noisy.pth").write_text("import sys; print('hello from a .pth file')\n")
    assert run_report(tmp_path / "user", cwd=tmp_path).added == {str(user_site / "noisy.pth"): ()}
