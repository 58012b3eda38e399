"""shared/http/server.py: a request that uvicorn's HTTP parser refuses gets the 400 every other bad
input gets, JSON in the path's wire format with an ``X-Request-Id``, from a real uvicorn server on a
loopback port (the app never sees such a request)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.http.server import protocol, server_class

SEEN: list[str] = []


async def answer(request: Request) -> Response:
    SEEN.append(request.url.path)
    return JSONResponse({"ok": True})


APP = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


async def exchange(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw`` to a fresh server; the status, headers and body of what comes back."""
    import uvicorn

    config = uvicorn.Config(APP, port=0, http=protocol(), lifespan="off", access_log=False, log_level="error")
    server = server_class()(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(raw)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), timeout=5)  # to the server's close
        writer.close()
    finally:
        server.should_exit = True
        await serving
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
    return int(status_line.split(" ")[1]), headers, body


def refused(raw: bytes) -> Any:
    """The JSON body of the 400 that ``raw`` gets, once its head is checked; an Anthropic-shaped
    body's ``request_id`` must be the response's request id, in both headers."""
    SEEN.clear()
    status, headers, body = asyncio.run(exchange(raw))
    assert status == 400
    assert SEEN == []  # the parser refused it: no app ever ran
    assert headers["content-type"] == "application/json"
    assert len(headers["x-request-id"]) == 32
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    answer = json.loads(body)
    if answer.get("type") == "error":
        assert headers["request-id"] == headers["x-request-id"] == answer.pop("request_id")
    else:
        assert "request-id" not in headers
    return answer


OPENAI_400 = {
    "error": {
        "message": "Invalid HTTP request received.",
        "type": "invalid_request_error",
        "code": "invalid_request",
        "param": None,
    }
}


@pytest.mark.parametrize(
    "header",
    [b"content-length: bJ", b"CRRE15sC-!8;: x", b"x-bad: a\x01b"],
    ids=["content-length not a number", "a separator in a header name", "a control byte in a value"],
)
def test_a_request_the_parser_refuses_is_a_json_400_with_a_request_id(header: bytes) -> None:
    raw = b"POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\n" + header + b"\r\n\r\n{}"

    body = refused(raw)

    assert body == OPENAI_400


def test_on_a_messages_path_it_is_in_anthropics_shape() -> None:
    raw = b"POST /api/v1/messages?beta=true HTTP/1.1\r\nhost: gateway\r\ncontent-length: x\r\n\r\n{}"

    body = refused(raw)

    assert body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "Invalid HTTP request received."},
    }


def test_a_request_line_that_is_not_http_gets_the_openai_shape() -> None:
    body = refused(b"NOT A REQUEST\r\n\r\n")

    assert body == OPENAI_400


def test_a_well_formed_request_still_reaches_the_app() -> None:
    SEEN.clear()
    status, _, body = asyncio.run(
        exchange(b"GET /v1/models HTTP/1.1\r\nhost: gateway\r\nconnection: close\r\n\r\n")
    )

    assert (status, json.loads(body), SEEN) == (200, {"ok": True}, ["/v1/models"])
