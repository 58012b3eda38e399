"""The upstream client's httpx transport: HTTP/1.1 on asyncio protocols, parsed by httptools.

The provider adapters speak httpx (``shared/providers/http_client.py``); what changes here is
what sits under it. httpx's default transport (httpcore on h11, both pure Python) costs about
half of the gateway's CPU spent on an upstream call, and hands a streamed body over one HTTP
chunk at a time: every SSE event of an upstream stream passed through h11, httpcore and anyio
separately. Here the bytes are parsed where they arrive (``data_received``, by uvicorn's C
parser, already in the layer), the request leaves in one write, and a body iterator yields
everything one socket read brought. docs/BENCHMARKS.md has the figures.

What it does: keep-alive connections per host (idle ones kept ``KEEPALIVE_EXPIRY_S``, at most
``MAX_IDLE_PER_HOST``), TLS with httpx's verifying context, httpx's connect / read / write
timeouts, the body read with back-pressure (the socket is paused while ``HIGH_WATER`` bytes wait),
bodies delimited by length, chunks or the connection's close, interim 1xx answers skipped, and one
silent retry on a new connection when a kept connection turns out closed before any byte of the
answer (the server dropped it while idle). Every failure is the httpx exception httpx's own
transport raises for it, so ``transport_failures`` and the router see no difference. Not
supported, and not used by the gateway: proxies (the client is built with ``trust_env=False``),
HTTP/2, HEAD requests, protocol upgrades.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

import httptools
import httpx

KEEPALIVE_EXPIRY_S = 60.0
MAX_IDLE_PER_HOST = 64
HIGH_WATER = 256 * 1024


class _Stale(Exception):
    """A kept connection ended before any byte of the answer: the request can go again."""


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: the protocol callbacks, and httptools' for the current answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._paused = False
        self._begin()

    def _begin(self) -> None:
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_done = False
        self.done = False
        self.keep_alive = False
        self.received = False
        self.failure: BaseException | None = None
        self._body = bytearray()

    def start(self) -> None:
        """A new exchange on this connection: a fresh parser for its answer."""
        self._begin()
        self._parser = httptools.HttpResponseParser(self)

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        self.received = True
        if self._parser is None:  # bytes nobody asked for: the connection cannot be trusted
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.failure = httpx.RemoteProtocolError(f"malformed answer from the upstream: {exc}")
            self.close()
        if len(self._body) > HIGH_WATER and self.transport is not None and not self._paused:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    # httptools callbacks

    def on_status(self, status: bytes) -> None:
        self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        self.status = self._parser.get_status_code()
        self.keep_alive = self._parser.should_keep_alive()
        self.head_done = self.status >= 200

    def on_body(self, body: bytes) -> None:
        self._body += body

    def on_message_complete(self) -> None:
        if self.status < 200:  # an interim answer (100 Continue, 103 Early Hints): the real one follows
            self.reason, self.headers = b"", []
            return
        self.done = True

    # the exchange

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def take_body(self) -> bytes:
        data = bytes(self._body)
        self._body.clear()
        if self._paused and self.transport is not None and not self.closed:
            self._paused = False
            self.transport.resume_reading()
        return data

    @property
    def delimited_by_close(self) -> bool:
        names = {name.lower() for name, _ in self.headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    async def wait(self, timeout: float | None) -> None:
        """Until more of the answer arrived or the connection closed."""
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout):
                await waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def park(self) -> None:
        """Idle in the pool: bytes arriving now were never asked for, and close it."""
        self._parser = None
        self.idle_since = time.monotonic()

    def reusable(self) -> bool:
        return self.done and self.keep_alive and not self.closed and not self._body

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        self._wake()


class H1Transport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncClient(transport=H1Transport())`` for calls to upstream model servers."""

    def __init__(self) -> None:
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._ssl: Any = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = _origin(request.url)
        timeouts = request.extensions.get("timeout", {})
        message = _request_bytes(request, await request.aread())
        connection = self._take(origin)
        if connection is not None:
            try:
                await self._send(connection, message, request, timeouts, reused=True)
                return self._response(origin, connection, request, timeouts)
            except _Stale:
                pass  # closed while idle: the server never saw this request
        connection = await self._connect(origin, request, timeouts.get("connect"))
        await self._send(connection, message, request, timeouts, reused=False)
        return self._response(origin, connection, request, timeouts)

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()

    def _take(self, origin: _Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < KEEPALIVE_EXPIRY_S:
                return connection
            connection.close()
        return None

    def _give_back(self, origin: _Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if connection.reusable() and len(idle) < MAX_IDLE_PER_HOST:
            connection.park()
            idle.append(connection)
        else:
            connection.close()

    async def _connect(self, origin: _Origin, request: httpx.Request, timeout: float | None) -> _Connection:
        loop = asyncio.get_running_loop()
        tls = origin.scheme == "https"
        if tls and self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    _Connection,
                    origin.host,
                    origin.port,
                    ssl=self._ssl if tls else None,
                    server_hostname=origin.host if tls else None,
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(
                f"connecting to {origin.host}:{origin.port} timed out", request=request
            ) from exc
        except OSError as exc:  # refused, unreachable, DNS, TLS (ssl.SSLError is an OSError)
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        return connection

    async def _send(
        self,
        connection: _Connection,
        message: bytes,
        request: httpx.Request,
        timeouts: dict[str, float | None],
        *,
        reused: bool,
    ) -> None:
        """The request, then the answer's status line and headers."""
        connection.start()
        try:
            connection.send(message)
            while not connection.head_done:
                if connection.failure is not None:
                    raise connection.failure
                if connection.closed:
                    if reused and not connection.received:
                        raise _Stale
                    raise httpx.RemoteProtocolError(
                        "Server disconnected without sending a response.", request=request
                    )
                await connection.wait(timeouts.get("read"))
        except TimeoutError as exc:
            connection.close()
            raise httpx.ReadTimeout("timed out waiting for the upstream's answer", request=request) from exc
        except BaseException:
            connection.close()
            raise

    def _response(
        self,
        origin: _Origin,
        connection: _Connection,
        request: httpx.Request,
        timeouts: dict[str, float | None],
    ) -> httpx.Response:
        return httpx.Response(
            connection.status,
            headers=connection.headers,
            stream=_Body(self, origin, connection, request, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": connection.reason},
        )


class _Body(httpx.AsyncByteStream):
    """The answer's body: what each socket read brought, until the end of the message."""

    def __init__(
        self,
        transport: H1Transport,
        origin: _Origin,
        connection: _Connection,
        request: httpx.Request,
        timeout: float | None,
    ) -> None:
        self._transport = transport
        self._origin = origin
        self._connection = connection
        self._request = request
        self._timeout = timeout
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        while True:
            data = connection.take_body()
            if data:
                yield data
                continue  # more may have arrived (even the end) while the consumer had it
            if connection.failure is not None:
                raise connection.failure
            if connection.done:
                return
            if connection.closed:
                if connection.delimited_by_close:
                    connection.keep_alive = False
                    return
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body", request=self._request
                )
            try:
                await connection.wait(self._timeout)
            except TimeoutError as exc:
                connection.close()
                raise httpx.ReadTimeout(
                    "timed out reading the upstream's answer", request=self._request
                ) from exc

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._transport._give_back(self._origin, self._connection)


def _origin(url: httpx.URL) -> _Origin:
    if url.scheme not in {"http", "https"}:
        raise httpx.UnsupportedProtocol(f"not an http(s) URL: {url}")
    return _Origin(url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))


def _request_bytes(request: httpx.Request, body: bytes) -> bytes:
    """Request line, headers and body, for one write. httpx has set Host and the body's length
    (or chunked framing, for a streamed body: sent here as one chunk)."""
    head = [request.method.encode("ascii") + b" " + request.url.raw_path + b" HTTP/1.1"]
    chunked = False
    for name, value in request.headers.raw:
        if b"\r" in name or b"\n" in name or b"\r" in value or b"\n" in value or b":" in name:
            raise httpx.LocalProtocolError(
                "header names and values may not contain line breaks", request=request
            )
        chunked = chunked or (name.lower() == b"transfer-encoding" and b"chunked" in value.lower())
        head.append(name + b": " + value)
    if chunked:
        body = (b"%x\r\n" % len(body) + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    return b"\r\n".join(head) + b"\r\n\r\n" + body
