"""Dockerfile.rocm is Dockerfile's common lab recipe on another base: the block between the
markers is the same in both, byte for byte, and the ROCm file differs only above it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
START = "# ==== common lab recipe"
END = "# ==== end of the common lab recipe ===="
# What a flavour may add above the block: its base, build arguments, labels, environment.
FLAVOUR_INSTRUCTIONS = {"ARG", "FROM", "LABEL", "ENV"}


def split(name: str) -> tuple[str, str, str]:
    text = (REPO / name).read_text()
    assert text.count(START) == 1, f"{name}: one common block expected"
    assert text.count(END) == 1, f"{name}: one end marker expected"
    head, rest = text.split(START, 1)
    block, tail = rest.split(END, 1)
    return head, START + block + END, tail


def instructions(text: str) -> list[str]:
    """The instruction keywords of a Dockerfile fragment (continuation lines folded)."""
    # Docker drops comment lines, even inside a continued instruction, before folding.
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    folded = re.sub(r"\\\n", " ", code)
    return [line.split()[0].upper() for line in folded.splitlines() if line.strip()]


def test_common_recipe_is_identical_in_both_dockerfiles():
    assert split("Dockerfile")[1] == split("Dockerfile.rocm")[1]


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.rocm"])
def test_nothing_follows_the_common_recipe(name):
    assert split(name)[2].strip() == ""


def final_stage(head: str) -> str:
    """The part of the flavour head from its last FROM on: the lab image's own stage. Stages
    before it (Dockerfile.rocm's gpu-targets, which reads the base's GPU targets) may run
    anything; only files they copy over reach the lab image."""
    starts = [m.start() for m in re.finditer(r"^FROM ", head, re.MULTILINE)]
    return head[starts[-1] :] if starts else head


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.rocm"])
def test_flavour_part_only_sets_base_arguments_labels_and_environment(name):
    stage = final_stage(split(name)[0])
    # A file another stage made (COPY --from=...) is data, not a recipe step.
    own = "\n".join(line for line in stage.splitlines() if not line.startswith("COPY --from="))
    used = set(instructions(own))
    assert used <= FLAVOUR_INSTRUCTIONS, used - FLAVOUR_INSTRUCTIONS


def test_each_dockerfile_names_its_own_lock():
    assert "ARG LAB_LOCK=cpu" in split("Dockerfile")[0]
    assert "ARG LAB_LOCK=rocm" in split("Dockerfile.rocm")[0]
    assert "image/locks/${LAB_LOCK}.txt" in split("Dockerfile")[1]
