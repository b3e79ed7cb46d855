"""A tiny image made the way the lab image is (a `docker import`ed root file system, then
BuildKit steps through `docker compose build`), on whichever engine DOCKER_HOST names, and its
`docker save` archive: the real archives of each engine world, small enough to commit
(tests/host/fixtures/docker/save/) or to make again in a test.

    COURSELAB_TEST_NS=... python3 tests/tinyimage.py     regenerate the committed archives
                                                          (needs the Engine 26 pair of
                                                          /work/team/engine26.sh, or ENGINES)
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import tarfile
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAVED = REPO / "tests" / "host" / "fixtures" / "docker" / "save"
# The marker release looks for in the build history (labhost.commands.release.INSTALL_STEP):
# here a COPY of a file with that name, so the image needs no shell.
MARKER = "install-lab-layer.sh"
DOCKERFILE = f"""ARG BASE_IMAGE
FROM ${{BASE_IMAGE}}
ENV COURSE=tiny
COPY {MARKER} /opt/lab-build/{MARKER}
LABEL org.courselab.tiny=1
COPY note.txt /opt/note.txt
"""
# The committed worlds: file name -> DOCKER_HOST (empty: the default engine).
ENGINES = {
    "engine20-default": "",
    "engine26-default": "unix:///run/cle26/docker.sock",
    "engine26-containerd": "unix:///run/cle26c/docker.sock",
}


def rootfs(seed: int = 20) -> bytes:
    """A root file system of one incompressible file (so a flipped byte lands in real data)."""
    data = random.Random(seed).randbytes(16 * 1024)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("payload.bin")
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def docker(args: list[str], *, host: str | None, **kwargs) -> subprocess.CompletedProcess:
    """On the engine `host` names ("": the default socket; None: whatever DOCKER_HOST says)."""
    env = dict(os.environ)
    if host is not None:
        env.pop("DOCKER_HOST", None)
        env.update({"DOCKER_HOST": host} if host else {})
    done = subprocess.run(["docker", *args], env=env, capture_output=True, timeout=600, **kwargs)
    if done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]!r}")
    return done


def build(tag: str, *, host: str | None = None, note: str = "tiny") -> None:
    """`tag`: the imported base, then the BuildKit steps above (as compose builds the lab)."""
    base = f"{tag.rsplit(':', 1)[0]}-base:{uuid.uuid4().hex[:8]}"
    docker(["import", "-", base], host=host, input=rootfs())
    try:
        with tempfile.TemporaryDirectory() as folder:
            context = Path(folder)
            (context / "Dockerfile").write_text(DOCKERFILE)
            (context / MARKER).write_text("echo the lab layer\n")
            (context / "note.txt").write_text(note + "\n")
            spec = {"services": {"tiny": {"image": tag, "build": {"context": folder, "args": {"BASE_IMAGE": base}}}}}
            (context / "build.yaml").write_text(json.dumps(spec))
            project = f"tiny{uuid.uuid4().hex[:8]}"
            docker(["compose", "-p", project, "-f", str(context / "build.yaml"), "build", "--quiet"], host=host)
    finally:
        docker(["image", "rm", base], host=host)


def save(tag: str, *, host: str | None = None) -> bytes:
    return docker(["save", tag], host=host).stdout


def regenerate() -> None:
    SAVED.mkdir(parents=True, exist_ok=True)
    tag = "courselab-test/tiny:fixture"
    for name, host in ENGINES.items():
        build(tag, host=host)
        try:
            (SAVED / f"{name}.tar").write_bytes(save(tag, host=host))
            version = docker(["version", "--format", "{{.Server.Version}}"], host=host).stdout.decode().strip()
            print(f"{name}: Engine {version}, {len((SAVED / f'{name}.tar').read_bytes())} bytes")
        finally:
            docker(["image", "rm", tag], host=host)


if __name__ == "__main__":
    regenerate()
