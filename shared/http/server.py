"""The HTTP server of the chat-shaped functions: uvicorn, with a response's head and first body
bytes in one socket write.

uvicorn writes a response's status line and headers with one ``transport.write`` and each body
message with another, and the event loop sends each at once: a JSON answer costs two ``send``
system calls, and a stream one more before its first frame. On a loopback or a Lambda Web Adapter
connection each send also pays for waking the reader. ``HeadJoiningTransport`` holds the head
(uvicorn writes it alone, starting ``HTTP/1.1 ``) until the next write, which normally comes in the
same step (a JSON body; a stream's first frames, which ``SseResponse`` sends with its start), and
sends both in one ``writelines`` (one ``writev``). A head with nothing after it in the same loop
turn goes out at the end of that turn. Every other write goes straight through: holding body
writes to the end of a turn delayed a stream's frames behind the next burst's translation.

A request the HTTP parser refuses (a malformed header, a Content-Length that is not a number) is
answered as the app answers any bad input: a JSON 400 in the path's wire format, with an
``X-Request-Id`` (uvicorn's own answer is ``text/plain``, without one).

``SecondTickServer`` is uvicorn's server with its housekeeping loop waking once a second (at each
whole second, when the ``Date`` header changes) instead of ten times, and at once on a shutdown
signal: each wake costs 0.2-0.35 ms of CPU on this project's machine (docs/BENCHMARKS.md).

``serve()`` imports the app before the server starts and then freezes every object alive
(``gc.freeze``): the modules, the app and what they built at import live as long as the process,
and a full collection no longer walks them (after importing the chat handler: 55,000 objects, 33
ms a collection, 5 of them garbage; docs/BENCHMARKS.md, change 30). Garbage frozen is never
freed, so a caller that made some before serving collects first (``collect_first``: the local
stack's seeding leaves 34,500 objects, about 10 MB); a function's import makes next to none, and
its cold start does not pay for the collection.

Deployed, ``functions/*/run.sh`` starts ``python -m shared.http.server app:app``; the local stack
and ``make bench`` use ``protocol()`` and ``serve()`` with their own uvicorn ``Config``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import time
from collections.abc import Callable
from typing import Any


class HeadJoiningTransport(asyncio.Transport):
    """A transport that sends a response's head with the write after it; everything else is the
    wrapped transport's (flow control, closing, extra info)."""

    def __init__(self, inner: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._inner = inner
        self._loop = loop
        self._head: bytes | None = None
        self._scheduled: asyncio.Handle | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if self._head is not None:
            head = self._head
            self._forget_head()
            self._inner.writelines([head, data])
        elif bytes(data[:9]) == b"HTTP/1.1 ":
            self._head = bytes(data)
            self._scheduled = self._loop.call_soon(self.flush)
        else:
            self._inner.write(data)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def _forget_head(self) -> None:
        self._head = None
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None

    def flush(self) -> None:
        """Send a held head now."""
        head = self._head
        self._forget_head()
        if head is not None:
            self._inner.write(head)

    def close(self) -> None:
        self.flush()  # a response ending with ``Connection: close`` still goes out whole
        self._inner.close()

    def write_eof(self) -> None:
        self.flush()
        self._inner.write_eof()

    def abort(self) -> None:
        self._forget_head()
        self._inner.abort()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size() + (len(self._head) if self._head is not None else 0)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._inner.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._inner.get_extra_info(name, default)

    def is_reading(self) -> bool:
        return self._inner.is_reading()

    def pause_reading(self) -> None:
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        self._inner.resume_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._inner.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._inner.get_protocol()


def protocol() -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol on a ``HeadJoiningTransport`` (uvicorn's ``Config(http=...)``),
    answering a request its parser refuses as the app answers any bad input."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HeadJoiningHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(HeadJoiningTransport(transport, self.loop))

        def send_400_response(self, msg: str) -> None:
            path = getattr(self, "url", b"").partition(b"?")[0].decode("latin-1")
            self.transport.write(unparsable_request_answer(msg, path, self.server_state.default_headers))
            self.transport.close()

    return HeadJoiningHttpToolsProtocol


def unparsable_request_answer(message: str, path: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """The whole response to a request the HTTP parser refused (a malformed header, a Content-Length
    that is not a number): uvicorn answers ``text/plain`` without a request id; here it is the
    JSON error of the path's wire format, with an ``X-Request-Id`` (the app never saw the request,
    so the id is new), and the connection closes as uvicorn's does."""
    import uuid

    from shared import json_codec
    from shared.errors import InvalidRequest
    from shared.http.error_render import ErrorFormat, error_body, format_for_path

    rid = uuid.uuid4().hex
    fmt = format_for_path(path)
    body = json_codec.dumps(error_body(InvalidRequest(message), fmt, rid))
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    head += [
        b"content-type: application/json\r\n",
        b"content-length: %d\r\n" % len(body),
        b"x-request-id: " + rid.encode() + b"\r\n",
        *([b"request-id: " + rid.encode() + b"\r\n"] if fmt is ErrorFormat.ANTHROPIC else []),
        b"connection: close\r\n\r\n",
    ]
    return b"".join(head) + body


TICK_S = 1.0


def server_class() -> type[Any]:
    """``SecondTickServer`` (built on first use: uvicorn is imported here, not with the module)."""
    import uvicorn

    class SecondTickServer(uvicorn.Server):
        _loop: asyncio.AbstractEventLoop | None = None
        _waiter: asyncio.Future[None] | None = None
        on_ready: Callable[[], None] | None = None

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started and self.on_ready is not None:
                self.on_ready()  # the port is listening

        async def main_loop(self) -> None:
            self._loop = loop = asyncio.get_running_loop()
            counter = 0
            while not await self.on_tick(counter):
                counter = (counter + 10) % 864000  # uvicorn's ticks are tenths: each of ours is a second
                self._waiter = loop.create_future()
                timer = loop.call_later(TICK_S - time.time() % TICK_S, _wake, self._waiter)
                try:
                    await self._waiter
                finally:
                    timer.cancel()

        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            if self._loop is not None and self._waiter is not None:
                self._loop.call_soon_threadsafe(_wake, self._waiter)

    return SecondTickServer


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def serve(config: Any, *, collect_first: bool = False, on_ready: Callable[[], None] | None = None) -> None:
    """Run a uvicorn ``Config`` on ``SecondTickServer`` until a shutdown signal, its app imported
    first and everything then alive frozen out of the garbage collector's reach (after a full
    collection, with ``collect_first``); ``on_ready`` is called once the port is listening."""
    if not config.loaded:
        config.load()
    if collect_first:
        gc.collect()
    gc.freeze()
    server = server_class()(config)
    server.on_ready = on_ready
    server.run()


def main(argv: list[str] | None = None) -> None:
    """``python -m shared.http.server [--host H] [--port P] module:app`` (the functions' run.sh)."""
    parser = argparse.ArgumentParser(prog="python -m shared.http.server", description=__doc__)
    parser.add_argument("app", help="the ASGI application, as module:attribute")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    args = parser.parse_args(argv)
    import uvicorn

    # proxy_headers off: the caller's address comes from API Gateway's request context
    # (shared/http/context.py), never from a client's X-Forwarded-For.
    config = uvicorn.Config(
        args.app, host=args.host, port=args.port, http=protocol(), access_log=False, proxy_headers=False
    )
    serve(config)


if __name__ == "__main__":
    main()
