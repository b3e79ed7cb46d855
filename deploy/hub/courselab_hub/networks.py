"""One Docker network per student: a student's server can reach the hub and its proxy, and no
other student's server, on any port.

On one shared network every server reached every other (anything a student started, say
`python -m http.server`, was open to the class). Here each student's server gets its own
bridge network, and the hub container joins it under the name `hub` (HUB_HOST, what
students' servers use for the hub's API). Docker keeps bridge networks apart (its isolation
rules drop traffic between two bridges), and the hub container does not route between its
networks, so the only peer a server has is the hub. Egress stays as before: each network is
a normal NATed bridge, so pip and dataset downloads work.

Subnets: each network gets a /28 from HUB_STUDENT_SUBNETS, chosen here (the first block that
overlaps no network on the engine). Left to itself Docker hands every new network a block from
its default pools, which on a stock engine run out after about 30 networks: a class would stop
at the 30th student.

Written for DockerSpawner 14.0.0, whose `network_name` is one network for every server (its
issue #523 asks for more): the pre_spawn hook sets it per spawner. It can go if DockerSpawner
gives each server a network of its own.

`pick_subnet` and the names are pure; the rest is the thin shell over docker-py's APIClient
(DockerSpawner's client): StudentNetworks' spawner hooks, and join_all for the hub's start.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

from courselab_hub.plan import LABEL_PREFIX
from courselab_hub.settings import HubSettings

NETWORK_PREFIX_LENGTH = 28  # 14 addresses: the gateway, the hub and the server need three


def network_name(*, prefix: str, escaped_user: str) -> str:
    return f"{prefix}-net-{escaped_user}"


def pick_subnet(
    pool: ipaddress.IPv4Network, taken: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> ipaddress.IPv4Network | None:
    """The first /28 of `pool` that overlaps none of `taken`, or None when the pool is full."""
    taken_v4 = [net for net in taken if net.version == 4]
    for candidate in pool.subnets(new_prefix=NETWORK_PREFIX_LENGTH):
        if not any(candidate.overlaps(net) for net in taken_v4):
            return candidate
    return None


def subnets_in_use(networks: list[dict]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Every subnet of every network on the engine (GET /networks records)."""
    found = []
    for network in networks:
        for config in (network.get("IPAM") or {}).get("Config") or []:
            if config.get("Subnet"):
                found.append(ipaddress.ip_network(config["Subnet"], strict=False))
    return found


def docker_client():
    """The engine's API client, as DockerSpawner makes it (docker-py comes with it)."""
    import docker

    return docker.APIClient(version="auto", **docker.utils.kwargs_from_env())


def this_container() -> str:
    """The hub's own container: Docker makes a container's hostname its short id."""
    return socket.gethostname()


def labels(*, prefix: str, user: str) -> dict[str, str]:
    return {f"{LABEL_PREFIX}.network": prefix, f"{LABEL_PREFIX}.user": user}


def ensure_network(client, *, name: str, prefix: str, user: str, pool: ipaddress.IPv4Network) -> str:
    """The student's network, created if missing; returns its name."""
    import docker

    if client.networks(names=[name]):
        return name
    last_error = None
    # Another network may take the chosen block between listing and creating (another hub,
    # another program on the engine): pick again.
    for _attempt in range(3):
        subnet = pick_subnet(pool, subnets_in_use(client.networks()))
        if subnet is None:
            raise RuntimeError(f"HUB_STUDENT_SUBNETS {pool} has no free /{NETWORK_PREFIX_LENGTH} left for {user}")
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=str(subnet))])
        try:
            client.create_network(
                name, driver="bridge", ipam=ipam, labels=labels(prefix=prefix, user=user), check_duplicate=True
            )
            return name
        except docker.errors.APIError as error:
            last_error = error
            if client.networks(names=[name]):  # created meanwhile by a second start of this student
                return name
    raise RuntimeError(f"could not create the network {name}: {last_error}")


def join(client, *, network: str, container: str, alias: str) -> None:
    """Connect the hub container to a student's network (nothing to do if it is on it)."""
    import docker

    try:
        client.connect_container_to_network(container, network, aliases=[alias])
    except docker.errors.APIError as error:
        if "already exists" not in str(error):
            raise


def leave_and_remove(client, *, network: str, container: str) -> None:
    """After the student's server stopped: the hub leaves the network, which then goes.
    A network still in use (a server starting again) stays; the next start reuses it."""
    import docker

    try:
        client.disconnect_container_from_network(container, network, force=True)
    except docker.errors.APIError:
        pass  # not on it (a hub restarted since): the network can still go
    try:
        client.remove_network(network)
    except docker.errors.APIError:
        pass  # still in use (the container is being removed): kept, reused by the next start


def join_all(client, *, prefix: str, container: str, alias: str) -> list[str]:
    """At the hub's start: rejoin every student network of this hub (servers keep running
    while the hub restarts or is upgraded, and a new hub container is on none of them)."""
    names = [net["Name"] for net in client.networks(filters={"label": f"{LABEL_PREFIX}.network={prefix}"})]
    for name in names:
        join(client, network=name, container=container, alias=alias)
    return names


class StudentNetworks:
    """The spawner hooks: before a server starts, its network (created under a lock, so two
    students starting together never pick the same subnet) with the hub on it; after it
    stopped, the hub leaves and the network goes."""

    def __init__(self, settings: HubSettings):
        self.settings = settings
        self.lock = asyncio.Lock()

    def name_for(self, spawner) -> str:
        return network_name(prefix=self.settings.prefix, escaped_user=spawner.escaped_name)

    async def pre_spawn(self, spawner) -> None:
        name = self.name_for(spawner)
        async with self.lock:
            await in_spawners_thread(
                spawner,
                ensure_network,
                name=name,
                prefix=self.settings.prefix,
                user=spawner.user.name,
                pool=self.settings.student_subnets,
            )
        await in_spawners_thread(spawner, join, network=name, container=this_container(), alias=self.settings.hub_host)
        spawner.network_name = name

    async def post_stop(self, spawner) -> None:
        await in_spawners_thread(spawner, leave_and_remove, network=self.name_for(spawner), container=this_container())


def in_spawners_thread(spawner, function, **kwargs):
    """Run `function(client, **kwargs)` on DockerSpawner's own executor: its docker client is
    not shared across threads (what spawner.docker() does for the client's own methods)."""
    return asyncio.wrap_future(spawner.executor.submit(function, spawner.client, **kwargs))
