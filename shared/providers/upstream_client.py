"""The upstream HTTP client class (imported with httpx, on the first upstream call):
shared/providers/http_client.py keeps one per event loop."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from shared.json_codec import dumps
from shared.providers.h1_transport import H1Transport


class UpstreamClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` without a cookie jar. One client serves every account's calls
    in an instance, so a cookie set by an upstream's answer to one request (hosted APIs
    behind a CDN set them) would go out with the next account's requests; reading
    ``Set-Cookie`` into the jar also cost about 40 µs per call."""

    def __init__(self, *, transport: H1Transport, **kwargs: Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self._upstream = transport
        self._defaults = dict(self.headers)  # accept, accept-encoding, connection, user-agent
        self._timeouts = self.timeout.as_dict()

    def prepare_json(self, url: httpx.URL, body: Any, headers: dict[str, str]) -> httpx.Request:
        """The POST of ``body`` as JSON, ready to send and already encoded for the wire: providers
        build it while the admission is in flight (shared/gateway/router.py, ``FirstRequest``)."""
        merged = {**self._defaults, "content-type": "application/json", **headers}
        request = httpx.Request(
            "POST", url, headers=merged, content=dumps(body), extensions={"timeout": self._timeouts}
        )
        self._upstream.encode(request)
        return request

    async def _open(self, request: httpx.Request) -> httpx.Response:
        if self.is_closed:
            raise RuntimeError("the upstream client is closed")
        response = await self._upstream.handle_async_request(request)
        response.request = request
        return response

    async def post_prepared(self, request: httpx.Request) -> httpx.Response:
        """``send(request)``: the answer, read to the end."""
        response = await self._open(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    @contextlib.asynccontextmanager
    async def stream_prepared(self, request: httpx.Request) -> AsyncIterator[httpx.Response]:
        """``send(request, stream=True)``: the answer's body unread."""
        response = await self._open(request)
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
