"""A minimal HTTP server that answers AWS JSON calls after ``--delay-ms``, in its own process.

It stands in for nothing, and costs next to no CPU:
- ``bench.aws_client`` times the same client call answered at once and answered after a pause, so
  that what the pause itself costs the caller is measured apart from the call's own work;
- ``make bench`` and ``bench.ttfb_steps`` send the chat request path's calls to it ("AWS after a
  pause"): a real wait and a real exchange over a socket, as with DynamoDB and SQS, without
  moto's CPU on the same two cores.

Each call gets the answer ``bench/aws_answers.py`` gives its ``X-Amz-Target`` (``{}`` for any
other). ``python -m bench.responder --port P [--delay-ms D]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from typing import cast

import httptools

from bench.aws_answers import TARGETS, answer

HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n"
    b"x-amzn-requestid: bench\r\ncontent-length: %d\r\n\r\n"
)


class Answering(asyncio.Protocol):
    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.target = ""
        self.body = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_message_begin(self) -> None:
        self.target, self.body = "", bytearray()

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"x-amz-target":
            self.target = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        assert self.transport is not None
        operation = TARGETS.get(self.target, "")
        content = json.dumps(answer(operation, json.loads(self.body) if operation else {})).encode()
        response = HEAD % len(content) + content
        if self.delay_s:
            asyncio.get_running_loop().call_later(self.delay_s, self.transport.write, response)
        else:
            self.transport.write(response)


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
