"""The upstream client's httpx transport, on the request path's HTTP/1.1 core (shared/adapters/h1.py).

The provider adapters speak httpx (``shared/providers/http_client.py``); what changes here is
what sits under it. httpx's default transport (httpcore on h11, both pure Python) costs about
half of the gateway's CPU spent on an upstream call, writes a request as two socket sends, and
hands a streamed body over one HTTP chunk at a time: every SSE event of an upstream stream passed
through h11, httpcore and anyio separately. Here a request leaves in one write and the body
iterator yields what each socket read brought. docs/BENCHMARKS.md has the figures.

Every failure is the httpx exception httpx's own transport raises for it (``ConnectError``,
``ConnectTimeout``, ``ReadTimeout``, ``RemoteProtocolError``, ``LocalProtocolError``,
``UnsupportedProtocol``), so ``transport_failures`` and the router see no difference. TLS uses
httpx's verifying context. Proxies are not supported: the client is built with
``trust_env=False``.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Iterator

import httpx

from shared.adapters import h1

WIRE = "sluice.h1_message"  # a request's bytes, encoded ahead by ``H1Transport.encode``


class H1Transport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncClient(transport=H1Transport())`` for calls to upstream model servers."""

    def __init__(self) -> None:
        self._ssl: ssl.SSLContext | None = None
        self._pool = h1.Pool(self._tls_context)

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        return self._ssl

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in {"http", "https"}:
            raise httpx.UnsupportedProtocol(f"not an http(s) URL: {request.url}", request=request)
        origin = h1.Origin(
            request.url.scheme, request.url.host, request.url.port or _default_port(request.url)
        )
        timeouts = request.extensions.get("timeout", {})
        message = request.extensions.get(WIRE) or _request_bytes(request, await request.aread())
        with _as_httpx(request):
            connection = await self._pool.open(
                origin, message, connect_timeout=timeouts.get("connect"), read_timeout=timeouts.get("read")
            )
        return httpx.Response(
            connection.status,
            headers=connection.headers,
            stream=_Body(self._pool, origin, connection, request, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": connection.reason},
        )

    def encode(self, request: httpx.Request) -> None:
        """Encode a request with a body in memory for the wire ahead of sending it (the upstream
        client does it while the admission is in flight)."""
        request.extensions[WIRE] = _request_bytes(request, request.read())

    async def aclose(self) -> None:
        self._pool.close()


class _Body(httpx.AsyncByteStream):
    """The answer's body: what each socket read brought, until the end of the message."""

    def __init__(
        self,
        pool: h1.Pool,
        origin: h1.Origin,
        connection: h1.Connection,
        request: httpx.Request,
        timeout: float | None,
    ) -> None:
        self._pool = pool
        self._origin = origin
        self._connection = connection
        self._request = request
        self._timeout = timeout
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx(self._request):
            async for piece in self._connection.body(self._timeout):
                yield piece

    async def aclose(self) -> None:
        if not self._released:  # read to the end: kept for the next call; otherwise closed
            self._released = True
            self._pool.release(self._origin, self._connection)


@contextlib.contextmanager
def _as_httpx(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except h1.ConnectTimeout as exc:
        raise httpx.ConnectTimeout(str(exc), request=request) from exc
    except h1.ConnectFailed as exc:
        raise httpx.ConnectError(str(exc), request=request) from exc
    except h1.ReadTimeout as exc:
        raise httpx.ReadTimeout(str(exc), request=request) from exc
    except h1.ProtocolError as exc:
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


def _request_bytes(request: httpx.Request, body: bytes) -> bytes:
    """Request line, headers and body, for one write. httpx has set Host and the body's length
    (or chunked framing, for a streamed body: sent here as one chunk)."""
    head = [request.method.encode("ascii") + b" " + request.url.raw_path + b" HTTP/1.1"]
    chunked = False
    for name, value in request.headers.raw:
        try:
            h1.check_header(name, value)
        except ValueError as exc:
            raise httpx.LocalProtocolError(str(exc), request=request) from exc
        chunked = chunked or (name.lower() == b"transfer-encoding" and b"chunked" in value.lower())
        head.append(name + b": " + value)
    if chunked:
        body = (b"%x\r\n" % len(body) + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    return b"\r\n".join(head) + b"\r\n\r\n" + body
