"""One instructor's release of the CPU image for the whole run (session fixture), pushed to the
local registry: the release/export/import tests and the no-pull test's digest pin share it,
so the 2 GB image is built, checked and pushed once.

`lab()` runs `scripts/lab` in-process with a real World (real Docker), capturing its output."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from dockerlab import run
from labhost import cli
from labhost.world import World


def lab(argv: list[str], **world_fields) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    world = World(out=out, err=err, interactive=lambda a, cwd: run(list(a), cwd=cwd, check=False).returncode,
                  **world_fields)  # fmt: skip
    code = cli.main(argv, world)
    return code, out.getvalue(), err.getvalue()


# Registered by name, so a test module imports the function without its parameters shadowing it.
@pytest.fixture(scope="session", name="released_cpu")
def released_cpu_fixture(standin_images, cpu_lab_image, local_registry, tmp_path_factory):
    """`scripts/lab release` of the CPU flavour twice with nothing changed: the first pushes to
    the local registry, the second (no registry: its push would only find every layer there)
    shows what a repeated release gives."""
    term = f"t{uuid.uuid4().hex[:8]}"
    folder = tmp_path_factory.mktemp("release")
    registry = f"{local_registry.host}/course"
    argv = ["release", "--term", term, "--flavour", "cpu", "--output", str(folder)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAB_BASE_IMAGE", standin_images["cpu"])
        code, out, err = lab([*argv, "--registry", registry])
        assert code == 0, out + err
        first = json.loads((folder / term / "cpu.json").read_text())
        code, out2, err2 = lab(argv)
        assert code == 0, out2 + err2
        second = json.loads((folder / term / "cpu.json").read_text())
    yield {"term": term, "folder": folder, "first": first, "second": second, "out": out, "registry": registry}
    for ref in (first["image"]["tag"], f"{registry}/lab:{term}-cpu", first["image"]["published"]):
        run(["docker", "image", "rm", ref], check=False)
