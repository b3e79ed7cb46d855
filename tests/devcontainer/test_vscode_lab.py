"""The CPU lab as VS Code starts it: `devcontainer up` of .devcontainer/devcontainer.json on
the stand-in image, then `devcontainer exec` for what VS Code's terminal and extensions run.
The same lab as `docker compose up`: healthy through the image's check, JupyterLab beside it
with its token on 127.0.0.1, the host user's files, the pip guard, the lab's kernel."""

from __future__ import annotations

import json
import subprocess
import sys

import dockerlab
from devcontainers import read_configuration

WORKLOAD = dockerlab.REPO / "tests" / "workload"
sys.path.insert(0, str(WORKLOAD))

from workload_support import TINY_ARGS, TINY_DATASET, TINY_TRAIN, script_env  # noqa: E402


def lab_container(dev_lab) -> dict:
    return json.loads(dockerlab.run(["docker", "inspect", dev_lab.started["containerId"]]).stdout)[0]


def test_devcontainer_up_reaches_a_healthy_lab_in_the_tests_project(dev_lab) -> None:
    assert dev_lab.started["composeProjectName"] == dev_lab.project
    assert dev_lab.started["remoteWorkspaceFolder"] == "/home/lab/work"
    assert lab_container(dev_lab)["State"]["Health"]["Status"] == "healthy"


def test_jupyterlab_answers_beside_vscode_with_its_token_only(dev_lab) -> None:
    assert dev_lab.api("/api/status")[0] == 200
    assert dev_lab.api("/api/status", token=None)[0] == 403
    assert f"http://127.0.0.1:{dev_lab.port}/lab?token={dev_lab.token}" in dev_lab.logs()


def test_the_gpu_check_ran_as_in_the_plain_lab(dev_lab) -> None:
    logs = dev_lab.logs()

    assert "NOTICE: No GPU in the CPU lab: TensorFlow runs on the CPU." in logs
    assert "[lab] The lab is ready. Open:" in logs


