"""HTTP/1.1 POSTs to AWS API endpoints over kept-alive connections, for shared/adapters/aws_json.py.

Small JSON requests to a handful of hosts: asyncio streams carry them, httptools (uvicorn's C
parser, already in the layer) parses the answers, idle connections wait in a per-loop pool. Measured
on this project's machine, a call costs about half the CPU of an aiohttp session's and imports
nothing new (aiohttp alone adds about 350 ms to a cold start); docs/BENCHMARKS.md has the figures.

TLS uses the default context (certificates and host names verified). A kept connection that the
server closed while it sat idle (after a Lambda freeze, say) fails before any answer arrives: that
request is sent again once, at once, on a new connection.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

import httptools

CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0
MAX_IDLE_PER_HOST = 32
READ_SIZE = 65536


class StaleConnection(ConnectionError):
    """A reused connection ended before any byte of the answer."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    tls: bool

    @classmethod
    def of(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        tls = parts.scheme == "https"
        return cls(parts.hostname, parts.port or (443 if tls else 80), tls)


@dataclass
class Answer:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    complete: bool = False
    keep_alive: bool = False


class _Parser:
    """httptools callbacks filling an ``Answer``."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.parser = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.answer.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.answer.status = self.parser.get_status_code()
        self.answer.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.answer.body += body

    def on_message_complete(self) -> None:
        self.answer.complete = True


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class ConnectionPool:
    """Idle connections per endpoint, for one event loop."""

    def __init__(self) -> None:
        self._idle: dict[Endpoint, list[_Connection]] = {}

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> Answer:
        endpoint = Endpoint.of(url)
        request = _request_bytes(url, headers, body)
        reused = self._take(endpoint)
        if reused is not None:
            try:
                return await self._exchange(endpoint, reused, request, reused=True)
            except StaleConnection:
                pass  # closed while idle: the server never saw the request
        return await self._exchange(endpoint, await _connect(endpoint), request, reused=False)

    def _take(self, endpoint: Endpoint) -> _Connection | None:
        idle = self._idle.get(endpoint)
        while idle:
            reader, writer = idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return None

    async def _exchange(
        self, endpoint: Endpoint, connection: _Connection, request: bytes, *, reused: bool
    ) -> Answer:
        reader, writer = connection
        answer = Answer()
        parser = _Parser(answer)
        try:
            writer.write(request)
            while not answer.complete:
                async with asyncio.timeout(READ_TIMEOUT_S):
                    data = await reader.read(READ_SIZE)
                if not data:
                    if reused and answer.status == 0 and not answer.body:
                        raise StaleConnection("connection closed before the answer")
                    raise ConnectionError("connection closed mid-answer")
                parser.parser.feed_data(data)
        except ConnectionResetError as error:
            writer.close()
            if reused and answer.status == 0:
                raise StaleConnection("connection reset before the answer") from error
            raise
        except BaseException:
            writer.close()
            raise
        if answer.keep_alive and not reader.at_eof():
            idle = self._idle.setdefault(endpoint, [])
            if len(idle) < MAX_IDLE_PER_HOST:
                idle.append(connection)
                return answer
        writer.close()
        return answer

    def close(self) -> None:
        for idle in self._idle.values():
            for _, writer in idle:
                writer.close()
        self._idle.clear()


async def _connect(endpoint: Endpoint) -> _Connection:
    async with asyncio.timeout(CONNECT_TIMEOUT_S):
        return await asyncio.open_connection(
            endpoint.host,
            endpoint.port,
            ssl=_tls_context() if endpoint.tls else None,
            server_hostname=endpoint.host if endpoint.tls else None,
        )


def _request_bytes(url: str, headers: dict[str, str], body: bytes) -> bytes:
    path = urlsplit(url).path or "/"
    lines = [f"POST {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
    lines.append(f"content-length: {len(body)}")
    for line in lines:
        if "\r" in line or "\n" in line:
            raise ValueError("header values may not contain line breaks")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
