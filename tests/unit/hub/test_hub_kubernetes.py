"""deploy/kubernetes/values.yaml, checked without a cluster, Helm or the chart (none can be
downloaded here):

1. against an excerpt of the chart's values schema (tests/unit/fixtures/z2jh, provenance in
   its header): the keys we set exist there, with the right types;
2. rendered into the pod each profile gets, by the KubeSpawner the chart's hub runs, after
   the same values -> KubeSpawner mapping the chart's jupyterhub_config.py applies
   (jupyterhub/zero-to-jupyterhub-k8s, jupyterhub/files/hub/jupyterhub_config.py at commit
   cbdd5403877b47bbeeed8b5b21bdbf3bc3b93e2a);
3. its hub.config keys against the traits of the classes they configure.
What only a cluster can show: that the device plugins hand out the cards, that the render
GIDs are right for the nodes, that the chart release's JupyterHub is 5.5.
"""

from __future__ import annotations

import asyncio
import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
VALUES = yaml.safe_load((REPO / "deploy" / "kubernetes" / "values.yaml").read_text())
SCHEMA = yaml.safe_load((REPO / "tests" / "unit" / "fixtures" / "z2jh" / "values-schema-excerpt.yaml").read_text())

# singleuser.<key> -> KubeSpawner trait, as the chart's jupyterhub_config.py maps them
# (its set_config_if_not_none table, plus image name:tag, cmd and defaultUrl set apart).
CHART_MAPPING = {
    "uid": "uid",
    "fsGid": "fs_gid",
    "startTimeout": "start_timeout",
    "memory.limit": "mem_limit",
    "memory.guarantee": "mem_guarantee",
    "cpu.limit": "cpu_limit",
    "cpu.guarantee": "cpu_guarantee",
    "extraEnv": "environment",
    "profileList": "profile_list",
    "cmd": "cmd",
    "defaultUrl": "default_url",
}
# image and storage are mapped below; networkPolicy becomes the chart's NetworkPolicy resource
# (templates/singleuser/netpol.yaml), not part of the pod.
HANDLED_APART = {"image", "storage", "networkPolicy"}
OFFLINE_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: offline, cluster: {server: "https://127.0.0.1:9"}}]
contexts: [{name: offline, context: {cluster: offline, user: offline}}]
current-context: offline
users: [{name: offline, user: {}}]
"""


def test_values_validate_against_the_charts_schema_excerpt():
    jsonschema.Draft7Validator(SCHEMA).validate(VALUES)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param(("singleuser", "storage", "homeMountPth"), "/home/lab/work", id="misspelt-key"),
        pytest.param(("singleuser", "uid"), "1000", id="uid-as-string"),
        pytest.param(("cull", "timeout"), "1h", id="timeout-as-text"),
        pytest.param(("singleuser", "storage", "type"), "hostPath", id="unknown-storage-type"),
    ],
)
def test_the_schema_check_refuses_what_the_chart_would(path, value):
    broken = copy.deepcopy(VALUES)
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(SCHEMA).validate(broken)


def kubespawner_config(values: dict):
    from traitlets.config import Config

    singleuser = values["singleuser"]
    unmapped = set(singleuser) - {key.split(".")[0] for key in CHART_MAPPING} - HANDLED_APART
    assert not unmapped, f"values set singleuser keys this check does not map: {unmapped}"
    config = Config()
    for key, trait in CHART_MAPPING.items():
        node = singleuser
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            config.KubeSpawner[trait] = copy.deepcopy(node)
    config.KubeSpawner.image = f"{singleuser['image']['name']}:{singleuser['image']['tag']}"
    assert singleuser["storage"]["type"] == "dynamic"
    config.KubeSpawner.volumes = [{"name": "home", "persistentVolumeClaim": {"claimName": "claim-{username}"}}]
    config.KubeSpawner.volume_mounts = [{"mountPath": singleuser["storage"]["homeMountPath"], "name": "home"}]
    return config


def render(slug: str, monkeypatch, tmp_path):
    """The pod KubeSpawner would create for a student who picked profile `slug`."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(OFFLINE_KUBECONFIG)  # KubeSpawner loads one; nothing is contacted
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    from kubespawner import KubeSpawner

    async def pod():
        spawner = KubeSpawner(config=kubespawner_config(VALUES), _mock=True)
        spawner.user_options = {"profile": slug}
        await spawner.load_user_options()
        return await spawner.get_pod_manifest()

    return asyncio.run(pod())


