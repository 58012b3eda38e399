"""shared/http/server.py: a response's head reaches the socket with the write after it.

The protocol tests drive uvicorn's real httptools protocol (the one ``protocol()`` returns) over a
recording transport, as uvicorn's own tests do, and count the calls that reach it: each would be
one ``send`` or ``writev`` on the socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.chat.sse import FLUSH
from shared.http.server import HeadJoiningTransport, protocol
from shared.http.sse_response import SseResponse


class Recording(asyncio.Transport):
    """The socket side: every call that would be one ``send``/``writev``."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[bytes] = []
        self.events: list[str] = []
        self.closed = False
        self.buffered = 0

    def write(self, data: Any) -> None:
        self.calls.append(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        self.calls.append(b"".join(bytes(d) for d in list_of_data))

    def close(self) -> None:
        self.events.append(f"close after {len(self.calls)} calls")
        self.closed = True

    def abort(self) -> None:
        self.events.append("abort")
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        self.events.append("pause_reading")

    def resume_reading(self) -> None:
        pass


def test_a_head_leaves_with_the_next_write_and_other_writes_at_once() -> None:
    async def run() -> list[list[bytes]]:
        inner = Recording()
        transport = HeadJoiningTransport(inner, asyncio.get_running_loop())
        seen = []
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"")  # nothing to send is not a call
        seen.append(list(inner.calls))  # the head waits for the body
        transport.write(memoryview(b"body"))
        seen.append(list(inner.calls))  # head and body in one call, at once
        transport.write(b"frame")
        seen.append(list(inner.calls))  # a body write goes straight through
        transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await asyncio.sleep(0)
        seen.append(list(inner.calls))  # a head alone leaves at the end of the turn
        return seen

    head, body = b"HTTP/1.1 200 OK\r\n\r\n", b"body"
    assert asyncio.run(run()) == [
        [],
        [head + body],
        [head + body, b"frame"],
        [head + body, b"frame", b"HTTP/1.1 204 No Content\r\n\r\n"],
    ]


def test_close_sends_a_held_head_first_and_abort_drops_it() -> None:
    async def run() -> tuple[Recording, Recording, int]:
        loop = asyncio.get_running_loop()
        closed, aborted = Recording(), Recording()
        first = HeadJoiningTransport(closed, loop)
        first.write(b"HTTP/1.1 500 Internal Server Error\r\nconnection: close\r\n\r\n")
        first.close()
        second = HeadJoiningTransport(aborted, loop)
        aborted.buffered = 5
        second.write(b"HTTP/1.1 200 OK\r\n\r\n")
        size = second.get_write_buffer_size()
        second.abort()
        await asyncio.sleep(0.01)  # a flush left scheduled would run here
        return closed, aborted, size

    closed, aborted, size = asyncio.run(run())
    assert len(closed.calls) == 1 and closed.events == ["close after 1 calls"]
    assert aborted.calls == [] and aborted.events == ["abort"]
    assert size == 5 + 19, "a held head counts towards the write buffer (flow control)"


def test_flow_control_and_extra_info_are_the_sockets() -> None:
    async def run() -> tuple[Any, list[str]]:
        inner = Recording()
        transport = HeadJoiningTransport(inner, asyncio.get_running_loop())
        transport.pause_reading()
        return transport.get_extra_info("peername"), inner.events

    assert asyncio.run(run()) == (("127.0.0.1", 50000), ["pause_reading"])


def serve_one(app: Any, request: bytes, socket: Recording | None = None) -> list[bytes]:
    """One request through uvicorn's protocol (``protocol()``) to the end of its response."""
    import uvicorn
    from uvicorn.server import ServerState

    async def run() -> list[bytes]:
        config = uvicorn.Config(app, http=protocol(), lifespan="off", access_log=False, log_level="warning")
        config.load()
        proto = config.http_protocol_class(config=config, server_state=ServerState(), app_state={})  # type: ignore[call-arg]
        inner = socket or Recording()
        proto.connection_made(inner)
        proto.data_received(request)
        for _ in range(200):
            await asyncio.sleep(0.005)
            if inner.calls and inner.calls[-1].endswith((b"0\r\n\r\n", b"}")):
                break
        await asyncio.sleep(0.01)
        proto.connection_lost(None)
        return inner.calls

    return asyncio.run(run())


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nhost: gateway\r\n\r\n".encode()


