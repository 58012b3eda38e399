"""Fetch a remote image server-side without letting the URL reach into the private network.

Every hop: parse the URL (http/https only), resolve the host once, check every resolved address
against the block list, then connect to the checked address itself (the name is never resolved
again; the original host travels in the Host header and, for https, as the TLS server name).
Redirects are followed by hand and checked the same way. Time and size are capped throughout.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from ipaddress import IPv6Address, ip_address
from urllib.parse import urljoin

import httpx

from shared.errors import ImageTooLarge, InvalidRequest
from shared.images.addresses import IPAddress
from shared.images.model import InlineImage
from shared.images.policy import Allowlist, ensure_allowed, parse_allowlist
from shared.images.sniff import MAX_IMAGE_BYTES, image_from_bytes
from shared.images.urls import RemoteUrl, parse_remote_url
from shared.numbers import ascii_int
from shared.settings import get_settings

MAX_REDIRECTS = 3
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_REQUEST_HEADERS = {
    "Accept": "image/png, image/jpeg, image/webp, image/gif",
    "Accept-Encoding": "identity",  # compressed bodies could expand past the size cap in one chunk
    "User-Agent": "Sluice-ImageFetcher/1.0",
    "Connection": "close",
}
_NEVER_FORWARDED = ("authorization", "proxy-authorization", "cookie")


async def fetch_image(url: str, *, client: httpx.AsyncClient | None = None) -> InlineImage:
    """Fetch an http(s) image URL safely and return it validated and base64-encoded.

    Raises ``InvalidRequest`` when the URL is not allowed (scheme, blocked address, redirect) or
    the fetch fails (DNS, connection, timeout, HTTP error status, not an image), and
    ``ImageTooLarge`` past 6 MB. ``client`` is for tests and connection reuse; it must not be
    shared with traffic that needs cookies, auth or redirects (none of them are used here).
    """
    settings = get_settings()
    allowlist = parse_allowlist(settings.image_fetch_allowlist)
    timeout = settings.image_fetch_timeout
    target = parse_remote_url(url)
    try:
        async with asyncio.timeout(timeout), _client_scope(client) as http:
            return await _follow(http, target, allowlist, httpx.Timeout(timeout))
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise InvalidRequest(f"image URL could not be fetched: no answer within {timeout:g} s") from exc
    except httpx.ConnectError as exc:
        raise InvalidRequest("image URL could not be fetched: the connection failed") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise InvalidRequest("image URL could not be fetched") from exc


@asynccontextmanager
async def _client_scope(client: httpx.AsyncClient | None) -> AsyncIterator[httpx.AsyncClient]:
    if client is not None:
        yield client
        return
    # No pooled connections: a reused TLS connection would skip the check for a new host name.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False, limits=limits) as own:
        yield own


async def _follow(
    http: httpx.AsyncClient, target: RemoteUrl, allowlist: Allowlist, timeout: httpx.Timeout
) -> InlineImage:
    for _ in range(MAX_REDIRECTS + 1):
        address = await resolve_target(target, allowlist)
        request = _pinned_request(http, target, address, timeout)
        response = await http.send(request, stream=True, auth=None, follow_redirects=False)
        try:
            if response.status_code not in _REDIRECT_STATUSES:
                return await _read_image(response)
            target = _redirect_target(target, response)
        finally:
            await response.aclose()
    raise InvalidRequest(f"image URL is not allowed: more than {MAX_REDIRECTS} redirects")


async def resolve_target(target: RemoteUrl, allowlist: Allowlist) -> IPAddress:
    """Resolve ``target``'s host, check every address, and return the one to connect to.

    Any blocked address (and not allow-listed) rejects the URL, so a name that resolves to one
    public and one private address cannot be used to reach the private one.
    """
    addresses = [target.address] if target.address is not None else await _resolve(target)
    for address in addresses:
        ensure_allowed(address, host=target.host, port=target.port, allowlist=allowlist)
    return addresses[0]


async def _resolve(target: RemoteUrl) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise InvalidRequest("image URL could not be fetched: its host name does not resolve") from exc
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ip_address(sockaddr[0])
        scope_id = sockaddr[3] if len(sockaddr) == 4 else 0
        if isinstance(address, IPv6Address) and address.scope_id is None and scope_id:
            address = IPv6Address(f"{address}%{scope_id}")  # link-local: blocked, never connected to
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise InvalidRequest("image URL could not be fetched: its host name does not resolve")
    return addresses


def _pinned_request(
    http: httpx.AsyncClient, target: RemoteUrl, address: IPAddress, timeout: httpx.Timeout
) -> httpx.Request:
    extensions = {"sni_hostname": target.host} if target.scheme == "https" and target.address is None else {}
    request = http.build_request(
        "GET",
        target.pinned_url(address),
        headers={**_REQUEST_HEADERS, "Host": target.netloc},
        timeout=timeout,
        extensions=extensions,
    )
    for name in _NEVER_FORWARDED:
        request.headers.pop(name, None)
    return request


def _redirect_target(current: RemoteUrl, response: httpx.Response) -> RemoteUrl:
    location = response.headers.get("location")
    if not location:
        raise InvalidRequest("image URL could not be fetched: a redirect had no Location")
    return parse_remote_url(urljoin(current.url, location))


async def _read_image(response: httpx.Response) -> InlineImage:
    if not 200 <= response.status_code < 300:
        raise InvalidRequest(
            f"image URL could not be fetched: the server answered HTTP {response.status_code}"
        )
    declared_length = ascii_int(response.headers.get("content-length", ""))
    if declared_length is not None and declared_length > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > MAX_IMAGE_BYTES:
            raise ImageTooLarge(f"image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    return image_from_bytes(bytes(body), declared=response.headers.get("content-type"))
