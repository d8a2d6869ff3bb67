"""The real client address: the peer, or what trusted reverse proxies say it is.

Behind the production proxy every connection comes from the proxy, so throttling and the
audit log need ``X-Forwarded-For``; but anyone can send that header, so it is believed only
when the peer is a configured trusted proxy (``LOA_TRUSTED_PROXIES``), and then read
right to left, skipping trusted hops: the first untrusted address is the client. Entries
further left were written by the client itself and are never used.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from fastapi import Request

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


@lru_cache(maxsize=8)
def parse_networks(items: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ip_network(item, strict=False) for item in items)


def _address(text: str) -> Address | None:
    try:
        return ip_address(text.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def _trusted(address: Address, trusted: tuple[Network, ...]) -> bool:
    return any(address in network for network in trusted)


def real_client(peer: str, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The client address for a connection from ``peer`` with these X-Forwarded-For headers."""
    current = _address(peer)
    if current is None or not _trusted(current, trusted):
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage from an untrusted party: keep the last hop we could vouch for
        current = address
        if not _trusted(address, trusted):
            break
    return str(current)


def client_address(request: Request) -> str:
    """The client of ``request`` as the controller's settings say to determine it."""
    peer = request.client.host if request.client else "unknown"
    trusted = parse_networks(tuple(request.app.state.settings.trusted_proxies))
    if not trusted:
        return peer
    return real_client(peer, request.headers.getlist("x-forwarded-for"), trusted)