def test_a_json_answer_is_one_write() -> None:
    async def answer(request: Request) -> Response:
        return JSONResponse({"ok": True})

    calls = serve_one(Starlette(routes=[Route("/", answer)]), get("/"))

    assert len(calls) == 1
    assert calls[0].startswith(b"HTTP/1.1 200 OK\r\n") and calls[0].endswith(b'\r\n\r\n{"ok":true}')


def test_a_stream_s_head_and_first_frames_are_one_write() -> None:
    async def frames() -> AsyncIterator[bytes]:
        yield b"data: first\n\n"
        yield FLUSH
        await asyncio.sleep(0.02)
        yield b"data: second\n\n"

    async def stream(request: Request) -> Response:
        return SseResponse(frames())

    calls = serve_one(Starlette(routes=[Route("/", stream)]), get("/"))

    assert len(calls) == 3, calls
    assert calls[0].startswith(b"HTTP/1.1 200 OK\r\n") and calls[0].endswith(
        b"\r\n\r\nd\r\ndata: first\n\n\r\n"
    )
    assert calls[1:] == [b"e\r\ndata: second\n\n\r\n", b"0\r\n\r\n"]


def test_a_stream_waiting_for_its_upstream_sends_nothing_then_head_and_frame_together() -> None:
    socket = Recording()
    sent_while_waiting: list[list[bytes]] = []

    async def frames() -> AsyncIterator[bytes]:
        await asyncio.sleep(0.05)  # the upstream's first token is slow
        sent_while_waiting.append(list(socket.calls))
        yield b"data: late\n\n"

    async def stream(request: Request) -> Response:
        return SseResponse(frames())

    calls = serve_one(Starlette(routes=[Route("/", stream)]), get("/"), socket)

    assert sent_while_waiting == [[]]
    assert calls[0].startswith(b"HTTP/1.1 200 OK\r\n") and calls[0].endswith(
        b"\r\n\r\nc\r\ndata: late\n\n\r\n"
    )
    assert calls[1:] == [b"0\r\n\r\n"]


def _ticking_server(monkeypatch, tick_s: float) -> tuple[Any, list[int]]:
    """A ``SecondTickServer`` whose ticks are recorded (uvicorn's own ``on_tick`` still runs)."""
    import uvicorn

    from shared.http import server as server_module

    monkeypatch.setattr(server_module, "TICK_S", tick_s)
    server = server_module.server_class()(uvicorn.Config(Starlette(), lifespan="off"))
    server.config.load()
    ticks: list[int] = []
    on_tick = server.on_tick

    async def recorded(counter: int) -> bool:
        ticks.append(counter)
        return await on_tick(counter)

    monkeypatch.setattr(server, "on_tick", recorded)
    return server, ticks


def test_the_housekeeping_loop_wakes_once_a_tick_and_refreshes_the_date_each_time(monkeypatch) -> None:
    server, ticks = _ticking_server(monkeypatch, 0.02)

    async def three_ticks() -> None:
        loop = asyncio.create_task(server.main_loop())
        while len(ticks) < 3:
            await asyncio.sleep(0.005)
        server.should_exit = True
        await asyncio.wait_for(loop, 5)

    asyncio.run(three_ticks())
    # uvicorn's on_tick refreshes the Date header when counter % 10 == 0: every one of our ticks.
    assert ticks[:3] == [0, 10, 20]
    assert any(name == b"date" for name, _ in server.server_state.default_headers)


def test_a_shutdown_signal_ends_the_loop_without_waiting_for_the_next_tick(monkeypatch) -> None:
    import signal

    server, ticks = _ticking_server(monkeypatch, 3600.0)

    async def stop_during_a_tick() -> None:
        loop = asyncio.create_task(server.main_loop())
        while not ticks:
            await asyncio.sleep(0.005)
        server.handle_exit(signal.SIGTERM, None)
        await asyncio.wait_for(loop, 10)  # an hour's tick: only the wake-up can end it in time

    asyncio.run(stop_during_a_tick())
    assert ticks == [0, 10]
