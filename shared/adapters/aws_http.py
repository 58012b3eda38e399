"""HTTP/1.1 POSTs to AWS API endpoints, for shared/adapters/aws_json.py, on the request path's
HTTP/1.1 core (shared/adapters/h1.py: kept-alive connections, answers parsed by httptools).

Small JSON requests to a handful of hosts, each answer read whole. Measured on this project's
machine, a call costs about half the CPU of an aiohttp session's and imports nothing new (aiohttp
alone adds about 350 ms to a cold start); docs/BENCHMARKS.md has the figures. TLS uses the default
verifying context. Failures are ``ConnectionError`` or ``TimeoutError`` subclasses
(``h1.ConnectFailed``, ``h1.ProtocolError``, ``h1.ConnectTimeout``, ``h1.ReadTimeout``), which
``aws_json`` retries.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from shared.adapters import h1

CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0


@dataclass
class Answer:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class ConnectionPool:
    """Kept connections per endpoint, for one event loop."""

    def __init__(self) -> None:
        self._pool = h1.Pool(_tls_context)

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> Answer:
        origin = h1.Origin.of(url)
        connection = await self._pool.open(
            origin,
            _request_bytes(url, headers, body),
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
        )
        try:
            data = b"".join([piece async for piece in connection.body(READ_TIMEOUT_S)])
        finally:
            self._pool.release(origin, connection)
        names = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in connection.headers
        }
        return Answer(connection.status, names, data)

    def close(self) -> None:
        self._pool.close()


def _request_bytes(url: str, headers: dict[str, str], body: bytes) -> bytes:
    parts = urlsplit(url)
    fields = {"host": parts.netloc, **headers, "content-length": str(len(body))}
    lines = [f"POST {parts.path or '/'} HTTP/1.1".encode("latin-1")]
    for name, value in fields.items():
        raw_name, raw_value = name.encode("latin-1"), value.encode("latin-1")
        h1.check_header(raw_name, raw_value)
        lines.append(raw_name + b": " + raw_value)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
