"""A minimal HTTP server for ``bench.aws_client``: every request gets ``{}`` after ``--delay-ms``.

It stands in for nothing: it lets the benchmark time the same client call answered at once and
answered after a pause, so that what the pause itself costs the caller is measured apart from the
call's own work. ``python -m bench.responder --port P [--delay-ms D]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import cast

import httptools

ANSWER = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n"
    b"x-amzn-requestid: bench\r\ncontent-length: 2\r\n\r\n{}"
)


class Answering(asyncio.Protocol):
    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_message_complete(self) -> None:
        assert self.transport is not None
        if self.delay_s:
            asyncio.get_running_loop().call_later(self.delay_s, self.transport.write, ANSWER)
        else:
            self.transport.write(ANSWER)


async def serve(port: int, delay_s: float) -> None:
    server = await asyncio.get_running_loop().create_server(lambda: Answering(delay_s), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.delay_ms / 1000))


if __name__ == "__main__":
    main()
