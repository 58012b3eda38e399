"""The hot path's HTTP transport (shared/adapters/aws_http.py) against a scripted loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

from shared.adapters import aws_http, h1
from shared.adapters.aws_http import ConnectionPool

Reply = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[bool]]


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
    if not head:
        return None
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    return await reader.readexactly(length)


class Server:
    """Answers each request with ``reply``; counts connections and requests."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.connections = 0
        self.requests = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                try:
                    body = await read_request(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                if body is None:
                    return
                self.requests += 1
                if not await self.reply(reader, writer, self.requests):
                    return
        finally:
            writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/"

    async def __aexit__(self, *exc: object) -> None:
        for writer in self.writers:
            writer.close()
        self.server.close()


async def ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
    body = b'{"n": %d}' % n
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (len(body), body)
    )
    await writer.drain()
    return True


def run[T](coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_connections_are_kept_and_reused() -> None:
    async def go() -> tuple[list[bytes], int, int]:
        server = Server(ok)
        async with server as url:
            pool = ConnectionPool()
            bodies = [bytes((await pool.post(url, {"x-a": "1"}, b"{}")).body) for _ in range(3)]
            pool.close()
        return bodies, server.connections, server.requests

    bodies, connections, requests = run(go())
    assert bodies == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
    assert (connections, requests) == (1, 3)


def test_connection_close_is_honoured() -> None:
    async def close_after(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        return False

    async def go() -> int:
        server = Server(close_after)
        async with server as url:
            pool = ConnectionPool()
            for _ in range(2):
                assert (await pool.post(url, {}, b"{}")).status == 200
        return server.connections

    assert run(go()) == 2


def test_chunked_answers_are_read_whole() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
        writer.write(
            b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\nX-Amzn-ErrorType: Oops\r\n\r\n"
        )
        writer.write(b'3\r\n{"a\r\n')
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.write(b'4\r\n": 1\r\n1\r\n}\r\n0\r\n\r\n')
        await writer.drain()
        return True

    async def go() -> aws_http.Answer:
        async with Server(chunked) as url:
            return await ConnectionPool().post(url, {}, b"{}")

    answer = run(go())
    assert answer.status == 400 and bytes(answer.body) == b'{"a": 1}'
    assert answer.headers["x-amzn-errortype"] == "Oops"


def test_an_idle_connection_the_server_closed_is_replaced_once() -> None:
    """The server drops the kept connection while it is idle (as after a Lambda freeze): the
    next request goes out again on a new connection and is answered."""

    async def go() -> tuple[int, int, int]:
        server = Server(ok)
        async with server as url:
            pool = ConnectionPool()
            await pool.post(url, {}, b"{}")
            for writer in server.writers:
                writer.close()
            await asyncio.sleep(0.05)
            answer = await pool.post(url, {}, b"{}")
        return answer.status, server.connections, server.requests

    assert run(go()) == (200, 2, 2)


def test_an_answer_cut_short_is_an_error() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial')
        await writer.drain()
        return False

    async def go() -> None:
        async with Server(cut) as url:
            await ConnectionPool().post(url, {}, b"{}")

    with pytest.raises(ConnectionError):
        run(go())


def test_a_silent_server_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aws_http, "READ_TIMEOUT_S", 0.05)

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
        await asyncio.sleep(1)
        return False

    async def go() -> None:
        async with Server(silent) as url:
            await ConnectionPool().post(url, {}, b"{}")

    with pytest.raises(TimeoutError):
        run(go())


@pytest.mark.parametrize("value", ["a\r\nx-injected: 1", "a\nb"])
def test_header_values_cannot_inject_lines(value: str) -> None:
    with pytest.raises(ValueError, match="line breaks"):
        aws_http._request_bytes("http://h/", {"x-a": value}, b"")


@pytest.mark.parametrize("url", ["ftp://h/", "file:///etc/passwd", "http:///nohost"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(ValueError):
        run(ConnectionPool().post(url, {}, b"{}"))


def test_https_uses_the_default_verifying_context() -> None:
    context = aws_http._tls_context()
    assert context.verify_mode.name == "CERT_REQUIRED" and context.check_hostname
    origin = h1.Origin.of("https://dynamodb.eu-west-1.amazonaws.com/")
    assert (origin.host, origin.port, origin.tls) == ("dynamodb.eu-west-1.amazonaws.com", 443, True)


def test_one_request_is_one_write_of_head_and_body() -> None:
    message = aws_http._request_bytes("https://h.example/", {"x-amz-target": "T.Op"}, b'{"a":1}')
    assert (
        message
        == b'POST / HTTP/1.1\r\nhost: h.example\r\nx-amz-target: T.Op\r\ncontent-length: 7\r\n\r\n{"a":1}'
    )
