"""The student's own commands in Vietnamese: what `up` says about disk space, what `up`, `ps`
and `logs` say about memory kills, and the doctor's advice about the newer ROCm base, with
LAB_LANG=vi; the commands they run and their exit codes are the same as in English, which
stays the default."""

from __future__ import annotations

import json

import pytest
from fakeworld import GB, err, make_world, out
from labhost import cli
from labhost import world as lab_world
from labhost.docker import Completed


def use(monkeypatch, lang: str | None) -> None:
    if lang is None:
        monkeypatch.delenv("LAB_LANG", raising=False)
    else:
        monkeypatch.setenv("LAB_LANG", lang)


def up_with_little_disk(tmp_path, monkeypatch, lang: str | None):
    use(monkeypatch, lang)
    world = make_world(tmp_path / (lang or "unset"), "no-gpu", env="LAB_FLAVOUR=cpu\n")
    world.disk_free = lambda path: 1 * GB
    return cli.main(["up"], world), world


def test_up_refuses_for_disk_in_vietnamese(tmp_path, monkeypatch) -> None:
    code, world = up_with_little_disk(tmp_path, monkeypatch, "vi")

    assert code == 1
    assert err(world).strip() == (
        "còn trống 1.0 GB trong /var/lib/docker; image cpu (image gốc và lớp của lab) cần khoảng 6 GB. "
        "Cách sửa: giải phóng dung lượng (`docker system prune` xóa các image không dùng) hoặc xin bản sao "
        "offline của image. Chưa có gì được khởi động."
    )
    assert world.ran == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang", [None, "en"])
def test_up_refuses_for_disk_in_english_by_default(tmp_path, monkeypatch, lang) -> None:
    code, world = up_with_little_disk(tmp_path, monkeypatch, lang)

    assert code == 1
    assert "the cpu image (its base and the lab layer) needs about 6 GB. Fix: " in err(world)
    assert err(world).strip().endswith("Nothing was started.")


class OneOomKill:
    """Docker's answers for one running lab container whose kernel was killed once for memory
    (the formats of `docker inspect --format '{{json .State}}'` on Engine 20.10 and of the
    container's cgroup v1 memory.oom_control, as tests/host/test_memory.py replays them)."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, argv):
        self.calls.append(list(argv))
        if "ps" in argv:
            return Completed(0, "3f2a1b\n")
        if argv[:2] == ["docker", "inspect"]:
            state = {"Status": "running", "Running": True, "OOMKilled": False, "ExitCode": 0,
                     "StartedAt": "2026-11-27T04:40:00.123456789Z"}  # fmt: skip
            return Completed(0, json.dumps(state) + "\n")
        if argv[:2] == ["docker", "exec"]:
            return Completed(1, "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n", "cat: memory.events: No such file\n")
        raise AssertionError(argv)


@pytest.mark.parametrize("command", ["ps", "logs"])
def test_ps_and_logs_tell_of_a_memory_kill_in_vietnamese(tmp_path, monkeypatch, command: str) -> None:
    use(monkeypatch, "vi")
    world = make_world(tmp_path, "no-gpu", run=OneOomKill(), env="LAB_FLAVOUR=cpu\nLAB_MEMORY_LIMIT=8g\n")

    assert cli.main([command], world) == 0
    assert world.ran == [["docker", "compose", "-f", "compose.yaml", command]]  # type: ignore[attr-defined]
    assert err(world).strip() == (
        "Hết bộ nhớ: 1 tiến trình trong lab đã bị dừng (dấu hiệu thường gặp: kernel của một notebook vừa bị "
        "dừng đột ngột). Cách sửa: tăng LAB_MEMORY_LIMIT (hiện là 8g) trong .env, hoặc dùng batch size hay bộ dữ "
        "liệu nhỏ hơn."
    )


def test_ps_tells_of_a_memory_kill_in_english_by_default(tmp_path, monkeypatch) -> None:
    use(monkeypatch, None)
    world = make_world(tmp_path, "no-gpu", run=OneOomKill(), env="LAB_FLAVOUR=cpu\n")

    cli.main(["ps"], world)

    assert err(world).startswith("Out of memory: 1 process(es) in the lab were stopped")
    assert "Fix: the computer ran out of memory: close other programs" in err(world)


def test_lab_lang_in_env_file_makes_the_memory_note_vietnamese(tmp_path, monkeypatch) -> None:
    use(monkeypatch, None)
    world = make_world(tmp_path, "no-gpu", run=OneOomKill(), env="LAB_FLAVOUR=cpu\nLAB_LANG=vi\n")

    cli.main(["logs"], world)

    assert err(world).startswith("Hết bộ nhớ: 1 tiến trình trong lab đã bị dừng")
    assert "máy tính đã hết bộ nhớ: hãy tắt bớt các chương trình khác" in err(world)


def doctor_checks(tmp_path, monkeypatch, lang: str | None, fixture: str) -> dict[str, dict]:
    use(monkeypatch, lang)
    world = make_world(tmp_path / (lang or "unset"), fixture)
    cli.main(["doctor", "--json"], world)
    return {c["name"]: c for c in json.loads(out(world))["checks"]}


def test_newer_rocm_base_advice_in_vietnamese(tmp_path, monkeypatch) -> None:
    vietnamese = doctor_checks(tmp_path, monkeypatch, "vi", "strix-halo-gfx1151")
    english = doctor_checks(tmp_path, monkeypatch, "en", "strix-halo-gfx1151")
    base = vietnamese["rocm base"]

    assert base["detail"].startswith(
        "rocm/tensorflow:rocm6.4.1-py3.12-tf2.18-dev không có mã chạy cho gfx1151; "
        "rocm/tensorflow:rocm7.2.4-py3.12-tf2.20-dev (TensorFlow 2.20) chạy được nó trực tiếp, không cần override "
        "(danh sách mã kiến trúc GPU (target) của image gốc đó theo tài liệu của "
        "rocm/tensorflow:rocm7.2.4-py3.12-tf2.20-dev, "
        "không đọc từ image (image courselab.invalid/lab:2.20-rocm7.2.4 chưa được build trên máy này): "
        "công thức build TensorFlow 2.20 của AMD"
    )
    # Which cards need an override on the newer base is unknown until its image is built.
    assert base["detail"].endswith(
        "chưa biết những card phổ thông nào cần HSA_OVERRIDE_GFX_VERSION ở image đó: danh sách dùng khi chạy "
        "của nó chưa biết cho đến khi image được build "
        "(image courselab.invalid/lab:2.20-rocm7.2.4 chưa được build trên máy này)"
    )
    assert base["fix"].startswith("hãy hỏi giảng viên về image gốc ROCm mới hơn (docs/rocm-bases.md): ")
    assert "`scripts/lab setup` và `scripts/lab up`" in base["fix"]
    assert {name: c["status"] for name, c in vietnamese.items()} == {name: c["status"] for name, c in english.items()}
    assert english["rocm base"]["fix"].startswith("ask your instructor for the newer ROCm base")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("vi", "hostvi2-no-such-docker: không tìm thấy lệnh này; hãy chạy `scripts/lab doctor`"),
        ("en", "hostvi2-no-such-docker: command not found; run `scripts/lab doctor`"),
    ],
)
def test_a_missing_docker_command_is_said_in_the_students_language(tmp_path, monkeypatch, capsys, lang, expected):
    # What up/down/ps/logs print when the compose command they run does not exist.
    use(monkeypatch, lang)

    assert lab_world.interactive(["hostvi2-no-such-docker", "compose", "ps"], tmp_path) == 127
    assert capsys.readouterr().err.strip() == expected
