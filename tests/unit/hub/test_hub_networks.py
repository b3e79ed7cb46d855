"""One network per student (courselab_hub.networks): the subnet choice as data, from the
records the engine really returns (GET /networks of Docker Engine 20.10, captured in
fixtures/hub/engine-20.10-networks.json: none, host, the default bridge, a compose network
with its gateway, and a student's network with the subnet this module chose), and the
spawner hooks against a stand-in client that answers like docker-py's APIClient."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from courselab_hub import networks
from courselab_hub.settings import from_env

RECORDS = json.loads((Path(__file__).parents[1] / "fixtures" / "hub" / "engine-20.10-networks.json").read_text())
POOL = ipaddress.IPv4Network("172.29.0.0/16")


def test_every_subnet_on_the_engine_is_read_hosts_and_none_have_none():
    assert [str(net) for net in networks.subnets_in_use(RECORDS)] == [
        "172.17.0.0/16",
        "192.168.64.0/20",
        "172.29.0.16/28",
    ]


def test_the_first_free_block_is_picked_around_what_the_engine_already_has():
    assert networks.pick_subnet(POOL, networks.subnets_in_use(RECORDS)) == ipaddress.IPv4Network("172.29.0.0/28")
    taken = [*networks.subnets_in_use(RECORDS), ipaddress.IPv4Network("172.29.0.0/28")]
    assert networks.pick_subnet(POOL, taken) == ipaddress.IPv4Network("172.29.0.32/28")


def test_a_pool_inside_someone_elses_network_has_no_room():
    """Docker would refuse the overlap; the hub says which setting to change instead."""
    assert networks.pick_subnet(ipaddress.IPv4Network("172.17.5.0/24"), networks.subnets_in_use(RECORDS)) is None


def test_ipv6_subnets_never_block_an_ipv4_block():
    assert networks.pick_subnet(POOL, [ipaddress.ip_network("fd00:dead:beef::/48")]) == ipaddress.IPv4Network(
        "172.29.0.0/28"
    )


def test_a_16_holds_4096_students():
    assert len(list(POOL.subnets(new_prefix=networks.NETWORK_PREFIX_LENGTH))) == 4096


class Client:
    """docker-py APIClient's network calls, answering with the engine's records."""

    def __init__(self, records):
        self.records = [dict(record) for record in records]
        self.calls = []

    def networks(self, names=None, filters=None):
        found = self.records
        if names:
            found = [r for r in found if r["Name"] in names]
        if filters:
            key, value = filters["label"].split("=", 1)
            found = [r for r in found if (r.get("Labels") or {}).get(key) == value]
        return [dict(r) for r in found]

    def create_network(self, name, driver, ipam, labels, check_duplicate):
        self.calls.append(("create", name, ipam["Config"][0]["Subnet"]))
        self.records.append({"Name": name, "IPAM": {"Config": ipam["Config"]}, "Labels": labels})

    def connect_container_to_network(self, container, net_id, aliases):
        self.calls.append(("connect", container, net_id, tuple(aliases)))

    def disconnect_container_from_network(self, container, net_id, force):
        self.calls.append(("disconnect", container, net_id))

    def remove_network(self, net_id):
        self.calls.append(("remove", net_id))
        self.records = [r for r in self.records if r["Name"] != net_id]


@pytest.fixture
def hooks(monkeypatch):
    monkeypatch.setattr(networks, "this_container", lambda: "hubcontainer")
    settings = from_env({"HUB_LAB_IMAGE": "lab", "HUB_ADMIN_USERS": "teacher", "HUB_PREFIX": "cls"})
    client = Client(RECORDS)
    with ThreadPoolExecutor(1) as executor:

        def spawner(name):
            return SimpleNamespace(
                user=SimpleNamespace(name=name),
                escaped_name=name,
                client=client,
                executor=executor,
                network_name="cls-hub",
            )

        yield networks.StudentNetworks(settings), client, spawner


def test_a_starting_server_gets_its_own_network_with_the_hub_on_it_as_hub(hooks):
    student_networks, client, spawner = hooks
    bob = spawner("bob")
    asyncio.run(student_networks.pre_spawn(bob))
    assert bob.network_name == "cls-net-bob"
    assert client.calls == [
        ("create", "cls-net-bob", "172.29.0.0/28"),
        ("connect", "hubcontainer", "cls-net-bob", ("hub",)),
    ]


def test_students_starting_together_get_different_subnets(hooks):
    student_networks, client, spawner = hooks

    async def together():
        await asyncio.gather(*(student_networks.pre_spawn(spawner(name)) for name in ("bob", "carol", "dan")))

    asyncio.run(together())
    subnets = [call[2] for call in client.calls if call[0] == "create"]
    assert sorted(subnets) == ["172.29.0.0/28", "172.29.0.32/28", "172.29.0.48/28"]


def test_a_restarted_server_reuses_its_network(hooks):
    student_networks, client, spawner = hooks
    asyncio.run(student_networks.pre_spawn(spawner("ann")))
    assert client.calls == [("connect", "hubcontainer", "cls-net-ann", ("hub",))]


def test_a_stopped_server_leaves_no_network_behind(hooks):
    student_networks, client, spawner = hooks
    asyncio.run(student_networks.post_stop(spawner("ann")))
    assert client.calls == [("disconnect", "hubcontainer", "cls-net-ann"), ("remove", "cls-net-ann")]
    assert "cls-net-ann" not in [r["Name"] for r in client.records]


def test_a_new_hub_rejoins_the_networks_of_servers_still_running(hooks):
    _, client, _ = hooks
    joined = networks.join_all(client, prefix="cls", container="newhub", alias="hub")
    assert joined == ["cls-net-ann"]
    assert client.calls == [("connect", "newhub", "cls-net-ann", ("hub",))]
