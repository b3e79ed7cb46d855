"""The real Dockerfiles built on stand-in bases: the vendor's TensorFlow stays untouched,
the recipe works on a PEP 668 base, and the image runs as any non-root user."""

from __future__ import annotations

import json
import os

import pytest
from dockerlab import run

LIST_PACKAGES = (
    "import json, importlib.metadata as m; "
    "print(json.dumps({d.metadata['Name'].lower().replace('_', '-'): d.version for d in m.distributions()}))"
)


def packages(image: str, python: str) -> dict[str, str]:
    out = run(["docker", "run", "--rm", "--entrypoint", python, image, "-c", LIST_PACKAGES]).stdout
    return json.loads(out.strip().splitlines()[-1])


def tf_version(image: str, python: str) -> str:
    out = run(
        ["docker", "run", "--rm", "--entrypoint", python, image, "-c", "import tensorflow as tf; print(tf.__version__)"]
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(params=["cpu", "cuda", "rocm"])
def built(request, standin_images):
    image = request.getfixturevalue(f"{request.param}_lab_image")
    return standin_images[request.param], image


def test_base_tensorflow_version_is_unchanged_by_the_lab_layer(built):
    base, image = built
    assert tf_version(image, "python") == tf_version(base, "python3")


def test_every_base_package_keeps_its_version(built):
    base, image = built
    before = packages(base, "python3")
    after = packages(image, "python")
    changed = {name: (version, after.get(name)) for name, version in before.items() if after.get(name) != version}
    assert changed == {}


def test_lab_layer_installs_nothing_over_the_base(built):
    base, image = built
    base_names = set(packages(base, "python3"))
    # Only the venv's own site-packages: what the lab layer itself installed.
    script = (
        "import json, importlib.metadata as m, site; "
        "print(json.dumps([d.metadata['Name'].lower().replace('_', '-') "
        "for d in m.distributions(path=site.getsitepackages()[:1])]))"
    )
    out = run(["docker", "run", "--rm", "--entrypoint", "python", image, "-c", script]).stdout
    in_venv = set(json.loads(out.strip().splitlines()[-1]))
    assert "jupyterlab" in in_venv
    assert in_venv & base_names == set()


def test_rocm_standin_enforces_pep_668_like_ubuntu_24_04(standin_images):
    result = run(["docker", "run", "--rm", standin_images["rocm"], "pip3", "install", "six"], check=False)
    assert result.returncode != 0
    assert "externally-managed-environment" in result.stderr


def test_rocm_image_keeps_miopen_kernels_on_the_cache_volume(rocm_lab_image):
    out = run(["docker", "image", "inspect", "--format", "{{ json .Config.Env }}", rocm_lab_image])
    env = dict(item.split("=", 1) for item in json.loads(out.stdout))
    assert env["MIOPEN_USER_DB_PATH"].startswith("/cache/")
    assert env["MIOPEN_CUSTOM_CACHE_DIR"].startswith("/cache/")


def test_image_runs_as_non_root_by_default(cpu_lab_image):
    out = run(["docker", "run", "--rm", "--entrypoint", "id", cpu_lab_image, "-u"])
    assert out.stdout.strip() != "0"


@pytest.mark.parametrize("uid", ["4242:4242", "1000:100", "65000:65000"])
def test_home_and_cache_are_writable_for_any_uid(cpu_lab_image, uid):
    script = "touch $HOME/probe && mkdir -p /cache/x && echo ok"
    out = run(["docker", "run", "--rm", "--user", uid, "--entrypoint", "sh", cpu_lab_image, "-c", script])
    assert out.stdout.strip() == "ok"


def test_gate_check_passes_on_cpu_and_reports_the_cpu_notice(cpu_lab_image):
    out = run(["docker", "run", "--rm", "--user", "4242:4242", cpu_lab_image, "check"])
    assert "NOTICE: No GPU in the CPU lab" in out.stdout
    assert "TensorFlow 2.20.0 (CPU build)" in out.stdout


def test_gate_check_json_prints_only_the_json_object_on_stdout(cpu_lab_image):
    # Tools read stdout whole (json.loads); the lines for people go to stderr.
    out = run(["docker", "run", "--rm", "--user", "4242:4242", cpu_lab_image, "check", "--json"])
    data = json.loads(out.stdout)
    assert data["verdict"]["status"] == "cpu"
    assert data["probe"]["tensorflow"] == "2.20.0"
    assert "NOTICE: No GPU in the CPU lab" in out.stderr
    assert "[lab]" not in out.stdout


def start_lab_as_student(image: str, workdir, setting: str):
    """`lab` as compose would start it (host UID, work folder mounted) with one setting."""
    os.chown(workdir, 4242, 4242)
    command = ["docker", "run", "--rm", "--user", "4242:4242", "-v", f"{workdir}:/home/lab/work"]
    return run([*command, "-e", setting, image, "lab"], check=False)


def test_gate_refuses_to_start_without_gpu_when_required(cpu_lab_image, tmp_path):
    result = start_lab_as_student(cpu_lab_image, tmp_path, "LAB_REQUIRE_GPU=true")
    assert result.returncode == 3
    assert "ERROR: No GPU in the CPU lab" in result.stdout
    # JupyterLab started beside the check; it was stopped without a word and no URL printed.
    assert "The lab is ready" not in result.stdout
    assert "/lab?token=" not in result.stdout
    assert "ServerApp]" not in result.stdout  # JupyterLab's own log lines: "[I ... ServerApp] ..."


def test_broken_setting_stops_before_anything_starts(cpu_lab_image, tmp_path):
    result = start_lab_as_student(cpu_lab_image, tmp_path, "TF_FORCE_GPU_ALLOW_GROWTH=yes")
    assert result.returncode == 2
    assert list(tmp_path.iterdir()) == []  # nothing copied, nothing written
    assert "TF_FORCE_GPU_ALLOW_GROWTH: is 'yes', but only 'true' or 'false' is read" in result.stderr
    assert "Checking TensorFlow" not in result.stdout


def test_jupyterlab_news_and_update_popups_are_off(cpu_lab_image):
    out = run(
        [
            "docker",
            "run",
            "--rm",
            "--entrypoint",
            "cat",
            cpu_lab_image,
            "/opt/lab-venv/share/jupyter/lab/settings/overrides.json",
        ]
    )
    settings = json.loads(out.stdout)["@jupyterlab/apputils-extension:notification"]
    assert settings["fetchNews"] == "false"
    assert settings["checkForUpdates"] is False
