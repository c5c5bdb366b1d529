"""The client's address, believing `X-Forwarded-For` only from configured proxies.

A forwarded header is just text the client may have written itself: it is read only when the
connection comes from an address in `ZHUCUN_TRUSTED_PROXIES` (none by default), and then only
as far back as the chain of trusted proxies goes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def parse_networks(spec: str) -> tuple[Network, ...]:
    """`10.0.0.1, 10.1.0.0/16, ::1` → networks; ValueError on anything else."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(peer: str, forwarded_for: Iterable[str], networks: Sequence[Network]) -> str:
    """The address that opened the connection, unless a trusted proxy did: then the nearest
    address in its `X-Forwarded-For` chain that is not itself a trusted proxy."""
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for header in forwarded_for for h in header.split(",") if h.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage from further out: trust nothing beyond the last good hop
        client = hop
        if not _trusted(hop, networks):
            break
    return client
