# Kernels of the lab (IPython reads this from sys.prefix/etc/ipython, the lab venv):
# - `%pip` goes through the lab's pip guard, which explains in one line why an install that
#   would replace a package of the image is refused (scripts/labkit/pipguard.py);
# - labkit.kernel_notes tells the student, in the first cell they run, when the previous
#   kernel was killed because the lab ran out of memory (scripts/labkit/kernel_notes.py);
# - labkit.namesakes tells them, in the same way, which file in the notebook's folder has the
#   name of a module of Python or of the image, and so takes its place (scripts/labkit/namesakes.py).
c = get_config()  # noqa: F821 - IPython's config loader provides it
c.InteractiveShellApp.extensions = ["labkit.pipmagic", "labkit.kernel_notes", "labkit.namesakes"]