@pytest.mark.parametrize(
    ("slug", "image_tag", "gpu_limit", "flavour", "require_gpu"),
    [
        pytest.param("cpu", "2.20.0-cpu", None, "cpu", "false", id="cpu"),
        pytest.param("nvidia", "2.20.0-nvidia", ("nvidia.com/gpu", "1"), "nvidia", "true", id="nvidia"),
        pytest.param("amd", "2.20.0-rocm", ("amd.com/gpu", "1"), "rocm", "true", id="amd"),
    ],
)
def test_each_profile_renders_the_pod_its_students_need(
    slug, image_tag, gpu_limit, flavour, require_gpu, monkeypatch, tmp_path
):
    pod = render(slug, monkeypatch, tmp_path)
    container = pod.spec.containers[0]
    env = {item.name: item.value for item in container.env}
    assert container.image.endswith(f":{image_tag}")
    assert container.args == ["hub"]
    assert container.command is None  # the image's ENTRYPOINT (python -m labkit) stays
    assert env["LAB_FLAVOUR"] == flavour
    assert env["LAB_REQUIRE_GPU"] == require_gpu
    assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    gpu_keys = {key for key in container.resources.limits if key.endswith("/gpu")}
    if gpu_limit is None:
        assert gpu_keys == set()
    else:
        assert gpu_keys == {gpu_limit[0]}
        assert container.resources.limits[gpu_limit[0]] == gpu_limit[1]


def test_every_pod_runs_as_the_images_user_with_its_work_volume(monkeypatch, tmp_path):
    pod = render("cpu", monkeypatch, tmp_path)
    container = pod.spec.containers[0]
    assert container.security_context["runAsUser"] == 1000
    assert container.security_context["allowPrivilegeEscalation"] is False
    assert pod.spec.security_context["fsGroup"] == 1000
    assert [mount.mount_path for mount in container.volume_mounts] == ["/home/lab/work"]


def test_the_amd_profile_adds_the_render_and_video_groups(monkeypatch, tmp_path):
    assert render("amd", monkeypatch, tmp_path).spec.security_context["supplementalGroups"] == [110, 44]
    assert "supplementalGroups" not in render("nvidia", monkeypatch, tmp_path).spec.security_context


@pytest.mark.parametrize(
    ("section", "module", "class_name"),
    [
        pytest.param("JupyterHub", "jupyterhub.app", "JupyterHub", id="JupyterHub"),
        pytest.param("Authenticator", "jupyterhub.auth", "Authenticator", id="Authenticator"),
        pytest.param("NativeAuthenticator", "nativeauthenticator", "NativeAuthenticator", id="NativeAuthenticator"),
        pytest.param("ClassAuthenticator", "courselab_hub.accounts", "ClassAuthenticator", id="ClassAuthenticator"),
    ],
)
def test_hub_config_keys_are_traits_of_their_classes(section, module, class_name):
    import importlib

    cls = getattr(importlib.import_module(module), class_name)
    traits = set(cls.class_trait_names(config=True))
    assert set(VALUES["hub"]["config"][section]) <= traits


def set_file_flags() -> dict[str, Path]:
    """extraFiles key -> repository file, from the helm command in deploy/README.md."""
    readme = (REPO / "deploy" / "README.md").read_text()
    flags = re.findall(r"--set-file hub\.extraFiles\.([\w-]+)\.stringData=(\S+)", readme)
    return {key: REPO / path for key, path in flags}


def test_every_mounted_file_has_its_set_file_flag_and_the_file_exists():
    flags = set_file_flags()
    assert set(flags) == set(VALUES["hub"]["extraFiles"])
    for key, path in flags.items():
        assert path.is_file(), f"{key}: {path} is not in the repository"


def test_the_mounted_files_give_the_authenticator_and_templates_the_values_name(tmp_path):
    """The hub pod's file system as the chart mounts hub.extraFiles (each file at its
    mountPath), with the values' PYTHONPATH: JupyterHub must find the class and the pages."""
    root = tmp_path / "pod"
    for key, path in set_file_flags().items():
        mounted = root / VALUES["hub"]["extraFiles"][key]["mountPath"].lstrip("/")
        mounted.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, mounted)
    config = VALUES["hub"]["config"]
    module, _, name = config["JupyterHub"]["authenticator_class"].rpartition(".")
    probe = f"import importlib; print(getattr(importlib.import_module({module!r}), {name!r}).__mro__[1].__name__)"
    env = {**os.environ, "PYTHONPATH": str(root / VALUES["hub"]["extraEnv"]["PYTHONPATH"].lstrip("/"))}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "NativeAuthenticator"
    for folder in config["JupyterHub"]["template_paths"]:
        pages = {page.name for page in (root / folder.lstrip("/")).iterdir()}
        assert pages == {"authorization-area.html", "courselab-confirm.html"}


def test_the_values_name_the_same_account_rule_as_the_compose_hub():
    from courselab_hub import usernames

    assert VALUES["hub"]["config"]["Authenticator"]["username_pattern"] == usernames.PATTERN


def test_students_get_their_own_subdomains_over_https_and_the_proxy_routes_by_host():
    assert VALUES["hub"]["config"]["JupyterHub"]["subdomain_host"].startswith("https://")
    assert VALUES["hub"]["config"]["JupyterHub"]["cookie_host_prefix_enabled"] is True
    assert "--host-routing" in VALUES["proxy"]["chp"]["extraCommandLineFlags"]


def test_students_pods_take_connections_from_the_hub_and_proxy_only_and_reach_no_private_address():
    policy = VALUES["singleuser"]["networkPolicy"]
    assert policy["enabled"] is True
    assert policy["allowedIngressPorts"] == []
    assert policy["egressAllowRules"]["privateIPs"] is False
