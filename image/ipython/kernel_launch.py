"""The lab's Python kernels start here (kernel.json: `python {resource_dir}/launch.py -f
{connection_file}`), instead of `python -m ipykernel_launcher`.

`python -m` puts the current folder, the notebook's, first on sys.path before anything is
imported, and ipykernel's launcher takes it out only after runpy, pathlib and what they import
are loaded: a student's `re.py`, `types.py`, `enum.py`, `functools.py`, `collections.py` or
`pathlib.py` beside a notebook stopped its kernel from starting (16 such names with ipykernel
7.4; tests/stack/test_work_folder_names.py). Started from a file, Python puts that file's
folder first instead; it is removed before anything else is imported, so the kernel loads
only the image's modules, and IPython then adds the notebook's folder itself, after the
standard library and before the installed packages (InteractiveShellApp.init_path), as it
always has: notebooks import their own modules from their folder.
"""

import sys

del sys.path[0]  # this file's folder, the kernel spec's; never the notebook's

from ipykernel import kernelapp  # noqa: E402

kernelapp.launch_new_instance()
