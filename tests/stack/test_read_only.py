"""The lab runs on a read-only root file system. Every folder of the image a non-root user
could write to is either an in-memory tmpfs (nothing a student keeps), the cache volume or the
work folder; the rest of the image cannot be changed from inside. The other stack and browser
tests (notebooks, training, pip installs, the browser journey) all run on this same stack."""

from __future__ import annotations

# World-writable in the image but needed by nothing in the lab: lock files of serial-device
# tools (Debian's /run/lock). With the root read-only it stays unwritable, on purpose.
NOT_NEEDED = {"/run/lock"}
SCRATCH = {"/tmp", "/var/tmp", "/home/lab"}

FIND_WRITABLE = "find / -xdev -type d -perm -0002 2>/dev/null; echo; cat /proc/mounts"


def exec_lab(stack, *argv: str, check: bool = True):
    return stack.compose("exec", "-T", "lab", *argv, check=check)


def test_every_writable_folder_is_scratch_a_volume_or_the_work_folder(lab_stack):
    out = exec_lab(lab_stack, "sh", "-c", FIND_WRITABLE).stdout
    writable, mounts = out.split("\n\n", 1)
    mounted = {line.split()[1]: line.split()[2:4] for line in mounts.splitlines()}
    # find -xdev stays on the root file system but lists the mount points on it: every
    # world-writable folder it finds is a mount of its own (scratch or the cache volume), or
    # one nothing needs.
    found = set(writable.split())
    assert found - NOT_NEEDED == SCRATCH | {"/cache"}, found
    assert all(folder in mounted for folder in found - NOT_NEEDED)
    assert not NOT_NEEDED & set(mounted)
    assert mounted["/"][1].split(",")[0] == "ro"
    for folder in SCRATCH:
        kind, options = mounted[folder]
        assert kind == "tmpfs", folder
        assert {"rw", "noexec", "nosuid", "nodev"} <= set(options.split(",")), folder
    assert mounted["/cache"][1].startswith("rw")
    assert mounted["/home/lab/work"][1].startswith("rw")


def test_the_image_cannot_be_changed_from_inside(lab_stack):
    done = exec_lab(lab_stack, "sh", "-c", "touch /run/lock/x; touch /opt/lab-venv/x", check=False)
    assert done.returncode != 0
    assert done.stderr.count("Read-only file system") == 2, done.stderr


def test_home_and_tmp_are_writable_and_hold_jupyters_runtime_files(lab_stack):
    script = (
        "set -e; echo a > $HOME/.probe; echo b > /tmp/probe; "
        "ls $HOME/.local/share/jupyter/runtime | grep -c '^jpserver-.*json$'"
    )
    assert exec_lab(lab_stack, "sh", "-c", script).stdout.strip() == "1"
