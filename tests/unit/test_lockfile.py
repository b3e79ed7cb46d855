"""The lab layer's locks: parsed as the build reads them, stale when their inputs change, and
never installing what the base already has."""

from __future__ import annotations

import shutil
from pathlib import Path

import lockfile
import pytest
from labhost.commands import lock as lock_command

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "image"
FLAVOURS = ("cpu", "nvidia", "rocm")
HASH = "0" * 64
SAMPLE = f"""# lab-lock flavour: cpu
# lab-lock requirements-sha256: abc
--no-binary promise
--only-binary :all:

numpy==2.4.6 \\
    --hash=sha256:{HASH}
    # via -c base-packages.txt
contourpy==1.3.3 ; python_full_version < '3.12' \\
    --hash=sha256:{"1" * 64}
contourpy==1.4.0 ; python_full_version >= '3.12' \\
    --hash=sha256:{"2" * 64}
Jupyter_Server==2.21.1 \\
    --hash=sha256:{"3" * 64}
"""


def test_parse_reads_header_options_and_every_entry():
    lock = lockfile.parse(SAMPLE)
    assert lock.header == {"flavour": "cpu", "requirements-sha256": "abc"}
    assert lock.options == ["--no-binary promise", "--only-binary :all:"]
    assert [(e.name, e.version) for e in lock.entries] == [
        ("numpy", "2.4.6"),
        ("contourpy", "1.3.3"),
        ("contourpy", "1.4.0"),
        ("jupyter-server", "2.21.1"),
    ]
    assert lock.entries[0].hashes == [HASH]


def test_installable_leaves_base_packages_to_the_base():
    text, skipped = lockfile.installable(lockfile.parse(SAMPLE), {"numpy"})
    assert [entry.name for entry in skipped] == ["numpy"]
    assert "numpy==" not in text
    assert "jupyter_server==2.21.1" in text.lower()


def test_installable_puts_wheel_exceptions_after_only_binary():
    # pip's `--only-binary :all:` clears every `--no-binary` before it.
    text, _ = lockfile.installable(lockfile.parse(SAMPLE), set())
    assert text.index("--only-binary :all:") < text.index("--no-binary promise")


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_committed_lock_matches_requirements_lab(flavour):
    assert lock_command.check_locks(IMAGE, [flavour]) == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_committed_lock_hashes_every_entry_and_leaves_out_the_excluded(flavour):
    lock = lockfile.parse((IMAGE / "locks" / f"{flavour}.txt").read_text())
    assert all(entry.hashes for entry in lock.entries)
    excluded = lockfile.excluded_names((IMAGE / "lock-exclude.txt").read_text())
    assert excluded and not set(excluded) & set(lock.pins())
    assert "--only-binary :all:" in lock.options


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_committed_lock_pins_base_packages_to_the_base_it_was_resolved_against(flavour):
    lock = lockfile.parse((IMAGE / "locks" / f"{flavour}.txt").read_text())
    base = dict(line.split("==", 1) for line in (IMAGE / "locks" / f"{flavour}.base.txt").read_text().split())
    both = set(base) & set(lock.pins())
    assert "numpy" in both
    assert {name: lock.pins()[name] for name in both} == {name: base[name] for name in both}
    assert lock.header["base-packages-sha256"] == lockfile.file_digest(
        (IMAGE / "locks" / f"{flavour}.base.txt").read_bytes()
    )


@pytest.fixture
def image_copy(tmp_path):
    copy = tmp_path / "image"
    shutil.copytree(IMAGE, copy)
    return copy


def test_requirements_change_without_relock_is_detected(image_copy):
    with (image_copy / "requirements-lab.txt").open("a") as stream:
        stream.write("tabulate==0.9.0\n")
    stale = lock_command.check_locks(image_copy, ["cpu"])
    assert [item.lock for item in stale] == ["cpu"]
    assert "image/requirements-lab.txt changed since the lock was made" in stale[0].reasons
    assert "not in the lock: tabulate" in stale[0].reasons


def test_flavour_inputs_script_change_without_relock_is_detected(image_copy):
    (image_copy / "lock-inputs").mkdir(exist_ok=True)
    (image_copy / "lock-inputs" / "nvidia.py").write_text("print('nvidia-cudnn-cu12==9.3.0.75')\n")
    stale = lock_command.check_locks(image_copy, ["nvidia", "cpu"])
    assert [item.lock for item in stale] == ["nvidia"]


# `pip check` lines as pip prints them (pip/_internal/commands/check.py).
PIP_CHECK = """tensorflow-datasets 4.9.10 requires pyarrow, which is not installed.
jupyter-server 2.21.1 requires tornado, which is not installed.
oldvendor 1.0 has requirement six<1.10, but you have six 1.17.0.
"""


def test_pip_check_accepts_only_excluded_and_the_bases_own_problems():
    problems = lockfile.new_pip_check_problems(
        PIP_CHECK,
        base_output="oldvendor 1.0 has requirement six<1.10, but you have six 1.17.0.\n",
        excluded={"pyarrow"},
    )
    assert problems == ["jupyter-server 2.21.1 requires tornado, which is not installed."]


def test_check_inputs_command_refuses_a_stale_lock_in_one_line(image_copy, capsys):
    (image_copy / "requirements-lab.txt").write_text("jupyterlab==4.6.6\nseaborn==0.13.2\n")
    code = lockfile.main(
        [
            "check-inputs",
            str(image_copy / "locks" / "cpu.txt"),
            str(image_copy / "requirements-lab.txt"),
            str(image_copy / "lock-exclude.txt"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "the cpu lock is out of date" in err
    assert "not in the lock: seaborn" in err
    assert "Fix: run `scripts/lab lock --flavour cpu`" in err


def test_lock_changes_are_listed_per_package():
    assert lock_command.changes({"a": "1", "b": "1"}, {"a": "2", "c": "1"}) == ["+c==1", "-b==1", "a 1 -> 2"]
