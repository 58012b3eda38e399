"""H1Transport (the upstream client's httpx transport) against scripted HTTP servers on loopback.

Each server answers every request on a connection with the next answer of its script: bytes to
write, pauses between them, or a close. The requests it read are kept for the assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from shared.adapters import h1
from shared.providers import h1_transport
from shared.providers.h1_transport import H1Transport

type Step = bytes | float | None  # bytes to write, seconds to pause, None to close the connection
type Answer = list[Step]


@dataclass
class Server:
    answers: list[Answer]
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while self.answers:
                request = await _read_request(reader)
                if request is None:
                    return
                self.requests.append(request)
                for step in self.answers.pop(0):
                    if step is None:
                        return
                    if isinstance(step, float):
                        await asyncio.sleep(step)
                    else:
                        writer.write(step)
                        await writer.drain()
            await reader.read()  # keep the connection open until the client closes it
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    body = await reader.readexactly(length) if length else b""
    if b"transfer-encoding: chunked" in head.lower():
        body = await reader.readuntil(b"0\r\n\r\n")
    return head + body


@contextlib.asynccontextmanager
async def serving(*answers: Answer) -> AsyncIterator[Server]:
    server = Server(list(answers))
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    try:
        yield server
    finally:
        listener.close()


def run(test: Callable[[httpx.AsyncClient], Awaitable[None]], timeout: float = 5.0) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(transport=H1Transport(), timeout=timeout) as client:
            await test(client)

    asyncio.run(main())


def ok(body: bytes, *headers: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n" % len(body) + b"".join(h + b"\r\n" for h in headers)
    return head + b"\r\n" + body


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n" % len(data) + data + b"\r\n"


def test_requests_and_answers_on_one_kept_connection() -> None:
    async def test(client: httpx.AsyncClient) -> None:
        async with serving([ok(b'{"a":1}', b"x-up: yes")], [ok(b"second")]) as server:
            first = await client.post(f"{server.url}/v1/chat/completions?x=1", json={"q": "é"})
            second = await client.get(f"{server.url}/v1/models")
            assert (first.status_code, first.json(), first.headers["x-up"]) == (200, {"a": 1}, "yes")
            assert first.http_version == "HTTP/1.1" and first.reason_phrase == "OK"
            assert second.content == b"second"
            assert server.connections == 1
            head, body = server.requests[0].split(b"\r\n\r\n", 1)
            assert head.startswith(b"POST /v1/chat/completions?x=1 HTTP/1.1\r\n")
            assert b"\r\nhost: 127.0.0.1:" in head.lower() and b"content-length: 10" in head.lower()
            assert body == '{"q":"é"}'.encode()

    run(test)


def test_a_chunked_stream_arrives_whole_while_the_consumer_is_slow() -> None:
    """Bytes (and the end of the message) that arrive while the consumer holds a piece are not lost."""
    events = [b"data: %d\n\n" % i for i in range(40)]
    script: Answer = [CHUNKED_HEAD, *(chunk(e) for e in events[:20]), 0.02, *(chunk(e) for e in events[20:])]

    async def test(client: httpx.AsyncClient) -> None:
        async with serving([*script, b"0\r\n\r\n"]) as server:
            received = b""
            async with client.stream("POST", server.url, content=b"{}") as response:
                async for piece in response.aiter_bytes():
                    received += piece
                    await asyncio.sleep(0.005)  # the client's socket write, the next frame...
            assert received == b"".join(events)

    run(test)


def test_one_piece_per_socket_read_not_per_http_chunk() -> None:
    events = [chunk(b"data: %d\n\n" % i) for i in range(30)]

    async def test(client: httpx.AsyncClient) -> None:
        async with serving([CHUNKED_HEAD + b"".join(events) + b"0\r\n\r\n"]) as server:
            async with client.stream("POST", server.url, content=b"{}") as response:
                pieces = [piece async for piece in response.aiter_raw()]
            assert len(pieces) < 5, "h11 would hand over 30 pieces"
            assert b"".join(pieces).count(b"data: ") == 30

    run(test)


def test_a_body_delimited_by_the_close_and_a_closing_server() -> None:
    async def test(client: httpx.AsyncClient) -> None:
        answer: Answer = [b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of ", 0.01, b"it", None]
        async with serving(answer, [ok(b"again")]) as server:
            assert (await client.post(server.url, content=b"")).content == b"all of it"
            assert (await client.post(server.url, content=b"")).content == b"again"
            assert server.connections == 2

    run(test)


def test_interim_answers_are_skipped() -> None:
    async def test(client: httpx.AsyncClient) -> None:
        answer: Answer = [
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n",
            ok(b"final"),
        ]
        async with serving(answer) as server:
            response = await client.post(server.url, content=b"x")
            assert (response.status_code, response.content, "link" in response.headers) == (
                200,
                b"final",
                False,
            )

    run(test)


def test_a_kept_connection_closed_while_idle_is_replaced_once_silently() -> None:
    async def test(client: httpx.AsyncClient) -> None:
        async with serving([ok(b"one"), None], [ok(b"two")]) as server:
            assert (await client.post(server.url, content=b"")).content == b"one"
            await asyncio.sleep(0.05)  # the server has closed the idle connection by now
            assert (await client.post(server.url, content=b"")).content == b"two"
            assert server.connections == 2

    run(test)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ([None], httpx.RemoteProtocolError),  # a new connection closed before any answer
        ([b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort", None], httpx.RemoteProtocolError),
        ([CHUNKED_HEAD, chunk(b"data: 1\n\n"), None], httpx.RemoteProtocolError),
        ([b"NOT HTTP AT ALL\r\n\r\n"], httpx.RemoteProtocolError),
        ([2.0], httpx.ReadTimeout),  # no answer
        ([CHUNKED_HEAD, chunk(b"data: 1\n\n"), 2.0], httpx.ReadTimeout),  # stalls mid-body
    ],
)
def test_failures_are_the_exceptions_httpx_raises(answer: Answer, error: type[Exception]) -> None:
    async def test(client: httpx.AsyncClient) -> None:
        async with serving(answer) as server:
            with pytest.raises(error):
                async with client.stream("POST", server.url, content=b"{}") as response:
                    await response.aread()

    run(test, timeout=0.3)


def test_connect_failures() -> None:
    async def test(client: httpx.AsyncClient) -> None:
        async with serving() as server:
            url = server.url
        with pytest.raises(httpx.ConnectError):  # nothing listens there any more
            await client.get(url)

    run(test)


def test_a_connect_that_hangs_is_a_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    async def hang(*_: object, **__: object) -> None:
        await asyncio.sleep(10)

    async def test(client: httpx.AsyncClient) -> None:
        monkeypatch.setattr(asyncio.get_running_loop(), "create_connection", hang)
        with pytest.raises(httpx.ConnectTimeout):
            await client.get("http://127.0.0.1:9/")

    run(test, timeout=0.2)


def test_a_body_left_unread_closes_its_connection() -> None:
    async def test(client: httpx.AsyncClient) -> None:
        async with serving([CHUNKED_HEAD, chunk(b"data: 1\n\n"), 0.5, b"0\r\n\r\n"], [ok(b"next")]) as server:
            async with client.stream("POST", server.url, content=b"{}") as response:
                async for _ in response.aiter_bytes():
                    break  # the client went away
            assert (await client.post(server.url, content=b"")).content == b"next"
            assert server.connections == 2

    run(test)


def test_a_large_body_is_read_with_back_pressure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(h1, "HIGH_WATER", 4096)
    body = bytes(range(256)) * 4096  # 1 MiB

    async def test(client: httpx.AsyncClient) -> None:
        async with serving([ok(body)]) as server:
            received = b""
            async with client.stream("GET", server.url) as response:
                async for piece in response.aiter_raw():
                    received += piece
                    await asyncio.sleep(0)
            assert received == body

    run(test)


def test_idle_connections_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(h1, "KEEPALIVE_EXPIRY_S", 0.0)

    async def test(client: httpx.AsyncClient) -> None:
        async with serving([ok(b"1")], [ok(b"2")]) as server:
            await client.get(server.url)
            await client.get(server.url)
            assert server.connections == 2

    run(test)


def test_a_streamed_request_body_is_sent_chunked() -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b"hello "
        yield b"world"

    async def test(client: httpx.AsyncClient) -> None:
        async with serving([ok(b"done")]) as server:
            assert (await client.post(server.url, content=parts())).content == b"done"
            assert server.requests[0].endswith(b"\r\n\r\nb\r\nhello world\r\n0\r\n\r\n")

    run(test)


def test_line_breaks_in_headers_never_reach_the_wire() -> None:
    request = httpx.Request("POST", "http://x/", headers={"x-a": "ok"}, content=b"")
    request.headers["x-b"] = "v"
    request.headers._list.append((b"x-evil", b"x-evil", b"a\r\nx-injected: 1"))  # past httpx's own checks
    with pytest.raises(httpx.LocalProtocolError):
        h1_transport._request_bytes(request, b"")


def test_only_http_urls() -> None:
    async def test(client: httpx.AsyncClient) -> None:
        with pytest.raises(httpx.UnsupportedProtocol):
            await client.get("ftp://127.0.0.1/")

    run(test)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def test_tls_verifies_the_certificate_and_the_host_name(tmp_path: Path) -> None:
    cert_file, key_file = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)

    async def main() -> None:
        server = Server([[ok(b"secret")], [ok(b"secret")]])
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=server_context)
        port = listener.sockets[0].getsockname()[1]
        try:
            async with httpx.AsyncClient(transport=H1Transport(), timeout=5) as client:
                with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    await client.get(f"https://localhost:{port}/")  # not signed by a trusted CA
            trusting = H1Transport()
            trusting._ssl = ssl.create_default_context(cafile=cert_file)  # what the pool asks for
            async with httpx.AsyncClient(transport=trusting, timeout=5) as client:
                assert (await client.get(f"https://localhost:{port}/")).content == b"secret"
                with pytest.raises(httpx.ConnectError, match="mismatch"):
                    await client.get(f"https://127.0.0.1:{port}/")  # the certificate names localhost only
        finally:
            listener.close()

    asyncio.run(main())


def test_the_shared_upstream_client_sends_no_cookie_an_answer_set() -> None:
    """One client serves every account: one caller's upstream cookie must not reach the next."""
    from shared.providers.http_client import upstream_client

    async def main() -> list[bytes]:
        async with serving(
            [ok(b"first", b"set-cookie: session=account-a; Path=/")], [ok(b"second")]
        ) as server:
            client = upstream_client()
            try:
                await client.get(f"{server.url}/v1/models")
                await client.get(f"{server.url}/v1/models")
            finally:
                await client.aclose()
            return server.requests

    requests = asyncio.run(main())
    assert len(requests) == 2
    assert b"cookie" not in requests[1].lower()


