"""Decide whether a fetch may connect to a resolved address: the block list and the allow-list.

The allow-list (``SLUICE_IMAGE_FETCH_ALLOWLIST``, empty by default) holds comma-separated CIDRs
and/or ``host:port`` entries that are allowed despite the block list, e.g. for a test server on
127.0.0.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_network

from shared.errors import InvalidRequest
from shared.images.addresses import IPAddress, blocked_reason
from shared.images.urls import normalise_host


@dataclass(frozen=True, slots=True)
class Allowlist:
    """Networks and exact ``(host, port)`` endpoints a fetch may reach even if they are blocked."""

    networks: tuple[IPv4Network | IPv6Network, ...] = ()
    endpoints: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    def permits(self, address: IPAddress, *, host: str, port: int) -> bool:
        """True if ``address`` is in an allowed network or ``host:port`` is an allowed endpoint."""
        return (host, port) in self.endpoints or any(address in network for network in self.networks)


def parse_allowlist(raw: str) -> Allowlist:
    """Parse the allow-list setting. A malformed entry is an operator error: ``ValueError``."""
    networks: list[IPv4Network | IPv6Network] = []
    endpoints: set[tuple[str, int]] = set()
    for entry in (item.strip() for item in raw.split(",")):
        if not entry:
            continue
        try:
            if _is_endpoint(entry):
                endpoints.add(_parse_endpoint(entry))
            else:
                networks.append(ip_network(entry, strict=False))
        except (ValueError, InvalidRequest) as exc:
            raise ValueError(f"invalid SLUICE_IMAGE_FETCH_ALLOWLIST entry: {entry!r}") from exc
    return Allowlist(networks=tuple(networks), endpoints=frozenset(endpoints))


def _is_endpoint(entry: str) -> bool:
    if entry.startswith("["):
        return True
    return "/" not in entry and entry.count(":") == 1


def _parse_endpoint(entry: str) -> tuple[str, int]:
    raw_host, _, port_text = entry.rpartition(":")
    if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
        raise ValueError("bad port")
    host, _ = normalise_host(raw_host)
    return host, int(port_text)


def ensure_allowed(address: IPAddress, *, host: str, port: int, allowlist: Allowlist) -> None:
    """Raise ``InvalidRequest`` unless a fetch of ``host:port`` may connect to ``address``.

    The message names the kind of address, never the address itself (it may be internal).
    """
    reason = blocked_reason(address)
    if reason is None:
        return
    scoped = isinstance(address, IPv6Address) and address.scope_id is not None
    if not scoped and allowlist.permits(address, host=host, port=port):
        return
    raise InvalidRequest(f"image URL is not allowed: it points to a {reason}")
