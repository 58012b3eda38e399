"""The shared upstream client (shared/providers/upstream_client.py) over the H1 transport: what its
prepared requests put on the wire, its connection reuse, its timeouts, and that it keeps no cookies."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fakes.scripted_http import CHUNKED_HEAD, Answer, Server, chunk, ok, serving


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
        answers: tuple[Answer, ...] = [ok(b'{"a":1}', b"set-cookie: s=1")], [stream], [ok(b'{"b":2}')]
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
