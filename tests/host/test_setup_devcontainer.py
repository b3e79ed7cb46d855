"""`scripts/lab setup` names the VS Code dev container that runs this computer's lab, in the
student's language, whether it wrote .env or found it up to date."""

from __future__ import annotations

import pytest
from fakehost import REPO
from fakeworld import make_world, out
from labhost import cli, compose

CASES = {"rx6700xt": "rocm", "nvidia-toolkit": "nvidia", "no-gpu": "cpu"}


@pytest.mark.parametrize(("fixture", "flavour"), CASES.items())
def test_setup_names_the_dev_container_of_the_stack_it_chose(tmp_path, monkeypatch, fixture, flavour) -> None:
    monkeypatch.setenv("LAB_LANG", "en")
    world = make_world(tmp_path, fixture)
    path, name = compose.devcontainer(flavour)

    assert cli.main(["setup"], world) == 0
    assert out(world).startswith(f"Stack: {flavour} (")
    assert f'In VS Code: "Dev Containers: Reopen in Container", then "{name}" ({path})' in out(world)


def test_setup_names_it_again_when_env_is_up_to_date(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LAB_LANG", "en")
    world = make_world(tmp_path, "rx6700xt")
    cli.main(["setup"], world)
    cli.main(["setup"], world)

    assert out(world).count('then "Course lab (ROCm)" (.devcontainer/rocm/devcontainer.json)') == 2


def test_setup_names_it_in_vietnamese(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LAB_LANG", "vi")
    world = make_world(tmp_path, "rx6700xt")
    cli.main(["setup"], world)

    assert (
        'Trong VS Code: chọn "Dev Containers: Reopen in Container", rồi chọn "Course lab (ROCm)" '
        "(.devcontainer/rocm/devcontainer.json)"
    ) in out(world)


def test_each_flavours_dev_container_is_in_the_repository() -> None:
    for flavour in compose.COMPOSE_FILES:
        path, name = compose.devcontainer(flavour)
        assert (REPO / path).is_file(), path
        assert f'"name": "{name}"' in (REPO / path).read_text()
