"""One pooled httpx client per event loop, kept for the life of the Lambda instance.

The providers build their JSON requests with ``prepare_json`` (possibly ahead of time: while the
admission is in flight) and send them with ``post_prepared`` and ``stream_prepared``: an
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
from typing import TYPE_CHECKING

from shared.settings import get_settings

if TYPE_CHECKING:
    import httpx

    from shared.providers.upstream_client import UpstreamClient


# Keyed by the loop itself (weakly): a new loop may reuse a dead loop's id().
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, UpstreamClient] = weakref.WeakKeyDictionary()


def upstream_client() -> UpstreamClient:
    """Connection reuse across invocations; a fresh client for a new loop (tests run several)."""
    import httpx

    from shared.providers.h1_transport import H1Transport
    from shared.providers.upstream_client import UpstreamClient

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
        client = UpstreamClient(timeout=timeout, transport=transport, follow_redirects=False, trust_env=False)
        _clients[loop] = client
    return client


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
