"""Who holds which GPU, from container records in the Engine API's GET /containers/json
format (what docker-py's APIClient.containers() returns: Names with a leading slash,
Labels, State, Status)."""

from __future__ import annotations

from courselab_hub import holders


def record(name: str, user: str, gpu: str, state: str = "running", flavour: str = "nvidia") -> dict:
    return {
        "Id": f"id-{name}",
        "Names": [f"/{name}"],
        "Image": "courselab/lab:nvidia",
        "State": state,
        "Status": "Up 3 minutes" if state == "running" else "Exited (0) 1 minute ago",
        "Labels": {
            "courselab.hub": "cls",
            "courselab.hub.user": user,
            "courselab.hub.flavour": flavour if gpu else "cpu",
            "courselab.hub.gpu": gpu,
        },
    }


CONTAINERS = [
    record("cls-bob", "bob", "1"),
    record("cls-ann", "ann", "0"),
    record("cls-cid", "cid", ""),
    record("cls-dan", "dan", "0", state="exited"),
    record("cls-eve", "eve", "1", state="created"),
    {"Names": ["/unrelated"], "State": "running", "Labels": {"courselab.hub": "cls"}},
]


def test_live_gpu_servers_are_holders_stopped_and_cpu_ones_are_not():
    assert holders.holders(CONTAINERS) == {"ann": "0", "bob": "1", "eve": "1"}


def test_rows_are_sorted_by_gpu_then_user_with_cpu_servers_last():
    found = holders.rows(CONTAINERS)
    assert [(row.gpu, row.user) for row in found] == [
        ("0", "ann"),
        ("0", "dan"),
        ("1", "bob"),
        ("1", "eve"),
        ("", "cid"),
    ]
    assert found[0].container == "cls-ann"


def test_table_has_one_line_per_server_under_a_header():
    lines = holders.table(holders.rows(CONTAINERS)).splitlines()
    assert lines[0].split() == ["GPU", "USER", "FLAVOUR", "STATE", "CONTAINER"]
    assert lines[1].split()[:2] == ["0", "ann"]
    assert lines[-1].split()[:3] == ["cpu", "cid", "cpu"]
    assert len(lines) == 6


def test_no_servers_is_said_plainly():
    assert holders.table([]) == "No student servers."


def test_label_filter_selects_this_hub_only():
    assert holders.label_filter("cls") == {"label": "courselab.hub=cls"}
