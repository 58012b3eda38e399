"""H1Transport (the upstream client's httpx transport) against scripted HTTP servers on loopback.

Each server answers every request on a connection with the next answer of its script: bytes to
write, pauses between them, or a close. The requests it read are kept for the assertions.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from fakes.scripted_http import CHUNKED_HEAD, Answer, Server, chunk, ok, serving

from shared.adapters import h1
from shared.providers import h1_transport
from shared.providers.h1_transport import H1Transport


def run(test: Callable[[httpx.AsyncClient], Awaitable[None]], timeout: float = 5.0) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(transport=H1Transport(), timeout=timeout) as client:
            await test(client)

    asyncio.run(main())


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
