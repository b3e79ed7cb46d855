"""The URL a student opens, printed by the container and by scripts/lab alike.

The container cannot see the host's addresses, only what compose published: LAB_BIND_ADDRESS
and LAB_PORT reach it as LAB_HOST_ADDRESS and LAB_HOST_PORT. A loopback or specific address
is the address to open; 0.0.0.0 ("every address of this computer") is not one a browser can
open: 127.0.0.1 works on the computer itself, and other computers need its own address.
"""

from __future__ import annotations

import ipaddress

LOOPBACK = "127.0.0.1"
ANY_ADDRESS = ("", "0.0.0.0", "::")  # noqa: S104 - compared against, never bound


def server_url(*, address: str, port: str) -> str:
    """Where the server answers, as seen from the student's own computer."""
    host = address.strip("[]")
    host = LOOPBACK if host in ANY_ADDRESS else host
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address in a URL
    return f"http://{host}:{port or '8888'}"


def lab_url(*, address: str, port: str, token: str) -> str:
    """The URL that opens JupyterLab on the student's own computer."""
    return f"{server_url(address=address, port=port)}/lab?token={token}"


def reachable_from_other_computers(address: str) -> bool:
    """True when other machines may connect: any address except loopback ones."""
    address = address.strip("[]")
    if address in ANY_ADDRESS:
        return True
    try:
        return not ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
