"""A fake Bedrock ConverseStream endpoint: real ``application/vnd.amazon.eventstream`` framing, so a
real boto3 client (``endpoint_url`` pointed here) parses it with botocore's own EventStream.

``POST /model/{model}/converse-stream`` answers with the events queued in ``FakeBedrock.events``
(frames built with ``event()`` and ``exception()``), sleeping ``delay`` seconds before each, and
then, if ``endless``, text deltas until the client hangs up.
"""

from __future__ import annotations

import asyncio
import json
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fakes.anthropic_server import serving
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

STRING = 7  # event stream header value type


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return bytes([len(raw_name)]) + raw_name + bytes([STRING]) + struct.pack(">H", len(raw_value)) + raw_value


def encode_message(headers: dict[str, str], payload: dict[str, Any]) -> bytes:
    """One event stream message: prelude (lengths and CRC), headers, payload, message CRC."""
    head = b"".join(_header(k, v) for k, v in headers.items())
    body = json.dumps(payload).encode()
    total = 12 + len(head) + len(body) + 4
    prelude = struct.pack(">II", total, len(head))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + head + body
    return message + struct.pack(">I", zlib.crc32(message))


def event(name: str, payload: dict[str, Any]) -> bytes:
    headers = {":event-type": name, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, payload)


def exception(name: str, message: str) -> bytes:
    headers = {":exception-type": name, ":content-type": "application/json", ":message-type": "exception"}
    return encode_message(headers, {"message": message})


# A ConverseStream answer: a text block, then a tool call (get_weather for Paris), and usage.
TOOL_CALL_FRAMES = [
    event("messageStart", {"role": "assistant"}),
    event("contentBlockDelta", {"delta": {"text": "Checking."}, "contentBlockIndex": 0}),
    event("contentBlockStop", {"contentBlockIndex": 0}),
    event(
        "contentBlockStart",
        {"start": {"toolUse": {"toolUseId": "tu_9", "name": "get_weather"}}, "contentBlockIndex": 1},
    ),
    event("contentBlockDelta", {"delta": {"toolUse": {"input": '{"city":"Paris"}'}}, "contentBlockIndex": 1}),
    event("contentBlockStop", {"contentBlockIndex": 1}),
    event("messageStop", {"stopReason": "tool_use"}),
    event(
        "metadata",
        {"usage": {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13}, "metrics": {"latencyMs": 5}},
    ),
]


@dataclass
class FakeBedrock:
    frames: list[bytes] = field(default_factory=list)
    delay: float = 0.0
    endless: bool = False
    bodies: list[dict[str, Any]] = field(default_factory=list)
    ended: list[bool] = field(default_factory=list)  # one entry per response whose body ended

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/model/{model:path}/converse-stream", self._stream, methods=["POST"])]
        )

    @contextmanager
    def serve(self) -> Iterator[str]:
        with serving(self.app()) as port:
            yield f"http://127.0.0.1:{port}"

    async def _stream(self, request: Request) -> Response:
        self.bodies.append(await request.json())
        return StreamingResponse(self._frames(request), media_type="application/vnd.amazon.eventstream")

    async def _frames(self, request: Request) -> AsyncIterator[bytes]:
        try:
            for frame in self.frames:
                await asyncio.sleep(self.delay)
                yield frame
            index = 0
            while self.endless and not await request.is_disconnected():
                await asyncio.sleep(self.delay)
                index += 1
                yield event("contentBlockDelta", {"delta": {"text": f" {index}"}, "contentBlockIndex": 0})
        finally:
            self.ended.append(True)
