"""`scripts/lab doctor` in the student's language: with LAB_LANG=vi the check lines and their
fixes are Vietnamese, while the check names and statuses (the --json data tools read) stay
English; with LAB_LANG=en (or unset) the doctor prints what it always printed."""

from __future__ import annotations

import json
import re

import pytest
from fakehost import FakeDocker
from fakeworld import make_world, out
from labhost import cli

# Letters only Vietnamese text has among the doctor's output (ASCII English has none of them).
VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)


def doctor(tmp_path, fixture: str, monkeypatch, lang: str | None, *args: str, **world_options) -> tuple[int, str]:
    if lang is None:
        monkeypatch.delenv("LAB_LANG", raising=False)
    else:
        monkeypatch.setenv("LAB_LANG", lang)
    world = make_world(tmp_path / (lang or "unset"), fixture, **world_options)
    code = cli.main(["doctor", *args], world)
    return code, out(world)


@pytest.mark.parametrize(
    ("fixture", "env", "expected"),
    [
        pytest.param(
            "nvidia-no-toolkit",
            None,
            [
                "[fail] nvidia toolkit  chưa cài NVIDIA Container Toolkit; Docker sẽ báo: "
                'could not select device driver "" with capabilities: [[gpu]]',
                "cách sửa: cài nvidia-container-toolkit, rồi chạy "
                "`sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker`",
                "[ok]   nvidia driver   nvidia-smi ở /usr/bin/nvidia-smi",
                "Có 1 vấn đề khiến lab không khởi động được; hãy sửa rồi chạy lại doctor.",
            ],
            id="nvidia-without-toolkit",
        ),
        pytest.param(
            "rx6700xt",
            "LAB_FLAVOUR=rocm\n",
            [
                "[fail] rocm target",
                ", nhưng .env ghi không có",
                "cách sửa: chạy `scripts/lab setup` để ghi giá trị đúng (override sai có thể làm driver bị sập)",
                "/dev/kfd cần nhóm 110 (render), /dev/dri/renderD128 cần nhóm 110 (render), "
                "nhóm mà .env không cấp cho lab",
                "cách sửa: chạy `scripts/lab setup` để ghi các group id",
            ],
            id="rocm-env-without-override-or-groups",
        ),
        pytest.param(
            "no-gpu",
            None,
            [
                "[ok]   gpu            không có card nào trong /sys/class/drm; "
                "không tìm thấy GPU; lab CPU sẽ chạy; lab được chọn: cpu",
                "[warn] env            không có .env: dùng giá trị mặc định (lab CPU, token tự sinh)",
                "cách sửa: chạy `scripts/lab setup` để ghi một file cho máy này",
                "[ok]   port           cổng 8888 đang trống",
                "[ok]   work folder    ./work đã có",
                "Sẵn sàng khởi động (1 cảnh báo): scripts/lab up",
            ],
            id="cpu-only",
        ),
    ],
)
def test_doctor_speaks_vietnamese(tmp_path, monkeypatch, fixture: str, env: str | None, expected: list[str]) -> None:
    _, text = doctor(tmp_path, fixture, monkeypatch, "vi", env=env)

    for line in expected:
        assert line in text
    fixes = [line.strip() for line in text.splitlines() if line.strip().startswith("cách sửa:")]
    assert fixes, text
    assert all(VIETNAMESE.search(fix) for fix in fixes), fixes
    assert "fix:" not in text


def test_lab_lang_in_env_file_makes_the_doctor_vietnamese(tmp_path, monkeypatch) -> None:
    _, text = doctor(tmp_path, "nvidia-no-toolkit", monkeypatch, None, env="LAB_LANG=vi\n")

    assert "chưa cài NVIDIA Container Toolkit" in text
    assert "cách sửa: cài nvidia-container-toolkit" in text


