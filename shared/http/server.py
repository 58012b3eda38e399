"""The HTTP server of the chat-shaped functions: uvicorn, with one socket write per response burst.

uvicorn writes a response's status line and headers with one ``transport.write`` and each body
message with another, so a JSON answer costs two ``send`` system calls and a streamed one an extra
send before its first frame. On a loopback or a Lambda Web Adapter connection each send also pays
for waking the reader. ``CoalescingTransport`` keeps what is written during one turn of the event
loop and hands it to the socket at the end of that turn, in one ``writelines`` (one ``writev``):
the head and a body sent together leave together, and nothing waits longer than the current turn.

Deployed, ``functions/*/run.sh`` starts ``python -m shared.http.server app:app``; the local stack
and ``make bench`` use ``protocol()`` with their own uvicorn ``Config``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any


class CoalescingTransport(asyncio.Transport):
    """A transport that writes what one loop turn produced in one call; everything else is the
    wrapped transport's (flow control, closing, extra info)."""

    def __init__(self, inner: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._inner = inner
        self._loop = loop
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._scheduled: asyncio.Handle | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self._pending.append(bytes(data))
        self._pending_size += len(data)
        if self._scheduled is None:
            self._scheduled = self._loop.call_soon(self._flush)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def _flush(self) -> None:
        self._scheduled = None
        pending, self._pending, self._pending_size = self._pending, [], 0
        if len(pending) == 1:
            self._inner.write(pending[0])
        elif pending:
            self._inner.writelines(pending)

    def flush_now(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._flush()

    def close(self) -> None:
        self.flush_now()  # a response ending with ``Connection: close`` still goes out whole
        self._inner.close()

    def write_eof(self) -> None:
        self.flush_now()
        self._inner.write_eof()

    def abort(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        self._pending, self._pending_size = [], 0
        self._inner.abort()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size() + self._pending_size

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
    """uvicorn's httptools protocol on a ``CoalescingTransport`` (uvicorn's ``Config(http=...)``)."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class CoalescingHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(CoalescingTransport(transport, self.loop))

    return CoalescingHttpToolsProtocol


def main(argv: list[str] | None = None) -> None:
    """``python -m shared.http.server [--host H] [--port P] module:app`` (the functions' run.sh)."""
    parser = argparse.ArgumentParser(prog="python -m shared.http.server", description=__doc__)
    parser.add_argument("app", help="the ASGI application, as module:attribute")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    args = parser.parse_args(argv)
    import uvicorn

    uvicorn.run(args.app, host=args.host, port=args.port, http=protocol(), access_log=False)


if __name__ == "__main__":
    main()
