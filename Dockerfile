# The course lab image for CPU and NVIDIA machines.
#
#   docker compose build                                   CPU (the default base below)
#   docker compose -f compose.yaml -f compose.nvidia.yaml build   NVIDIA (the -gpu base)
#
# BASE_IMAGE is an official TensorFlow image; we keep its TensorFlow exactly as shipped.
# How the default was chosen: the newest tensorflow/tensorflow release tag that has both a
# CPU and a -gpu variant and whose TensorFlow is on PyPI for Python 3.11 (2.20.0). Tags are
# never "latest": the whole class must get the same image. Instructors change it in .env
# (LAB_BASE_IMAGE), and the image name/tag they hand out in LAB_IMAGE.
#
# NVIDIA (compose.nvidia.yaml): tensorflow/tensorflow:2.20.0-gpu, because it is the official
# image with the CUDA build of TensorFlow (the CPU tag has tensorflow-cpu, which cannot use a
# GPU) and NVIDIA's container settings (nvidia/cuda base). It is incomplete: CUDA 12.3 and
# cuDNN 8.9 (tensorflow/build's gpu.packages.txt) under a TensorFlow that opens cuDNN 9, so on
# its own it runs on the CPU (tensorflow/build#221). No official tag fixes that, so the nvidia
# lock adds TensorFlow's own and-cuda wheels and the build proves every library TensorFlow
# opens can be loaded (image/cuda_libs.py); the base's own CUDA 12.3 stays, unused.
ARG BASE_IMAGE=tensorflow/tensorflow:2.20.0
# arm64 (Apple silicon Macs, arm64 Linux): tensorflow/tensorflow is amd64 only, so the arm64
# base is built from image/Dockerfile.arm64-base (Python plus TensorFlow's aarch64 wheel) and
# named in LAB_BASE_IMAGE; this recipe is the same on both (see the README).
FROM ${BASE_IMAGE}

# Which lock in image/locks/ the lab layer installs: cpu here, nvidia from compose.nvidia.yaml
# (the same packages plus the CUDA wheels TensorFlow asks for).
ARG LAB_LOCK=cpu
LABEL org.opencontainers.image.title="course lab" \
      org.opencontainers.image.description="JupyterLab and the course's tools on a vendor TensorFlow image"

# CUDA compiles the kernels a card has no prebuilt code for from PTX on first use (minutes for
# TensorFlow): keep them on the cache volume, up to the documented maximum (4 GiB), so a
# recreated container does not compile them again (as Dockerfile.rocm does for MIOpen).
ENV CUDA_CACHE_PATH=/cache/cuda \
    CUDA_CACHE_MAXSIZE=4294967296

# ==== common lab recipe: Dockerfile and Dockerfile.rocm carry this block byte for byte ====
# (tests/unit/test_dockerfiles.py). Flavour-specific lines go above it.
ENV LAB_VENV=/opt/lab-venv
# The venv's python comes first, so `python`, `jupyter` and kernels all use the lab layer.
# HOME is fixed and world-writable (see install-lab-layer.sh): containers run as the host
# user's UID, which has no entry in /etc/passwd here.
ENV PATH=/opt/lab-venv/bin:$PATH \
    HOME=/home/lab \
    PYTHONPATH=/opt/labkit \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/cache/matplotlib \
    TFDS_DATA_DIR=/cache/tensorflow_datasets \
    KERAS_HOME=/cache/keras \
    PIP_CACHE_DIR=/cache/pip \
    XDG_CACHE_HOME=/cache/xdg

# The lab layer, installed from this flavour's hashed lock only (image/locks/, made by
# `scripts/lab lock`). Only its own inputs are copied first, so editing scripts/ or lab/
# never reinstalls Python packages.
COPY image/requirements-lab.txt image/lock-exclude.txt image/install-lab-layer.sh image/baseline.py image/lockfile.py \
     image/cuda_libs.py image/layertrim.py image/lab-layer-trim.txt /opt/lab-build/
COPY image/locks/${LAB_LOCK}.txt /opt/lab-build/lock.txt
RUN sh /opt/lab-build/install-lab-layer.sh && rm -rf /opt/lab-build /root/.cache
# Students' `pip install` (terminal, `!pip`, `%pip`): into the cache volume, so it persists
# across restarts and `down`, and held to the image's versions (constraints.txt, written by
# the line above), so it can add packages but never replace one of the image's.
ENV PYTHONUSERBASE=/cache/python-user \
    PIP_USER=1 \
    PIP_CONSTRAINT=/opt/lab-venv/constraints.txt
COPY image/ipython/ipython_kernel_config.py /opt/lab-venv/etc/ipython/ipython_kernel_config.py
# Kernels start from the lab's launcher, so a student's re.py or types.py beside a notebook
# cannot stop its kernel from starting (image/ipython/kernel_launch.py says why and how).
COPY image/ipython/kernel_launch.py /opt/lab-venv/share/jupyter/kernels/python3/launch.py
COPY image/ipython/kernelspec.py /opt/lab-build/kernelspec.py
RUN python -P /opt/lab-build/kernelspec.py /opt/lab-venv/share/jupyter/kernels/python3 && rm -rf /opt/lab-build

# JupyterLab defaults for every user: no news or update pop-ups in a classroom.
COPY image/jupyter/overrides.json /opt/lab-venv/share/jupyter/lab/settings/overrides.json
# Terminals keep the lab's PATH (no login shell); see the file.
COPY image/jupyter/jupyter_server_config.py /opt/lab-venv/etc/jupyter/jupyter_server_config.py

# Our code and the course material change most often: last.
COPY scripts/labkit /opt/labkit/labkit
COPY scripts/labtrain /opt/labkit/labtrain
COPY lab /opt/lab/course
# The pages the lab's messages and notebooks link to, also in the student's course folder.
COPY docs/troubleshooting*.md docs/datasets*.md /opt/lab/course/docs/

WORKDIR /home/lab/work
# Any non-root UID works; compose sets the student's own with `user:`.
USER 1000:1000
EXPOSE 8888
# Healthy once the GPU check passed and JupyterLab answers (labkit/health.py), for compose,
# `docker run` and hubs alike; -S skips site-packages, so a probe costs milliseconds.
# The lab's own Python never looks in the work folder, its current folder (-P: a student's
# random.py or numpy.py there would stand in for Python's or the image's), nor, where it does
# not need them, at the student's own installs (-s: the user site on the cache volume).
HEALTHCHECK --interval=10s --timeout=20s --start-period=300s --retries=3 \
    CMD ["python", "-P", "-S", "-m", "labkit", "health", "--wait", "15"]
ENTRYPOINT ["python", "-P", "-s", "-m", "labkit"]
CMD ["lab"]
# ==== end of the common lab recipe ====
