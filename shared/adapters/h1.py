"""HTTP/1.1 client connections for the request path: asyncio protocols, answers parsed by httptools.

One core for the two clients on the chat hot path: the upstream model calls (httpx's transport,
``shared/providers/h1_transport.py``) and the AWS calls (``shared/adapters/aws_http.py``). The
bytes of an answer are parsed where they arrive (``data_received``, by uvicorn's C parser, already
a runtime dependency); a request leaves in one write; a body is handed over as whatever each socket
read brought. docs/BENCHMARKS.md has the figures against httpx's own transport and aiohttp.

What a ``Pool`` does: keep-alive connections per origin (idle ones kept ``KEEPALIVE_EXPIRY_S``,
at most ``MAX_IDLE_PER_HOST``), TLS with the context its owner gives, connect and read timeouts,
back-pressure while a body is read (the socket pauses while ``HIGH_WATER`` bytes wait), bodies
delimited by length, chunks or the connection's close, interim 1xx answers skipped, and one silent
retry on a new connection when a kept connection turns out closed before any byte of the answer
(the server dropped it while idle, after a Lambda freeze say). Not supported, and not needed by
either client: proxies, HTTP/2, HEAD requests, protocol upgrades, pipelining.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools

KEEPALIVE_EXPIRY_S = 60.0
MAX_IDLE_PER_HOST = 64
HIGH_WATER = 256 * 1024


class ConnectTimeout(TimeoutError):
    pass


class ReadTimeout(TimeoutError):
    pass


class ConnectFailed(ConnectionError):
    """Refused, unreachable, a name that does not resolve, a TLS handshake that failed."""


class ProtocolError(ConnectionError):
    """The answer is malformed, or the connection ended before it was complete."""


class _Stale(Exception):
    """A kept connection ended before any byte of the answer: the request can go again."""


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        return cls(parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


class Connection(asyncio.Protocol):
    """One connection: the protocol callbacks, and httptools' for the answer being read."""

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
        self.failure: ProtocolError | None = None
        self._body = bytearray()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        self.received = True
        if self._parser is None:  # bytes nobody asked for (while idle): the connection cannot be trusted
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.failure = ProtocolError(f"malformed answer: {exc}")
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

    # one exchange

    async def exchange(self, message: bytes, read_timeout: float | None, *, reused: bool) -> None:
        """Send the request; return once the answer's status line and headers are in."""
        self._begin()
        self._parser = httptools.HttpResponseParser(self)
        try:
            assert self.transport is not None
            self.transport.write(message)
            while not self.head_done:
                if self.failure is not None:
                    raise self.failure
                if self.closed:
                    if reused and not self.received:
                        raise _Stale
                    raise ProtocolError("the server closed the connection without answering")
                await self._wait(read_timeout)
        except TimeoutError as exc:
            self.close()
            raise ReadTimeout("no answer in time") from exc
        except BaseException:
            self.close()
            raise

    async def body(self, read_timeout: float | None) -> AsyncIterator[bytes]:
        """The answer's body, a piece per socket read, to its end."""
        while True:
            data = self._take_body()
            if data:
                yield data
                continue  # more may have arrived (even the end) while the consumer had it
            if self.failure is not None:
                raise self.failure
            if self.done:
                return
            if self.closed:
                if self._delimited_by_close():
                    self.keep_alive = False
                    return
                raise ProtocolError("the connection closed before the end of the body")
            try:
                await self._wait(read_timeout)
            except TimeoutError as exc:
                self.close()
                raise ReadTimeout("the body stopped arriving") from exc

    def _take_body(self) -> bytes:
        data = bytes(self._body)
        self._body.clear()
        if self._paused and self.transport is not None and not self.closed:
            self._paused = False
            self.transport.resume_reading()
        return data

    def _delimited_by_close(self) -> bool:
        names = {name.lower() for name, _ in self.headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    async def _wait(self, timeout: float | None) -> None:
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

    def park(self) -> bool:
        """Idle in a pool, if the last answer left it reusable. Bytes arriving now close it."""
        if not (self.done and self.keep_alive and not self.closed and not self._body):
            return False
        self._parser = None
        self.idle_since = time.monotonic()
        return True

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        self._wake()


class Pool:
    """Kept connections per origin, for one event loop."""

    def __init__(self, tls_context: Callable[[], ssl.SSLContext]) -> None:
        self._idle: dict[Origin, list[Connection]] = {}
        self._tls_context = tls_context

    async def open(
        self, origin: Origin, message: bytes, *, connect_timeout: float | None, read_timeout: float | None
    ) -> Connection:
        """A connection on which ``message`` was sent and the answer's head has arrived; read
        its ``body`` and hand it back with ``release``."""
        connection = self._take(origin)
        if connection is not None:
            try:
                await connection.exchange(message, read_timeout, reused=True)
                return connection
            except _Stale:
                pass  # closed while idle: the server never saw this request
        connection = await self._connect(origin, connect_timeout)
        await connection.exchange(message, read_timeout, reused=False)
        return connection

    def release(self, origin: Origin, connection: Connection) -> None:
        """Back to the pool if its answer was read to the end and it may be kept; closed otherwise."""
        idle = self._idle.setdefault(origin, [])
        if len(idle) < MAX_IDLE_PER_HOST and connection.park():
            idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()

    def _take(self, origin: Origin) -> Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < KEEPALIVE_EXPIRY_S:
                return connection
            connection.close()
        return None

    async def _connect(self, origin: Origin, timeout: float | None) -> Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    Connection,
                    origin.host,
                    origin.port,
                    ssl=self._tls_context() if origin.tls else None,
                    server_hostname=origin.host if origin.tls else None,
                )
        except TimeoutError as exc:
            raise ConnectTimeout(f"connecting to {origin.host}:{origin.port} timed out") from exc
        except OSError as exc:  # refused, unreachable, DNS, TLS (ssl.SSLError is an OSError)
            raise ConnectFailed(str(exc) or type(exc).__name__) from exc
        return connection


def check_header(name: bytes, value: bytes) -> None:
    """No line break may reach the wire from a header (nor a colon from its name)."""
    if b"\r" in name or b"\n" in name or b":" in name or b"\r" in value or b"\n" in value:
        raise ValueError("header names and values may not contain line breaks")
