"""Device nodes: which group a device needs, if any. Root's group is never one of them."""

from __future__ import annotations

import pytest
from labkit.hostfacts.devices import DeviceFile


@pytest.mark.parametrize(
    ("gid", "mode", "group"),
    [
        pytest.param(110, 0o660, 110, id="render-group-0660"),
        pytest.param(44, 0o660, 44, id="video-group-0660"),
        pytest.param(0, 0o666, None, id="root-0666-open-to-everyone"),
        pytest.param(110, 0o666, None, id="render-0666-open-to-everyone"),
        pytest.param(0, 0o660, None, id="root-group-never-given"),
        pytest.param(110, 0o600, None, id="owner-only-no-group-helps"),
        pytest.param(110, 0o640, None, id="group-read-only-no-group-helps"),
    ],
)
def test_group_to_add(gid, mode, group):
    assert DeviceFile("/dev/kfd", 0, gid, mode).group_to_add == group
