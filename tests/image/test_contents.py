"""labkit.contents in the real CPU image (jupyter_server lives there, not in the test venv):
a save replaces the file in one step, and a save that fails half-way leaves the old file."""

from __future__ import annotations

from dockerlab import run

SAVES = """
import os, tempfile
from labkit.contents import ReplacingFileManager

root = tempfile.mkdtemp()
manager = ReplacingFileManager(root_dir=root)
path = os.path.join(root, "notebook.ipynb")
with open(path, "w") as stream:
    stream.write("old")
inode = os.stat(path).st_ino

with manager.atomic_writing(path, text=True) as stream:
    stream.write("new")
assert open(path).read() == "new"
assert os.stat(path).st_ino != inode, "rewritten in place, not replaced"

try:
    with manager.atomic_writing(path, text=True) as stream:
        stream.write("half of a notebo")
        raise RuntimeError("killed")
except RuntimeError:
    pass
assert open(path).read() == "new", "a failed save changed the file"
assert os.listdir(root) == ["notebook.ipynb"], os.listdir(root)

# A folder the user may not write to: Jupyter's own in-place write is the only way.
locked = os.path.join(root, "locked")
os.mkdir(locked)
inside = os.path.join(locked, "a.txt")
open(inside, "w").write("old")
os.chmod(locked, 0o555)
with manager.atomic_writing(inside, text=True) as stream:
    stream.write("new")
assert open(inside).read() == "new"
print("saves are replacements")
"""


def test_saves_replace_the_file_and_a_failed_save_keeps_the_old_one(cpu_lab_image) -> None:
    done = run(["docker", "run", "--rm", "--user", "4242:4242", "--entrypoint", "python", cpu_lab_image, "-c", SAVES])

    assert done.stdout.strip() == "saves are replacements"