def test_the_container_runs_the_labs_image_user_and_restrictions(dev_lab) -> None:
    container = lab_container(dev_lab)
    host = container["HostConfig"]

    assert container["Config"]["Image"] == dockerlab.CPU_LAB_IMAGE
    assert container["Config"]["User"] == f"{dockerlab.TEST_UID}:{dockerlab.TEST_GID}"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert set(host["Tmpfs"]) == {"/tmp", "/var/tmp", "/home/lab"}
    assert host["PortBindings"]["8888/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(dev_lab.port)}]


def test_exec_runs_as_the_host_user_in_the_work_folder(dev_lab) -> None:
    done = dev_lab.exec("sh", "-c", "id -u; id -g; pwd")

    assert done.stdout.split() == [str(dockerlab.TEST_UID), str(dockerlab.TEST_GID), "/home/lab/work"]


def test_the_pip_guard_answers_in_vscodes_terminal(dev_lab) -> None:
    # The terminal profile is bash without -l, as devcontainer.json says.
    where = dev_lab.exec("/bin/bash", "-c", "command -v pip")
    refused = dev_lab.exec("/bin/bash", "-c", "pip install tensorflow==2.19.0", check=False)

    assert where.stdout.strip() == "/opt/lab-venv/bin/pip"
    assert refused.returncode != 0
    assert "pip: tensorflow would hide the image's TensorFlow" in refused.stdout + refused.stderr


def test_a_notebook_kernel_started_in_vscode_is_the_labs_with_the_images_tensorflow(dev_lab) -> None:
    # What VS Code's Jupyter extension does in the container: start a kernel with the
    # interpreter the configuration names, then run cells in it.
    python = read_configuration(dev_lab.config)["customizations"]["vscode"]["settings"]["python.defaultInterpreterPath"]
    script = (
        "from jupyter_client.manager import start_new_kernel\n"
        "km, kc = start_new_kernel(kernel_name='python3')\n"
        "try:\n"
        "    kc.execute_interactive(\"import sys, tensorflow as tf; print('KERNEL', sys.executable, tf.__version__,"
        " len(tf.config.list_physical_devices('GPU')), 'labkit.pipmagic' in get_ipython().extension_manager.loaded)\","
        " timeout=300)\n"
        "finally:\n"
        "    kc.stop_channels(); km.shutdown_kernel(now=True)\n"
    )
    done = dev_lab.exec(python, "-c", script)
    line = next(line for line in done.stdout.splitlines() if line.startswith("KERNEL "))

    assert line.split() == ["KERNEL", python, "2.20.0", "0", "True"]


def test_train_py_runs_one_epoch_on_generated_data_and_the_results_are_the_host_users(dev_lab) -> None:
    data = dev_lab.workdir / "tfds"
    built = subprocess.run(
        [sys.executable, str(WORKLOAD / "workload_support.py"), str(data)],
        env=script_env(data),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    args = ["--dataset", TINY_DATASET, "--epochs", "1", "--no-download", *TINY_ARGS]
    done = dev_lab.exec("python", "course/train.py", *args, remote_env={"TFDS_DATA_DIR": "/home/lab/work/tfds"})
    results = dev_lab.workdir / "runs" / TINY_DATASET / "results.json"
    record = json.loads(results.read_text())

    assert "[train] device: CPU /CPU:0" in done.stdout
    assert record["device"] == "CPU:0"
    assert record["dataset"]["train_examples"] == TINY_TRAIN
    assert len(record["epochs"]) == 1
    assert results.stat().st_uid == dockerlab.TEST_UID
    assert results.stat().st_gid == dockerlab.TEST_GID


def test_scripts_lab_ps_finds_the_lab_vscode_started(dev_lab) -> None:
    done = dockerlab.run(
        [sys.executable, str(dockerlab.REPO / "scripts" / "lab"), "ps"], env=dev_lab.cli_env, cwd=dockerlab.REPO
    )

    assert f"{dev_lab.project}-lab-1" in done.stdout
    assert "(healthy)" in done.stdout


def test_work_and_vscodes_server_survive_devcontainer_up_again(dev_lab) -> None:
    # VS Code's server is a program under ~/.vscode-server: it must run there (HOME is noexec).
    dev_lab.exec("sh", "-c", "mkdir -p ~/.vscode-server/bin && cp /bin/true ~/.vscode-server/bin/server")
    dev_lab.exec("sh", "-c", "echo mine > note.txt")
    note = dev_lab.workdir / "note.txt"
    assert note.stat().st_uid == dockerlab.TEST_UID

    dev_lab.compose("stop", "lab")  # VS Code closed (its shutdownAction stops the project)
    dev_lab.devcontainer_up(healthy=False)  # ... and the folder reopened in the container
    again = dev_lab.exec("sh", "-c", "~/.vscode-server/bin/server && cat note.txt")

    assert again.stdout.strip() == "mine"
    assert note.read_text() == "mine\n"


def test_without_userenvprobe_none_vscode_would_lose_the_lab_python_and_the_pip_guard(
    devcontainer_cli, cpu_lab_image, tmp_path
) -> None:
    # VS Code's default probes a login shell for the environment, and Debian's /etc/profile
    # resets PATH. Shown on a bare container of the image with the CLI's own exec, once with
    # the configuration and once without its userEnvProbe line.
    from devcontainers import REPO, cli

    config = REPO / ".devcontainer" / "devcontainer.json"
    default_probe = tmp_path / "devcontainer.json"
    lines = config.read_text().splitlines(keepends=True)
    default_probe.write_text("".join(line for line in lines if "userEnvProbe" not in line))
    container = dockerlab.run(
        ["docker", "run", "-d", "--rm", "--user", f"{dockerlab.TEST_UID}:{dockerlab.TEST_GID}", "--read-only"]
        + ["--tmpfs", "/home/lab:mode=1777", "--tmpfs", "/tmp:mode=1777", "--entrypoint", "sleep", cpu_lab_image, "600"]
    ).stdout.strip()
    try:

        def pip_for(configuration) -> str:
            done = cli("exec", "--container-id", container, "--override-config", str(configuration), "sh", "-c",
                       "command -v pip")  # fmt: skip
            return done.stdout.strip()

        assert pip_for(config) == "/opt/lab-venv/bin/pip"
        assert pip_for(default_probe) != "/opt/lab-venv/bin/pip"
    finally:
        dockerlab.run(["docker", "rm", "-f", container], check=False)
