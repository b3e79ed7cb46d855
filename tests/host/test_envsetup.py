"""labhost.envsetup: the .env that `scripts/lab setup` writes, as text in, text out."""

from __future__ import annotations

from fakehost import REPO
from labhost import envsetup
from labhost.envfile import EnvFile
from labhost.facts import User
from labhost.plan import Plan

STUDENT = User(1001, 1002, (1002,), "lan")
EXAMPLE = (REPO / ".env.example").read_text()
ROCM = Plan(
    "rocm",
    "RX 6700 XT",
    env={"LAB_FLAVOUR": "rocm", "HSA_OVERRIDE_GFX_VERSION": "10.3.0", "LAB_RENDER_GID": "110", "LAB_KFD_GID": None},
)


def token() -> str:
    return "t" * 32


def test_a_first_env_is_the_example_with_the_detected_values_filled_in() -> None:
    update = envsetup.update_env(None, EXAMPLE, ROCM, STUDENT, token=token)
    values = EnvFile.parse(update.after).values()

    assert update.before == ""
    assert update.problems == ()
    assert (values["LAB_UID"], values["LAB_GID"]) == ("1001", "1002")
    assert values["HSA_OVERRIDE_GFX_VERSION"] == "10.3.0"
    assert values["COMPOSE_FILE"] == "compose.yaml:compose.rocm.yaml"
    assert values["JUPYTER_TOKEN"] == "t" * 32
    # The example's comments stay; the template lines are filled in where they stand.
    assert update.after.startswith("# Course lab settings.")
    assert "# LAB_KFD_GID=" in update.after


def test_only_what_differs_is_changed_and_listed() -> None:
    mine = "# mine\nLAB_UID=1001\nLAB_GID=1002\nJUPYTER_TOKEN=my-own-token-1234567890\nWANDB=1\n"

    update = envsetup.update_env(mine, EXAMPLE, ROCM, STUDENT, token=token)

    assert update.changes == (
        "LAB_FLAVOUR=rocm",
        "HSA_OVERRIDE_GFX_VERSION=10.3.0",
        "LAB_RENDER_GID=110",
        "COMPOSE_FILE=compose.yaml:compose.rocm.yaml",
    )
    assert update.after.startswith(mine)


def test_a_value_the_plan_removes_is_commented_out_not_deleted() -> None:
    cpu = Plan("cpu", "no GPU", env={"LAB_FLAVOUR": "cpu", "HSA_OVERRIDE_GFX_VERSION": None})

    update = envsetup.update_env("HSA_OVERRIDE_GFX_VERSION=10.3.0\n", EXAMPLE, cpu, STUDENT, token=token)

    assert "HSA_OVERRIDE_GFX_VERSION removed (was '10.3.0')" in update.changes
    assert "# HSA_OVERRIDE_GFX_VERSION=10.3.0" in update.after


def test_a_bad_value_setup_does_not_own_is_reported_and_kept() -> None:
    update = envsetup.update_env("LAB_PORT=eighty\n", EXAMPLE, ROCM, STUDENT, token=token)

    assert [problem.problem.key for problem in update.problems] == ["LAB_PORT"]
    assert "LAB_PORT=eighty" in update.after


def test_a_second_run_changes_nothing() -> None:
    first = envsetup.update_env(None, EXAMPLE, ROCM, STUDENT, token=token)

    again = envsetup.update_env(first.after, EXAMPLE, ROCM, STUDENT, token=token)

    assert not again.changed
    assert again.changes == ()


def test_generated_tokens_pass_the_lab_check_and_differ() -> None:
    from labkit.values import token as token_check

    tokens = {envsetup.new_token() for _ in range(20)}

    assert len(tokens) == 20
    assert all(token_check("JUPYTER_TOKEN", value) is None for value in tokens)
