#!/bin/sh
# The one lab-layer recipe, shared by Dockerfile (CPU/NVIDIA) and Dockerfile.rocm.
#
# The vendor's TensorFlow stays exactly as shipped: we add a venv that sees the system
# packages (--system-site-packages) and install into it only from this flavour's hashed lock
# (image/locks/<flavour>.txt, made by `scripts/lab lock` inside the base image), and only the
# locked packages the base does not already have. Works on bases that enforce PEP 668
# (Ubuntu 24.04): we never pip-install into the system Python. `baseline.py verify` fails the
# build if any base package was replaced or shadowed anyway.
set -eu

: "${LAB_VENV:?LAB_VENV must be set by the Dockerfile}"
build_dir=$(dirname "$0")
base_python=$(command -v python3)

# The lab's own Python runs with -P (never looking in the current folder: the work folder), which
# Python has had since 3.11. Every base we pin has 3.11 or 3.12; an older one gets one line.
"$base_python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "lab layer: the base image's Python is $("$base_python" -V 2>&1); the lab needs Python 3.11 or newer" \
        "(for python -P). Fix: choose a base image with Python 3.11+ (LAB_BASE_IMAGE in .env)" >&2
    exit 1
}

# A lock older than requirements-lab.txt would install yesterday's list: refuse, in one line.
"$base_python" "$build_dir/lockfile.py" check-inputs "$build_dir/lock.txt" \
    "$build_dir/requirements-lab.txt" "$build_dir/lock-exclude.txt"

# --without-pip: Debian and Ubuntu ship ensurepip separately (python3-venv), and the base's
# own pip, visible through the system site packages, installs into the venv just as well.
"$base_python" -m venv --system-site-packages --without-pip "$LAB_VENV"
"$base_python" "$build_dir/baseline.py" freeze > "$LAB_VENV/base-constraints.txt"
echo "lab layer: $(wc -l < "$LAB_VENV/base-constraints.txt") base packages pinned"
# What pip check already says about the base alone is the vendor's, not ours.
"$base_python" -m pip check > "$build_dir/base-pip-check.txt" 2>&1 || true

"$base_python" "$build_dir/lockfile.py" installable "$build_dir/lock.txt" "$LAB_VENV/base-constraints.txt" \
    > "$build_dir/install.txt"
# --no-deps: the lock is the whole tree, so pip resolves nothing and fetches nothing else;
# --require-hashes: every file must match the hash the lock recorded; wheels only, except
# what requirements-lab.txt names (carried into the lock). --no-build-isolation: a source-only
# package builds with the base's setuptools instead of fetching an unhashed one.
"$LAB_VENV/bin/python" -m pip install --no-cache-dir --no-deps --require-hashes --no-build-isolation \
    --requirement "$build_dir/install.txt"
"$LAB_VENV/bin/python" "$build_dir/lockfile.py" pip-check "$build_dir/lock-exclude.txt" "$build_dir/base-pip-check.txt"
# Files of lab packages that nothing in the lab reads (the hub's web pages): removed in this
# same step, so they never reach the image (image/lab-layer-trim.txt says what and why).
"$LAB_VENV/bin/python" "$build_dir/layertrim.py" "$build_dir/lab-layer-trim.txt"
"$LAB_VENV/bin/python" "$build_dir/baseline.py" verify "$LAB_VENV/base-constraints.txt"

# A CUDA build of TensorFlow opens CUDA libraries the base may lack (the official -gpu images
# carry cuDNN 8.9; TensorFlow 2.18 and newer open cuDNN 9). The nvidia lock carries the wheels
# of TensorFlow's own `and-cuda` extra (image/lock-inputs/nvidia.py); cuda_libs.py puts them on
# the loader's path and proves TensorFlow can open every library it needs, or the build fails.
# Nothing happens here for CPU and ROCm builds (no and-cuda requirements to print).
cuda_requirements=$("$base_python" "$build_dir/cuda_libs.py" requirements)
if [ -n "$cuda_requirements" ]; then
    "$LAB_VENV/bin/python" "$build_dir/cuda_libs.py" register
    "$LAB_VENV/bin/python" "$build_dir/cuda_libs.py" check || {
        echo "lab layer: Fix: build with the lock that carries TensorFlow's CUDA wheels (LAB_LOCK=nvidia," \
            "as compose.nvidia.yaml does; \`scripts/lab lock --flavour nvidia\` re-makes it)" >&2
        exit 1
    }
fi

# The full package list of the lab environment: the release manifest and the report bundle
# read it, and students' `pip install` is held to it (PIP_CONSTRAINT in the Dockerfile).
"$LAB_VENV/bin/python" "$build_dir/baseline.py" freeze > "$LAB_VENV/lab-packages.txt"
"$LAB_VENV/bin/python" "$build_dir/baseline.py" constraints > "$LAB_VENV/constraints.txt"
cp "$build_dir/lock.txt" "$LAB_VENV/lock.txt"

# `pip` in a terminal or `!pip` in a notebook: the guard says in one line why an install that
# would replace a package of the image is refused (labkit/pipguard.py). pip3.X too: the base's
# own pip3.X comes next on PATH and would install past the guard. -P -s: see the Dockerfile's
# ENTRYPOINT; the guard starts pip itself with -P only (pip must see the user site).
python_version=$("$base_python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
for name in pip pip3 "pip$python_version"; do
    printf '#!/bin/sh\nexec "%s/bin/python" -P -s -m labkit.pipguard "$@"\n' "$LAB_VENV" > "$LAB_VENV/bin/$name"
    chmod 0755 "$LAB_VENV/bin/$name"
done

# HOME and the cache volume's mount point must be writable for whatever LAB_UID the
# student has (any number), hence world-writable with the sticky bit, like /tmp. Docker
# copies /cache's mode into a new named volume on first mount; so too for the volume VS Code
# keeps its server in (~/.vscode-server, .devcontainer/compose.vscode.yaml). Without VS Code
# the folder stays hidden under HOME's tmpfs (compose.yaml).
mkdir -p /home/lab/work /cache /home/lab/.vscode-server
chmod 1777 /home/lab /cache /home/lab/.vscode-server
chmod 0755 /home/lab/work
# The image's default user (USER 1000:1000) owns the work folder: a new Docker volume mounted
# there (a hub's per-student volume) copies this owner, so the server can write to it. The
# laptop lab bind-mounts the student's own folder over it, so this never matters there.
chown 1000:1000 /home/lab/work
