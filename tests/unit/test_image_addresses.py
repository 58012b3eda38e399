"""SSRF defences: URL parsing, IP literal spellings, address classification, allow-list.

Name resolution is faked (``getaddrinfo`` is monkeypatched) and the HTTP client is a
``MockTransport`` that fails the test if a blocked URL ever gets as far as a request.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from ipaddress import ip_address

import httpx
import pytest

from shared.adapters.image_fetcher import fetch_image, resolve_target
from shared.errors import InvalidRequest
from shared.images.addresses import blocked_reason
from shared.images.policy import Allowlist, ensure_allowed, parse_allowlist
from shared.images.urls import normalise_host, parse_remote_url
from shared.settings import get_settings

FakeDns = Callable[[dict[str, list[str]]], None]

HOSTILE: list[tuple[str, dict[str, list[str]]]] = [
    ("http://127.0.0.1/", {}),
    ("http://localhost/", {"localhost": ["127.0.0.1"]}),
    ("http://10.0.0.1/", {}),
    ("http://172.16.5.4/", {}),
    ("http://192.168.1.1/", {}),
    ("http://169.254.169.254/latest/meta-data/", {}),
    ("http://[fd00::1]/", {}),
    ("http://[::ffff:127.0.0.1]/", {}),
    ("http://2130706433/", {}),
    ("http://0x7f.1/", {}),
    ("http://0x7F000001/", {}),
    ("http://017700000001/", {}),
    ("http://0177.0.0.1/", {}),
    ("http://127.1/", {}),
    ("http://127.0.0.1./", {}),
    ("http://[::1]/", {}),
    ("http://0.0.0.0/", {}),
    ("http://[::]/", {}),
    ("http://[fe80::1%25eth0]/", {}),
    ("http://[fe80::1]/", {}),
    ("http://100.64.0.1/", {}),
    ("http://224.0.0.1/", {}),
    ("http://255.255.255.255/", {}),
    ("file:///etc/passwd", {}),
    ("gopher://x/", {}),
    ("ftp://x/", {}),
    ("javascript:alert(1)", {}),
    ("data:image/png;base64,iVBORw0KGgo=", {}),
    ("http://evil@127.0.0.1/", {}),
    ("http://user:pass@example.com/", {"example.com": ["93.184.216.34"]}),
    ("http://127.0.0.1#@example.com", {}),
    ("http://127.0.0.1\\@example.com/", {}),
    ("HTTP://127.0.0.1/", {}),
    ("http://１２７.０.０.１/", {}),
    ("http://%31%32%37.0.0.1/", {}),
    ("http://internal.example/", {"internal.example": ["127.0.0.1"]}),
    ("http://mixed.example/", {"mixed.example": ["93.184.216.34", "10.0.0.7"]}),
    ("http://mixed6.example/", {"mixed6.example": ["2606:4700::1", "fd12:3456::1"]}),
    ("http://[::ffff:7f00:1]/", {}),
    ("http://[::7f00:1]/", {}),
    ("http://[2002:7f00:1::]/", {}),
    ("http://[64:ff9b::a00:1]/", {}),
    ("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/", {}),
    ("http://metadata.google.internal/", {"metadata.google.internal": ["169.254.169.254"]}),
    ("http://[fd00:ec2::254]/", {}),
    ("http://100.100.100.200/", {}),
    ("http://[fec0::1]/", {}),
    ("http://192.0.2.1/", {}),
    ("http://[2001:db8::1]/", {}),
    ("http://240.0.0.1/", {}),
    ("http://256.0.0.1/", {}),
    ("http://nowhere.invalid/", {}),
]

PUBLIC: list[tuple[str, dict[str, list[str]], str]] = [
    ("https://example.com/cat.png", {"example.com": ["93.184.216.34"]}, "93.184.216.34"),
    ("HTTPS://Example.COM./cat.png", {"example.com": ["93.184.216.34"]}, "93.184.216.34"),
    ("http://8.8.8.8/x.png", {}, "8.8.8.8"),
    ("http://1.1.1.1:8080/a.png?size=2", {}, "1.1.1.1"),
    ("http://[2606:4700:4700::1111]/a.gif", {}, "2606:4700:4700::1111"),
    ("http://[::ffff:8.8.8.8]/a.gif", {}, "::ffff:808:808"),
    ("http://bücher.example/x.webp", {"xn--bcher-kva.example": ["2606:4700::1"]}, "2606:4700::1"),
    ("http://cdn.example/y.jpg", {"cdn.example": ["151.101.1.1", "2a04:4e42::1"]}, "151.101.1.1"),
]


# Refused for being malformed or unresolvable rather than for where they point.
_REFUSED_AS_INVALID = {"http://256.0.0.1/", "http://nowhere.invalid/", "http://127.0.0.1\\@example.com/"}


def addrinfo(text: str, port: int) -> tuple:
    """One getaddrinfo() result row for an address, as the real resolver shapes it."""
    if ":" in text:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (text, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, port))


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    def install(table: dict[str, list[str]]) -> None:
        async def getaddrinfo(self: object, host: str, port: int, **_: int) -> list[tuple]:
            if host not in table:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [addrinfo(address, port) for address in table[host]]

        monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)

    return install


@pytest.fixture(autouse=True)
def no_allowlist(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SLUICE_IMAGE_FETCH_ALLOWLIST", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _refusing_client(calls: list[httpx.Request]) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(("url", "dns"), HOSTILE)
def test_hostile_url_is_rejected_before_any_request(
    url: str, dns: dict[str, list[str]], fake_dns: FakeDns
) -> None:
    # Given a hostile URL and the DNS answers an attacker could arrange
    fake_dns(dns)
    calls: list[httpx.Request] = []

    # When it is fetched
    with pytest.raises(InvalidRequest) as caught:
        asyncio.run(fetch_image(url, client=_refusing_client(calls)))

    # Then it is refused, nothing is requested, and no resolved address is echoed
    assert calls == []
    expected = "image URL is not valid" if url in _REFUSED_AS_INVALID else "image URL is not allowed"
    if url == "http://nowhere.invalid/":
        expected = "image URL could not be fetched"
    assert caught.value.message.startswith(expected)
    for address in (a for answers in dns.values() for a in answers):
        assert address not in caught.value.message


def test_hostile_list_is_long_enough() -> None:
    assert len(HOSTILE) >= 30


@pytest.mark.parametrize(("url", "dns", "expected"), PUBLIC)
def test_public_url_resolves_to_its_first_checked_address(
    url: str, dns: dict[str, list[str]], expected: str, fake_dns: FakeDns
) -> None:
    fake_dns(dns)
    address = asyncio.run(resolve_target(parse_remote_url(url), Allowlist()))
    assert address == ip_address(expected)


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "0x7f000001",
        "0X7F000001",
        "0x7f.1",
        "0x7f.0.0.1",
        "017700000001",
        "0177.0.0.1",
        "0177.0.0.0x1",
        "127.1",
        "127.0.1",
        "127.0.0.1.",
        "127.000.000.001",
        "１２７.０.０.１",
        "127。0。0。1",
        "%31%32%37.0.0.1",
    ],
)
def test_every_ipv4_spelling_is_recognised(host: str) -> None:
    assert normalise_host(host) == ("127.0.0.1", ip_address("127.0.0.1"))


@pytest.mark.parametrize(
    "host", ["256.0.0.1", "1.2.3.4.5", "0x100000000", "127.0.0.08", "4294967296", "1.256.1"]
)
def test_numeric_hosts_out_of_range_are_invalid_not_names(host: str) -> None:
    with pytest.raises(InvalidRequest, match="bad IPv4 address"):
        normalise_host(host)


@pytest.mark.parametrize("host", ["exa mple.com", "a..b", "-x.example", "x%2fy.example", "a[b]", ""])
def test_malformed_names_are_invalid(host: str) -> None:
    with pytest.raises(InvalidRequest):
        normalise_host(host)


def test_url_is_normalised_without_credentials_or_fragment() -> None:
    remote = parse_remote_url("HTTP://Images.Example.COM:8080/a/b.png?x=1#frag")
    assert (remote.scheme, remote.host, remote.port, remote.target) == (
        "http",
        "images.example.com",
        8080,
        "/a/b.png?x=1",
    )
    assert remote.netloc == "images.example.com:8080"
    assert remote.pinned_url(ip_address("93.184.216.34")) == "http://93.184.216.34:8080/a/b.png?x=1"
    assert (
        parse_remote_url("https://[2606:4700::1]").pinned_url(ip_address("2606:4700::1"))
        == "https://[2606:4700::1]:443/"
    )


@pytest.mark.parametrize(
    "url", ["http://h:0/", "http://h:65536/", "http://h:8o/", "http://[::1/", "http://a:b:c/", "http:/x"]
)
def test_bad_ports_and_brackets_are_invalid(url: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_remote_url(url)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.31.255.255", "private"),
        ("192.168.0.1", "private"),
        ("100.64.0.1", "CGNAT"),
        ("169.254.1.1", "link-local"),
        ("169.254.169.254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fc00::1", "unique-local"),
        ("fe80::1", "link-local"),
        ("fec0::1", "site-local"),
        ("198.51.100.7", "documentation"),
        ("2001:db8::1", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("240.0.0.1", "reserved"),
        ("::ffff:10.0.0.1", "IPv4-mapped private"),
        ("::a00:1", "IPv4-compatible private"),
        ("64:ff9b::7f00:1", "NAT64 loopback"),
        ("2002:a00:1::", "6to4 private"),
        ("2002:808:808::", "6to4 address"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "Teredo private"),
        ("fe80::1%eth0", "scoped"),
    ],
)
def test_blocked_addresses_say_why(address: str, reason: str) -> None:
    assert reason in (blocked_reason(ip_address(address)) or "")


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.216.34", "2606:4700::1", "::ffff:1.1.1.1", "64:ff9b::101:101"]
)
def test_public_addresses_are_not_blocked(address: str) -> None:
    assert blocked_reason(ip_address(address)) is None


def test_allowlist_admits_cidrs_and_exact_endpoints_only() -> None:
    allowlist = parse_allowlist(" 127.0.0.0/8 , localhost:8080,[::1]:9000, 10.0.0.5 ,")
    loopback, private, v6_loopback = ip_address("127.0.0.1"), ip_address("10.0.0.5"), ip_address("::1")

    ensure_allowed(loopback, host="anything", port=1, allowlist=allowlist)
    ensure_allowed(private, host="x", port=2, allowlist=allowlist)
    ensure_allowed(v6_loopback, host="::1", port=9000, allowlist=allowlist)
    assert allowlist.permits(ip_address("192.168.1.1"), host="localhost", port=8080)
    assert not allowlist.permits(ip_address("192.168.1.1"), host="localhost", port=8081)
    assert not allowlist.permits(v6_loopback, host="::1", port=9001)
    with pytest.raises(InvalidRequest, match="private address"):
        ensure_allowed(ip_address("10.0.0.6"), host="x", port=80, allowlist=allowlist)


def test_empty_allowlist_allows_nothing_blocked() -> None:
    assert parse_allowlist("") == Allowlist()
    with pytest.raises(InvalidRequest, match="loopback"):
        ensure_allowed(ip_address("127.0.0.1"), host="127.0.0.1", port=80, allowlist=parse_allowlist(""))


@pytest.mark.parametrize("entry", ["localhost", "10.0.0.0/33", "host:port", "[::1]", "h:0"])
def test_malformed_allowlist_entries_are_operator_errors(entry: str) -> None:
    with pytest.raises(ValueError, match="SLUICE_IMAGE_FETCH_ALLOWLIST"):
        parse_allowlist(entry)