@pytest.mark.parametrize("fixture", ["rx6700xt", "no-gpu", "nvidia-no-toolkit", "wsl2", "780m-igpu"])
def test_json_names_and_statuses_stay_english_data(tmp_path, monkeypatch, fixture: str) -> None:
    english_code, english = doctor(tmp_path, fixture, monkeypatch, "en", "--json", env="LAB_FLAVOUR=rocm\n")
    vietnamese_code, vietnamese = doctor(tmp_path, fixture, monkeypatch, "vi", "--json", env="LAB_FLAVOUR=rocm\n")
    english, vietnamese = json.loads(english), json.loads(vietnamese)

    assert vietnamese_code == english_code
    assert vietnamese.keys() == english.keys()
    assert vietnamese["ok"] == english["ok"]
    assert [(c["name"], c["status"]) for c in vietnamese["checks"]] == [
        (c["name"], c["status"]) for c in english["checks"]
    ]
    assert all(c.keys() == {"name", "status", "detail", "fix"} for c in vietnamese["checks"])
    # The human text is what changes: every fix a student is shown is in Vietnamese.
    fixes = [c["fix"] for c in vietnamese["checks"] if c["fix"] and c["status"] != "ok"]
    assert all(VIETNAMESE.search(fix) for fix in fixes), fixes


@pytest.mark.parametrize("fixture", ["rx6700xt", "no-gpu", "nvidia-no-toolkit", "h200-server"])
def test_english_is_the_default_and_unchanged(tmp_path, monkeypatch, fixture: str) -> None:
    _, unset = doctor(tmp_path, fixture, monkeypatch, None)
    _, english = doctor(tmp_path, fixture, monkeypatch, "en")

    assert english == unset
    assert not VIETNAMESE.search(english)
    assert "fix: run `scripts/lab setup` to write one for this computer" in english


def test_english_lines_are_the_ones_students_always_read(tmp_path, monkeypatch) -> None:
    engine = FakeDocker(engine="denied")
    _, text = doctor(tmp_path, "nvidia-no-toolkit", monkeypatch, "en", run=engine)

    assert "[ok]   docker          Docker client 28.2.2\n" in text
    assert "this user may not use the Docker engine: " in text
    assert "fix: run `sudo usermod -aG docker $USER`, then log out and back in (or set up rootless Docker)\n" in text


@pytest.mark.parametrize(
    ("daemon_json", "english", "vietnamese"),
    [
        pytest.param(
            '{\n  "runtimes": {\n    "nvidia": {,\n}\n',
            "/etc/docker/daemon.json is not valid JSON (line 3: Expecting property name enclosed in double quotes)",
            # Python's own description of the JSON error stays as Python writes it.
            "/etc/docker/daemon.json không phải JSON hợp lệ "
            "(dòng 3: Expecting property name enclosed in double quotes)",
            id="broken-json",
        ),
        pytest.param(
            '["runtimes"]\n',
            "/etc/docker/daemon.json holds a JSON list, not an object ({...})",
            "/etc/docker/daemon.json chứa một JSON list, không phải một object ({...})",
            id="not-an-object",
        ),
    ],
)
def test_daemon_json_problem_in_vietnamese(tmp_path, monkeypatch, daemon_json, english, vietnamese) -> None:
    import shutil

    from fakehost import FIXTURES

    said = {}
    for lang in ("en", "vi"):
        monkeypatch.setenv("LAB_LANG", lang)
        root = tmp_path / lang / "host"
        shutil.copytree(FIXTURES / "nvidia-toolkit", root)
        (root / "etc/docker/daemon.json").write_text(daemon_json)
        world = make_world(tmp_path / lang, "nvidia-toolkit")
        world.root = root
        said[lang] = (cli.main(["doctor", "--json"], world), out(world))

    (en_code, en_text), (vi_code, vi_text) = said["en"], said["vi"]
    en_check = next(c for c in json.loads(en_text)["checks"] if c["name"] == "nvidia toolkit")
    vi_check = next(c for c in json.loads(vi_text)["checks"] if c["name"] == "nvidia toolkit")
    assert vi_code == en_code == 1
    assert vi_check["status"] == en_check["status"] == "fail"
    assert en_check["detail"] == english
    assert vi_check["detail"] == vietnamese
    assert VIETNAMESE.search(vi_check["fix"])
