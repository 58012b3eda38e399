"""Parse a remote image URL and normalise its host, recognising every spelling of an IP literal.

Hosts are read the way browsers (the WHATWG URL standard) and ``inet_aton`` read them, so
``2130706433``, ``0x7f.1``, ``0177.0.0.1`` and ``127.1`` are all 127.0.0.1 here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address, IPv6Address
from urllib.parse import unquote, urlsplit

from shared.errors import InvalidRequest
from shared.images.addresses import IPAddress

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 8192
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_DIGITS = {8: frozenset("01234567"), 10: frozenset("0123456789"), 16: frozenset("0123456789abcdef")}


@dataclass(frozen=True, slots=True)
class RemoteUrl:
    """An http(s) URL reduced to what a fetch needs. ``host`` is lowercase ASCII or a canonical IP."""

    scheme: str
    host: str
    port: int
    target: str
    address: IPAddress | None = None

    @property
    def netloc(self) -> str:
        """Host (bracketed if IPv6) plus the port when it is not the scheme's default: the Host header."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """The normalised URL (no credentials, no fragment)."""
        return f"{self.scheme}://{self.netloc}{self.target}"

    def pinned_url(self, address: IPAddress) -> str:
        """The same URL addressed to ``address``, so the connection cannot resolve the name again."""
        host = f"[{address}]" if address.version == 6 else str(address)
        return f"{self.scheme}://{host}:{self.port}{self.target}"


def _invalid(reason: str) -> InvalidRequest:
    return InvalidRequest(f"image URL is not valid: {reason}")


def _not_allowed(reason: str) -> InvalidRequest:
    return InvalidRequest(f"image URL is not allowed: {reason}")


def parse_remote_url(url: str) -> RemoteUrl:
    """Parse an http(s) image URL; raise ``InvalidRequest`` for other schemes or malformed hosts."""
    if len(url) > MAX_URL_LENGTH:
        raise _invalid("it is too long")
    if any(char <= " " or char in "\\\x7f" for char in url):
        raise _invalid("it contains whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise _invalid("it cannot be parsed") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise _not_allowed("only http and https URLs can be fetched")
    if "@" in parts.netloc:
        raise _not_allowed("credentials in URLs are not accepted")
    raw_host, port = _split_netloc(parts.netloc, DEFAULT_PORTS[scheme])
    host, address = normalise_host(raw_host)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return RemoteUrl(scheme=scheme, host=host, port=port, target=target, address=address)


def _split_netloc(netloc: str, default_port: int) -> tuple[str, int]:
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise _invalid("unterminated IPv6 address")
        host, rest = netloc[: end + 1], netloc[end + 1 :]
    else:
        host, colon, port_text = netloc.partition(":")
        rest = colon + port_text
    if rest in ("", ":"):
        return host, default_port
    digits = rest[1:]
    if not rest.startswith(":") or not (digits.isascii() and digits.isdigit()) or not 0 < int(digits) < 65536:
        raise _invalid("bad port")
    return host, int(digits)


def normalise_host(raw: str) -> tuple[str, IPAddress | None]:
    """Canonical host text and, when the host is an IP literal in any spelling, that address.

    Percent-escapes are decoded, IDNA names converted to ASCII, case folded and one trailing dot
    dropped before deciding whether the host is an IPv4 literal.
    """
    if raw.startswith("[") and raw.endswith("]"):
        address = _parse_ipv6(raw[1:-1])
        return address.compressed, address
    try:
        host = unquote(raw, errors="strict")
        if not host.isascii():
            host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise _invalid("the host is not a valid domain name") from exc
    host = host.lower().removesuffix(".")
    ipv4 = parse_ipv4_host(host)
    if ipv4 is not None:
        return str(ipv4), ipv4
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split(".")):
        raise _invalid("the host is not a valid domain name")
    return host, None


def _parse_ipv6(text: str) -> IPv6Address:
    if "%" in text:
        raise _not_allowed("IPv6 zone identifiers are not accepted")
    try:
        return IPv6Address(text)
    except AddressValueError as exc:
        raise _invalid("bad IPv6 address") from exc


def parse_ipv4_host(host: str) -> IPv4Address | None:
    """The IPv4 address a host spells (decimal, hex, octal, short forms), None if it is a name.

    A host that looks numeric but is out of range (``256.0.0.1``, ``1.2.3.4.5``) is an error, as
    in browsers: it must never fall through to DNS as a name.
    """
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not parts[-1] or (not set(parts[-1]) <= _DIGITS[10] and _ipv4_number(parts[-1]) is None):
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if len(parts) > 4 or None in numbers:
        raise _invalid("bad IPv4 address")
    values = [number for number in numbers if number is not None]
    if any(value > 255 for value in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise _invalid("bad IPv4 address")
    value = values[-1] + sum(part << (8 * (3 - index)) for index, part in enumerate(values[:-1]))
    return IPv4Address(value)


def _ipv4_number(part: str) -> int | None:
    if not part:
        return None
    radix, digits = 10, part
    if part[:2] in ("0x", "0X"):
        radix, digits = 16, part[2:]
    elif len(part) > 1 and part[0] == "0":
        radix, digits = 8, part[1:]
    if not digits:
        return 0
    if not set(digits.lower()) <= _DIGITS[radix]:
        return None
    return int(digits, radix)
