"""One pooled httpx client per event loop, kept for the life of the Lambda instance.

The providers send their JSON requests with ``post_json`` and ``stream_json``: an
``httpx.Request`` handed straight to the client's transport, with the client's default headers
and timeouts. ``AsyncClient.send`` adds what these calls never use (auth flows, redirects,
cookies, event hooks) in layers that cost about 0.13 ms per call here, a third of the client's
CPU for an upstream call.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from shared.json_codec import dumps
from shared.settings import get_settings

if TYPE_CHECKING:
    import httpx

    class UpstreamHttp(Protocol):
        is_closed: bool

        async def post_json(self, url: httpx.URL, body: Any, headers: dict[str, str]) -> httpx.Response: ...

        def stream_json(
            self, url: httpx.URL, body: Any, headers: dict[str, str]
        ) -> contextlib.AbstractAsyncContextManager[httpx.Response]: ...


# Keyed by the loop itself (weakly): a new loop may reuse a dead loop's id().
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, UpstreamHttp] = weakref.WeakKeyDictionary()


def upstream_client() -> UpstreamHttp:
    """Connection reuse across invocations; a fresh client for a new loop (tests run several)."""
    import httpx

    from shared.providers.h1_transport import H1Transport

    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        settings = get_settings()
        timeout = httpx.Timeout(
            connect=settings.upstream_connect_timeout,
            read=settings.upstream_read_timeout,
            write=settings.upstream_connect_timeout,
            pool=settings.upstream_connect_timeout,
        )
        transport = H1Transport()  # keep-alive and its limits: shared/providers/h1_transport.py
        client = _client_class()(
            timeout=timeout, transport=transport, follow_redirects=False, trust_env=False
        )
        _clients[loop] = client
    return client


@functools.cache
def _client_class() -> type[Any]:
    import httpx

    class UpstreamClient(httpx.AsyncClient):
        """An ``httpx.AsyncClient`` without a cookie jar. One client serves every account's calls
        in an instance, so a cookie set by an upstream's answer to one request (hosted APIs
        behind a CDN set them) would go out with the next account's requests; reading
        ``Set-Cookie`` into the jar also cost about 40 µs per call."""

        def __init__(self, *, transport: httpx.AsyncBaseTransport, **kwargs: Any) -> None:
            super().__init__(transport=transport, **kwargs)
            self._upstream = transport
            self._defaults = dict(self.headers)  # accept, accept-encoding, connection, user-agent
            self._timeouts = self.timeout.as_dict()

        def _request(self, url: httpx.URL, body: Any, headers: dict[str, str]) -> httpx.Request:
            merged = {**self._defaults, "content-type": "application/json", **headers}
            return httpx.Request(
                "POST", url, headers=merged, content=dumps(body), extensions={"timeout": self._timeouts}
            )

        async def _open(self, request: httpx.Request) -> httpx.Response:
            if self.is_closed:
                raise RuntimeError("the upstream client is closed")
            response = await self._upstream.handle_async_request(request)
            response.request = request
            return response

        async def post_json(self, url: httpx.URL, body: Any, headers: dict[str, str]) -> httpx.Response:
            """``post(url, json=body, headers=headers)``: the answer, read to the end."""
            response = await self._open(self._request(url, body, headers))
            try:
                await response.aread()
            finally:
                await response.aclose()
            return response

        @contextlib.asynccontextmanager
        async def stream_json(
            self, url: httpx.URL, body: Any, headers: dict[str, str]
        ) -> AsyncIterator[httpx.Response]:
            """``stream("POST", url, json=body, headers=headers)``: the answer's body unread."""
            response = await self._open(self._request(url, body, headers))
            try:
                yield response
            finally:
                await response.aclose()

        @property
        def cookies(self) -> httpx.Cookies:
            return _NoCookies()

        @cookies.setter
        def cookies(self, cookies: object) -> None:
            raise TypeError("the upstream client keeps no cookies")

    class _NoCookies(httpx.Cookies):
        def extract_cookies(self, response: httpx.Response) -> None:
            return None

    return UpstreamClient


@functools.lru_cache(maxsize=64)
def parsed_url(url: str) -> httpx.URL:
    """``url`` parsed once: httpx parses a string URL on every request (about 40 µs here)."""
    import httpx

    return httpx.URL(url)


DRAIN_LIMIT_BYTES = 64 * 1024
DRAIN_TIMEOUT_S = 1.0


async def finish_body(body: AsyncIterator[bytes]) -> None:
    """After a stream's last event: read the rest of the body (the chunked terminator, a blank
    line) so that its connection goes back to the pool instead of being closed, and the next
    streamed call skips a TCP (and TLS) handshake. A body that goes on (more than
    ``DRAIN_LIMIT_BYTES``, or not finished within ``DRAIN_TIMEOUT_S``) is left: its connection is
    closed with the response, as before."""
    left = DRAIN_LIMIT_BYTES
    try:
        async with asyncio.timeout(DRAIN_TIMEOUT_S):
            async for chunk in body:
                left -= len(chunk)
                if left < 0:
                    return
    except TimeoutError:
        return


def retry_after(response: httpx.Response) -> float | None:
    """The upstream's ``Retry-After`` in seconds, when it gave a number."""
    value = response.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None


@contextlib.contextmanager
def transport_failures() -> Iterator[None]:
    """httpx timeouts and transport errors inside the block, as the router's ``UpstreamCallFailed``
    (retried, then the next route; shared/gateway/router.py)."""
    import httpx

    from shared.providers.base import failed_connect, failed_timeout

    try:
        yield
    except httpx.TimeoutException as exc:
        raise failed_timeout(exc) from exc
    except httpx.TransportError as exc:
        raise failed_connect(exc) from exc
