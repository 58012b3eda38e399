"""One pooled httpx client per event loop, kept for the life of the Lambda instance."""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING

from shared.settings import get_settings

if TYPE_CHECKING:
    import httpx

# Keyed by the loop itself (weakly): a new loop may reuse a dead loop's id().
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def upstream_client() -> httpx.AsyncClient:
    """Connection reuse across invocations; a fresh client for a new loop (tests run several)."""
    import httpx

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
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=60)
        client = httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False, trust_env=False)
        _clients[loop] = client
    return client
