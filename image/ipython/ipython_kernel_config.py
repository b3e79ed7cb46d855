# Kernels of the lab (IPython reads this from sys.prefix/etc/ipython, the lab venv):
# `%pip` goes through the lab's pip guard, which explains in one line why an install that
# would replace a package of the image is refused (scripts/labkit/pipguard.py).
c = get_config()  # noqa: F821 - IPython's config loader provides it
c.InteractiveShellApp.extensions = ["labkit.pipmagic"]