def test_prepared_requests_send_what_client_post_sent_and_keep_the_connection() -> None:
    """The providers' calls go straight to the transport: the same request line, headers (the
    client's defaults, then the provider's) and compact JSON body as ``client.post(json=...)``,
    the answer read (or streamed) the same way, and the connection back in the pool after each."""
    from shared.providers.http_client import upstream_client

    async def main() -> tuple[Server, list[bytes], bytes]:
        stream = CHUNKED_HEAD + chunk(b"data: one\n\n") + chunk(b"data: two\n\n") + b"0\r\n\r\n"
        answers = [ok(b'{"a":1}', b"set-cookie: s=1")], [stream], [ok(b'{"b":2}')]
        async with serving(*answers) as server:
            client = upstream_client()
            url = httpx.URL(f"{server.url}/v1/chat/completions")
            try:
                first = await client.post_prepared(
                    client.prepare_json(url, {"q": "é"}, {"authorization": "Bearer k"})
                )
                streamed = client.prepare_json(url, {"s": True}, {"accept": "text/event-stream"})
                async with client.stream_prepared(streamed) as response:
                    pieces = [piece async for piece in response.aiter_bytes()]
                last = await client.post_prepared(client.prepare_json(url, {}, {}))
                assert (first.status_code, first.json(), last.json()) == (200, {"a": 1}, {"b": 2})
                assert first.request.url == url
            finally:
                await client.aclose()
            return server, pieces, b"".join(pieces)

    server, _, streamed = asyncio.run(main())
    assert streamed == b"data: one\n\ndata: two\n\n"
    assert server.connections == 1, "each answer read to its end gave the connection back"
    head, body = server.requests[0].lower().split(b"\r\n\r\n", 1)
    assert head.startswith(b"post /v1/chat/completions http/1.1\r\n")
    for header in (
        b"content-type: application/json",
        b"authorization: bearer k",
        b"user-agent: python-httpx/",
        b"accept-encoding: gzip",
        b"content-length: 10",
    ):
        assert b"\r\n" + header in head, header
    assert body == '{"q":"é"}'.encode()
    assert b"accept: text/event-stream" in server.requests[1].lower()
    assert b"cookie" not in server.requests[2].lower()


def test_prepared_request_times_out_by_the_clients_read_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.providers.http_client import upstream_client
    from shared.settings import get_settings

    monkeypatch.setenv("SLUICE_UPSTREAM_READ_TIMEOUT", "0.2")
    get_settings.cache_clear()

    async def main() -> None:
        async with serving([2.0, ok(b"late")]) as server:
            client = upstream_client()
            try:
                with pytest.raises(httpx.ReadTimeout):
                    url = httpx.URL(f"{server.url}/v1/chat/completions")
                    await client.post_prepared(client.prepare_json(url, {}, {}))
            finally:
                await client.aclose()

    try:
        asyncio.run(main())
    finally:
        get_settings.cache_clear()
