"""Classify IP addresses: which ones a server-side fetch must never reach.

Everything that is not plainly public is blocked: loopback, private, CGNAT, link-local, cloud
metadata, multicast, reserved, documentation, unique/site-local IPv6, and IPv6 addresses that embed
a blocked IPv4 address (mapped, compatible, NAT64, 6to4, Teredo).
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

IPAddress = IPv4Address | IPv6Address

_METADATA = frozenset(
    ip_address(text) for text in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)

_IPV4_RANGES: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(cidr), reason)
    for cidr, reason in (
        ("255.255.255.255/32", "broadcast address"),
        ("0.0.0.0/8", "unspecified address"),
        ("10.0.0.0/8", "private address"),
        ("100.64.0.0/10", "shared (CGNAT) address"),
        ("127.0.0.0/8", "loopback address"),
        ("169.254.0.0/16", "link-local address"),
        ("172.16.0.0/12", "private address"),
        ("192.0.0.0/24", "reserved address"),
        ("192.0.2.0/24", "documentation address"),
        ("192.88.99.0/24", "reserved address"),
        ("192.168.0.0/16", "private address"),
        ("198.18.0.0/15", "benchmarking address"),
        ("198.51.100.0/24", "documentation address"),
        ("203.0.113.0/24", "documentation address"),
        ("224.0.0.0/4", "multicast address"),
        ("240.0.0.0/4", "reserved address"),
    )
)

_IPV6_RANGES: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(cidr), reason)
    for cidr, reason in (
        ("::/128", "unspecified address"),
        ("::1/128", "loopback address"),
        ("100::/64", "reserved address"),
        ("2001:db8::/32", "documentation address"),
        ("3fff::/20", "documentation address"),
        ("fc00::/7", "unique-local address"),
        ("fe80::/10", "link-local address"),
        ("fec0::/10", "site-local address"),
        ("ff00::/8", "multicast address"),
    )
)


def _low32(address: IPv6Address) -> IPv4Address:
    return IPv4Address(int(address) & 0xFFFFFFFF)


def _sixtofour(address: IPv6Address) -> IPv4Address:
    return IPv4Address((int(address) >> 80) & 0xFFFFFFFF)


def _teredo_client(address: IPv6Address) -> IPv4Address:
    return IPv4Address(~int(address) & 0xFFFFFFFF)


# (prefix, name, extract the IPv4 address, blocked even when that address is public).
# Mapped and well-known NAT64 addresses reach exactly their IPv4 address, so that address decides;
# the deprecated or relay-based mechanisms are never needed for fetching an image.
_EMBEDDINGS: tuple[tuple[IPv6Network, str, Callable[[IPv6Address], IPv4Address], bool], ...] = (
    (IPv6Network("::ffff:0:0/96"), "IPv4-mapped", _low32, False),
    (IPv6Network("64:ff9b::/96"), "NAT64", _low32, False),
    (IPv6Network("::/96"), "IPv4-compatible", _low32, True),
    (IPv6Network("::ffff:0:0:0/96"), "IPv4-translated", _low32, True),
    (IPv6Network("64:ff9b:1::/48"), "local NAT64", _low32, True),
    (IPv6Network("2002::/16"), "6to4", _sixtofour, True),
    (IPv6Network("2001::/32"), "Teredo", _teredo_client, True),
)


def blocked_reason(address: IPAddress) -> str | None:
    """Why a fetch must not reach ``address`` (e.g. ``"loopback address"``), or None if it is public."""
    if address in _METADATA:
        return "cloud metadata address"
    if isinstance(address, IPv6Address):
        return _ipv6_reason(address)
    return _ipv4_reason(address)


def _ipv4_reason(address: IPv4Address) -> str | None:
    for network, reason in _IPV4_RANGES:
        if address in network:
            return reason
    if not address.is_global or address.is_multicast or address.is_reserved:
        return "non-public address"
    return None


def _ipv6_reason(address: IPv6Address) -> str | None:
    if address.scope_id:
        return "scoped IPv6 address"
    for network, reason in _IPV6_RANGES:
        if address in network:
            return reason
    for network, name, extract, always_blocked in _EMBEDDINGS:
        if address in network:
            inner = blocked_reason(extract(address))
            if inner is not None:
                return f"{name} {inner}"
            return f"{name} address" if always_blocked else None
    if not address.is_global or address.is_multicast or address.is_reserved or address.is_site_local:
        return "non-public address"
    return None
