#!/bin/sh
# The one lab-layer recipe, shared by Dockerfile (CPU/NVIDIA) and Dockerfile.rocm.
#
# The vendor's TensorFlow stays exactly as shipped: we add a venv that sees the system
# packages (--system-site-packages) and install into it with every base package pinned
# (constraints frozen from the base). Works on bases that enforce PEP 668 (Ubuntu 24.04):
# we never pip-install into the system Python. `baseline.py verify` fails the build if any
# base package was replaced or shadowed anyway.
set -eu

: "${LAB_VENV:?LAB_VENV must be set by the Dockerfile}"
build_dir=$(dirname "$0")
base_python=$(command -v python3)

# --without-pip: Debian and Ubuntu ship ensurepip separately (python3-venv), and the base's
# own pip, visible through the system site packages, installs into the venv just as well.
"$base_python" -m venv --system-site-packages --without-pip "$LAB_VENV"
"$base_python" "$build_dir/baseline.py" freeze > "$LAB_VENV/base-constraints.txt"
echo "lab layer: $(wc -l < "$LAB_VENV/base-constraints.txt") base packages pinned"

"$LAB_VENV/bin/python" -m pip install --no-cache-dir \
    --constraint "$LAB_VENV/base-constraints.txt" \
    --requirement "$build_dir/requirements-lab.txt"
"$LAB_VENV/bin/python" "$build_dir/baseline.py" verify "$LAB_VENV/base-constraints.txt"

# The full package list of the lab environment, kept in the image for the report bundle.
"$LAB_VENV/bin/python" "$build_dir/baseline.py" freeze > "$LAB_VENV/lab-packages.txt"

# HOME and the cache volume's mount point must be writable for whatever LAB_UID the
# student has (any number), hence world-writable with the sticky bit, like /tmp. Docker
# copies /cache's mode into a new named volume on first mount.
mkdir -p /home/lab/work /cache
chmod 1777 /home/lab /cache
chmod 0755 /home/lab/work
