"""A streaming response whose frames, when several are ready at once, leave in one write.

Starlette's ``StreamingResponse`` sends every chunk the body yields as its own ASGI message: one
socket write per SSE frame, about a quarter of the gateway's CPU per streamed chunk when an
upstream delivers several chunks in one read (docs/BENCHMARKS.md). Here the body's frames go into
a buffer, and a writer task sends what has accumulated each time it runs, which is when the body
waits for the upstream again: a burst read from the upstream becomes one write to the client, a
chunk that arrives alone still leaves at once. The body itself still runs in the request's task,
so a client disconnect cancels it (and the upstream call) exactly as before.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.responses import StreamingResponse
from starlette.types import Send


class _Writer:
    def __init__(self, send: Send) -> None:
        self._send = send
        self._buffer = bytearray()
        self._ready = asyncio.Event()
        self._ending = False
        self._task = asyncio.create_task(self._run())

    def write(self, chunk: bytes | memoryview) -> None:
        self._buffer += chunk
        self._ready.set()

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            if self._buffer:
                body = bytes(self._buffer)
                self._buffer.clear()
                await self._send({"type": "http.response.body", "body": body, "more_body": True})
            if self._ending and not self._buffer:
                return

    async def finish(self) -> None:
        """Everything written goes out, then the end of the body."""
        self._ending = True
        self._ready.set()
        await self._task
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def abandon(self) -> None:
        if not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class SseResponse(StreamingResponse):
    """``text/event-stream`` with coalesced writes (the body yields bytes)."""

    media_type = "text/event-stream"

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        writer = _Writer(send)
        try:
            async for chunk in self.body_iterator:
                writer.write(chunk if isinstance(chunk, bytes | memoryview) else chunk.encode(self.charset))
            await writer.finish()
        finally:
            await writer.abandon()
