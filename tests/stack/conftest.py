"""Fixtures of the stack tier that several modules share."""

from __future__ import annotations

import pytest
from clicheckout import Checkout
from dockerlab import make_workdir


@pytest.fixture
def checkout(cpu_lab_image, tmp_path, tmp_path_factory):
    made = []

    def make(**settings: str) -> Checkout:
        root = tmp_path / f"course lab {len(made)}"
        root.mkdir()
        made.append(Checkout(root, make_workdir(tmp_path_factory), settings))
        return made[-1]

    yield make
    for each in made:
        each.down()
